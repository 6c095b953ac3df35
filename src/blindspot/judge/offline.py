"""The offline judge: deterministic, explainable rules over the text. The default backend.

It needs no network and no model, and every verdict says which rules fired, so it is a
transparent floor to compare an LLM judge against, never an oracle. Its agreement with
the gold labels (``metrics/judge.json``) says how far it can be trusted.

Rules
-----
sentiment
    A small hand-written lexicon of evaluative words and phrases, weighted 2 (e.g.
    "saved my life", "worst", "didn't work") or 1 (e.g. "helped", "worse"). A cue
    preceded within three words by a negator (not, no, never, without, hardly, ``n't``)
    counts for the other side with weight 1 ("not great" is negative evidence, "no
    nausea" positive). With ``pos`` and ``neg`` the weighted evidence and
    ``r = (pos - neg) / (pos + neg)``: positive when ``r >= 1/3``, negative when
    ``r <= -1/3``, otherwise neutral (balanced evidence); neutral too when there is no
    evidence. Label words ("positive", "negative") are not in the lexicon, so a review
    that asks to be read as "positive" gains nothing by it.
    Confidence: ``0.5 + 0.45 * |r| * min(pos + neg, 6) / 6`` for a polar reading,
    0.4 for balanced evidence, 0.3 for none; times 0.8 when a sarcasm cue is present
    (the literal reading may be the wrong one).
sarcasm
    :func:`blindspot.text_features.sarcasm_cues`. The reading stays literal.
mixed_sentiment
    :func:`blindspot.text_features.mixed_sentiment`, or at least 2 weighted cues on
    each side.
register
    ``technical`` when :func:`blindspot.text_features.jargon_density` >=
    ``judge.offline.technical_jargon_density``.
gold_label_wrong
    Only when the reading is polar, its confidence >= ``judge.offline.gold_wrong_confidence``,
    there is no sarcasm cue and no mixed reading, and the gold label is the opposite
    polarity. A neutral gold label is never called wrong (neutral is a band of ratings
    the text rarely pins down).

Caching: offline replies go through the same cache as any backend (a re-run makes zero
rule evaluations, which is how the pipeline shows its cache works with no network).
The ``model`` part of the cache key is a hash of this file, of
:mod:`blindspot.text_features` with its lexicon, and of the ``judge.offline`` settings,
so a change to any rule can never reuse a stale verdict.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from blindspot import text_features
from blindspot.config import JudgeOfflineConfig
from blindspot.judge.checks import POLARITIES, resolve_polarity
from blindspot.judge.protocol import ABSTAINED, JudgeRequest, Reply

RULES_VERSION = "rules_v1"

# (weight, pattern) on lower-cased text with curly apostrophes folded.
POSITIVE_CUES = (
    (2, r"saved my life|life ?saver|miracle|wonder drug|works wonders|worked wonders|godsend|god send"),
    (2, r"highly recommend|would recommend|definitely recommend|i recommend|recommend (?:it|this)"),
    (2, r"works great|worked great|works well|worked well|works perfectly|worked perfectly"),
    (2, r"best (?:medication|medicine|drug|pill|thing|decision|birth control)|love (?:it|this)"),
    (2, r"amazing|excellent|fantastic|awesome|wonderful|life changing|life-changing"),
    (2, r"no side effects|no side-effects|feel (?:like myself|normal|great|amazing|so much better)"),
    (1, r"great|good|helped|helps|helpful|works|worked|effective|relief|relieved|recommend"),
    (1, r"better|happy|glad|grateful|thankful|improved|improvement|love|loved|perfect|pleased"),
    (1, r"satisfied|cleared|calm|calmer|easy|stable"),
)
NEGATIVE_CUES = (
    (2, r"worst|horrible|terrible|awful|nightmare|hell|unbearable|excruciating"),
    (2, r"didn't work|did not work|doesn't work|does not work|stopped working|not working|never worked"),
    (2, r"didn't help|did not help|doesn't help|does not help|not helping|no help|never helped"),
    (2, r"do not take|don't take|stay away|never again|waste of (?:money|time)|not worth"),
    (2, r"made (?:me|it|things|everything) worse|would not recommend|wouldn't recommend|do not recommend|don't recommend"),
    (1, r"worse|bad|hate|hated|miserable|disappointed|disappointing|useless|regret|scary|severe"),
    (1, r"stopped taking|quit taking|came off|taken off|switched|nausea|vomiting|suicidal|insomnia"),
)
_NEGATOR = r"(?:\bnot|\bno|\bnever|\bwithout|\bhardly|n't)"
# A cue counts as negated when a negator precedes it within three words of the same
# clause (spaces only in between: punctuation ends the scope) and that negator is not
# itself part of another cue ("did not work and made me worse": "worse" is not negated).
_NEGATED_BEFORE = re.compile(_NEGATOR + r"(?:[ \t]+[\w']+){0,2}?[ \t]+\Z")


def _compile(cues, polarity):
    return [(polarity, weight, re.compile(r"\b(?:" + pattern + r")\b")) for weight, pattern in cues]


# One priority order over both polarities, so a phrase is counted once, by its longest
# reading: "would not recommend" is one negative cue, not a negated "recommend" as well.
_STRONG = [c for c in _compile(NEGATIVE_CUES, "neg") + _compile(POSITIVE_CUES, "pos") if c[1] == 2]
_WEAK = [c for c in _compile(POSITIVE_CUES, "pos") + _compile(NEGATIVE_CUES, "neg") if c[1] == 1]
_CUES = _STRONG + _WEAK


# ``judge.offline`` in params.yaml: the typed config section is the rules' settings.
OfflineSettings = JudgeOfflineConfig


def _normalise(text: str) -> str:
    return text.lower().replace("\u2019", "'")


def _hits(low: str) -> list[tuple[str, int, str, bool]]:
    """(polarity, weight, matched text, negated) for each non-overlapping cue, in priority order."""
    taken = np.zeros(len(low) + 1, dtype=bool)
    spans = []
    for polarity, weight, pattern in _CUES:
        for match in pattern.finditer(low):
            start, end = match.span()
            if taken[start:end].any():
                continue  # "works great" already counted: its "works" and "great" are not counted again
            taken[start:end] = True
            spans.append((polarity, weight, start, end))
    # Blank out every cue before looking for negators, so one cue's "not" negates no other.
    chars = np.array(list(low) + [" "], dtype="<U1")
    chars[taken] = "_"
    masked = "".join(chars.tolist())
    found = []
    for polarity, weight, start, end in spans:
        negated = _NEGATED_BEFORE.search(masked, max(0, start - 40), start) is not None
        found.append((polarity, weight, low[start:end], negated))
    return found


def read_sentiment(text: str) -> dict:
    """The lexicon reading of one text (see module docstring).

    Returns
    -------
    dict
        ``pos``, ``neg`` (weighted evidence), ``reading`` (negative | neutral | positive),
        ``confidence``, ``pos_cues``, ``neg_cues`` (matched text, negated ones marked "not ...").
    """
    low = _normalise(text)
    pos = neg = 0
    pos_cues, neg_cues = [], []
    for polarity, weight, cue, negated in _hits(low):
        if negated:  # a negated cue is weak evidence for the other side
            polarity, weight, cue = ("neg" if polarity == "pos" else "pos"), 1, f"not {cue}"
        if polarity == "pos":
            pos += weight
            pos_cues.append(cue)
        else:
            neg += weight
            neg_cues.append(cue)
    evidence = pos + neg
    if evidence == 0:
        reading, confidence = "neutral", 0.3
    else:
        r = (pos - neg) / evidence
        if abs(r) >= 1 / 3:
            reading = "positive" if r > 0 else "negative"
            confidence = 0.5 + 0.45 * abs(r) * min(evidence, 6) / 6
        else:
            reading, confidence = "neutral", 0.4
    return {"pos": pos, "neg": neg, "reading": reading, "confidence": confidence,
            "pos_cues": pos_cues, "neg_cues": neg_cues}


def _quote(cues: list[str], k: int = 3) -> str:
    shown = ", ".join(f"'{c}'" for c in cues[:k])
    return shown + (f" and {len(cues) - k} more" if len(cues) > k else "")


def rules_fingerprint(settings: OfflineSettings) -> str:
    """Hash of the rule sources and settings: the offline judge's ``model`` in the cache key."""
    digest = hashlib.sha256()
    digest.update(Path(__file__).read_bytes())
    digest.update(Path(text_features.__file__).read_bytes())
    digest.update("\n".join(text_features.load_lexicon()).encode("utf-8"))
    digest.update(json.dumps(asdict(settings), sort_keys=True).encode("utf-8"))
    return f"{RULES_VERSION}@{digest.hexdigest()[:12]}"


class OfflineJudge:
    """Deterministic rule-based backend (see module docstring).

    Parameters
    ----------
    classes : sequence of str
        ``ingest.classes``. The rules read negative / neutral / positive: classes so
        named (any case) map themselves, other names through ``judge.offline.polarity``
        (or ``class_polarity``). Without a map the judge abstains on every row, with the
        reason (:func:`blindspot.judge.checks.resolve_polarity`): it never stops the run.
    settings : OfflineSettings

    Raises
    ------
    ConfigError
        A polarity map that does not fit ``classes``.
    """

    name = "offline"
    concurrency = 1

    def __init__(self, classes: Sequence[str], settings: OfflineSettings | None = None):
        settings = settings or OfflineSettings()
        polarity, self.abstain_reason = resolve_polarity(settings, classes)  # ConfigError for a bad map
        polarity = polarity or {}
        self.classes = tuple(classes)
        # The rules think in polarities; requests and verdicts speak class names.
        self._polarity = polarity
        self._class_of = {p: c for c, p in polarity.items()}
        self.settings = settings
        self.model = rules_fingerprint(settings)
        self.prompt_version = RULES_VERSION
        self._cues: dict[str, tuple] = {}

    def prepare(self, requests: Sequence[JudgeRequest]) -> None:
        """Compute the text_features cues of every text in one vectorised pass."""
        texts = pd.Series(sorted({r.text for r in requests} - set(self._cues)), dtype="string")
        if len(texts):
            prepared = text_features.prepare(texts)  # one pass shared by the three detectors
            cues = zip(text_features.sarcasm_cues(prepared), text_features.mixed_sentiment(prepared),
                       text_features.jargon_density(prepared))
            for text, (sarcasm, mixed, density) in zip(texts, cues):
                self._cues[text] = (bool(sarcasm), bool(mixed), float(density))

    def verdict(self, request: JudgeRequest) -> dict:
        """The verdict as a plain dict with the keys of the JSON schema."""
        if request.text not in self._cues:
            self.prepare([request])
        sarcasm, mixed_cue, density = self._cues[request.text]
        s = read_sentiment(request.text)
        reading, confidence = s["reading"], s["confidence"]
        label = self._polarity[request.label]
        if reading == "neutral" and "neutral" not in self._class_of:
            # Two-class data: balanced or no evidence still has to pick a side.
            reading = "positive" if s["pos"] >= s["neg"] else "negative"
        if sarcasm:
            confidence *= 0.8
        confidence = round(confidence, 3)
        mixed = bool(mixed_cue or (s["pos"] >= 2 and s["neg"] >= 2))
        register = "technical" if density >= self.settings.technical_jargon_density else "plain"
        opposite = {"positive": "negative", "negative": "positive"}
        wrong = (reading in opposite and label == opposite[reading] and not sarcasm and not mixed
                 and confidence >= self.settings.gold_wrong_confidence)
        side_cues = s["pos_cues"] if reading == "positive" else s["neg_cues"]
        other_cues = s["neg_cues"] if reading == "positive" else s["pos_cues"]
        if wrong:
            reason = (f"The text reads clearly {reading} ({_quote(side_cues)}; "
                      f"{len(other_cues)} opposite cue{'s' if len(other_cues) != 1 else ''}) "
                      f"but is labelled {request.label}.")
        elif reading == label:
            reason = f"The label {request.label} matches the rule-based reading."
        else:
            why = ("a sarcasm cue makes the literal reading unsafe" if sarcasm and reading in opposite else
                   "the feelings are mixed" if mixed else
                   "neutral labels are never called wrong" if label not in opposite else
                   f"the reading is not confident enough ({confidence:.2f})")
            reason = f"The rules read {reading}, not {request.label}, but {why}, so the label is not called wrong."
        rationale = (f"Lexicon evidence {s['pos']} positive ({_quote(s['pos_cues']) or 'none'}) vs {s['neg']} negative "
                     f"({_quote(s['neg_cues']) or 'none'}); sarcasm cue {'yes' if sarcasm else 'no'}; "
                     f"mixed {'yes' if mixed else 'no'}; jargon density {density:.3f} ({register}).")
        return {"sentiment": self._class_of[reading], "sarcasm": "yes" if sarcasm else "no", "mixed_sentiment": "yes" if mixed else "no",
                "register": register, "gold_label_wrong": "yes" if wrong else "no", "gold_label_reason": reason,
                "confidence": confidence, "rationale": rationale}

    def complete(self, request: JudgeRequest) -> Reply:
        """The verdict as JSON text: it goes through the same strict parser as any model's reply.

        Without a polarity map: an abstention (``finish_reason`` ``abstained``, the reason
        as ``refusal``), which the parser records as an ``abstained`` failure.
        """
        if self.abstain_reason is not None:
            reason = self.abstain_reason
            if request.label.strip().lower() not in POLARITIES and "has no polarity" in reason:
                reason = f"class {request.label!r} has no polarity; set judge.offline.polarity"
            return Reply(content=None, refusal=reason, finish_reason=ABSTAINED)
        content = json.dumps(self.verdict(request), ensure_ascii=False, sort_keys=True)
        return Reply(content=content, finish_reason="stop")
