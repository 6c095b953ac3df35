"""Which reviews look like attempts to instruct the LLM judge: a score of signals and a threshold.

The judge never obeys a review (the prompt delimits it as data and the parser enforces the
answer's format), so this detector only *flags and counts*: a reviewer can look at those
verdicts. A false alarm is therefore what costs most here: it tells a reader that an ordinary
patient tried to attack the model. Hence a score rather than a single regular expression:

- each signal is one regular expression over the normalised text (lower case, NFKC, typographic
  quotes made plain, invisible characters removed) with a weight of 1 (*weak*: ordinary reviews
  use it now and then, e.g. "forget ... instructions") or 2 (*strong*: no review has a reason to
  write it, e.g. "ignore the previous instructions", a ``"sentiment":`` key of the judge's answer,
  the prompt's ``<<<REVIEW`` delimiter, a ``system:`` line);
- a text's score is the sum of the weights of the distinct signals it matches;
- a text is flagged when its score reaches :data:`THRESHOLD` (2): one strong signal, or two
  different weak ones. A *near miss* is a text with a score of 1: one weak signal and nothing else.

Measured by ``bench/injection_detector.py`` (``bench/results/injection_detector.json``):

- the 979 bundled reviews (``data/raw/predictions/v1.json``): 0 flagged, 6 near misses;
- the 3,000 UCI sentences (``data/raw/predictions/uci_sentences.jsonl``): 0 flagged, 1 near miss;
- the 52 injection strings of ``tests/data/injections/injections.jsonl``: 52 flagged (recall 1.0);
- the 40 benign near-miss sentences of ``tests/data/injections/benign.jsonl``: 0 flagged;
- 200,000 synthetic reviews (``blindspot.synth --mode null``): 0 flagged, about 0.25 s.

Speed: one pass of the union of all signals over the lower-cased texts finds the few rows that
match anything; only those are normalised and scored signal by signal (rows with non-ASCII
characters are normalised first so that look-alike characters cannot hide a phrase).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

THRESHOLD = 2

# What the prompt answers with and how it delimits the review (prompts/judge_v1.txt): a text
# that speaks this vocabulary is addressing the judge, not describing a medicine.
_CLASS = r"[\"'`]?(?:positive|negative|neutral|mixed)\b"
_KEYS = r"(?:sentiment|sarcasm|mixed_sentiment|register|gold_label_wrong|gold_label_reason|rationale|verdict)"
_OVERRIDE_VERB = r"(?:ignore|disregard|forget|override|bypass|discard|overlook|skip)"
# Not "directions" or "orders": "ignore the previous directions on the box" is patient talk.
_INSTRUCTION_NOUN = (r"(?:instructions?|prompts?|directives?|rules|guidelines|context|messages?|commands?|constraints"
                     r"|text|task)")
_EARLIER = r"(?:previous|prior|preceding|above|earlier|foregoing|former|original|initial|system)"
# Not a bare "model": "you are now a role model" is praise.
_MODEL_NOUN = (r"(?:ai|a\.i\.|assistant|chatbot|bot|(?:language|ai|sentiment)\s+model|llm|gpt|judge|classifier|grader"
               r"|annotator|label+er|evaluator|auditor)")


@dataclass(frozen=True)
class Signal:
    """One cue: ``pattern`` is searched in the normalised text; ``weight`` 1 (weak) or 2 (strong)."""

    name: str
    weight: int
    pattern: str
    meaning: str


SIGNALS: tuple[Signal, ...] = (
    # -- strong (2): no review has a reason to write these --------------------------------------
    Signal("override_earlier_instructions", 2,
           rf"\b{_OVERRIDE_VERB}\s+(?:(?:all|any|each|every)\s+(?:of\s+)?)?(?:the\s+|your\s+|my\s+|these\s+|those\s+)?"
           rf"{_EARLIER}\s+(?:\w+\s+)?{_INSTRUCTION_NOUN}"
           rf"|\b{_OVERRIDE_VERB}\s+(?:everything|all|anything)\s+(?:(?:written\s+|said\s+|stated\s+)?above"
           rf"|(?:written|said|stated)\s+(?:before|previously|so\s+far|earlier)|before\s+this\s+(?:line|point|sentence))",
           "tells the reader to drop the instructions it was given before this text"),
    Signal("override_other_language", 2,
           # A non-English article or quantifier is required, so that English text is left to the signal above.
           r"\b(?:ignor\w*|olvida\w*|oublie\w*|vergiss|dimentica\w*|esque[cç]a\w*)\s+(?:sie\s+)?"
           r"(?:(?:todas|todos|toutes|tous|tutte|alle|as|las|los|les|le|die|sämtliche|ces)\s+)+(?:\w+\s+)?"
           r"(?:instrucciones|instructions|anweisungen|instruktionen|istruzioni|instruções|instrucoes)\b"
           r"|(?:忽略|无视|忽视|忘记|忘掉)(?:之前|以上|上面|先前|前面|所有|全部|一切)"
           r"|(?:以前|前|上記|これまで)の(?:指示|命令|指令)を(?:無視|忘れ)"
           r"|(?:игнорируй|игнорируйте|забудь|забудьте)\s+(?:\pL+\s+){0,2}(?:инструкции|указания)",  # RE2: \b, \w are ASCII
           "the same instruction-override phrase in Spanish, French, German, Italian, Portuguese, Chinese, "
           "Japanese or Russian"),
    Signal("role_marker", 2,
           r"(?:^|\n)[ \t#*>\[(<|_-]*(?:system|assistant|developer)[ \t\])>|*_]*:"
           r"|<\|?(?:im_start|im_end|system|assistant|endoftext|eot_id|start_header_id|end_header_id)\|?>"
           r"|\[/?inst\]|<</?sys>>|</?(?:system|assistant|user|instructions?|prompt|review|data|input)>"
           r"|(?:^|\n)[ \t]*#{1,6}[ \t]*(?:system|instructions?|response|assistant)\b"
           r"|={2,}[ \t]*(?:system|user|assistant)[ \t]*={2,}",
           "a chat role or prompt section marker (system:, <|im_start|>, [INST], <system>, === user ===)"),
    Signal("model_persona", 2,
           rf"\byou\s+are\s+(?:now|no\s+longer|henceforth|from\s+now\s+on)\s+(?:a\s+|an\s+|the\s+|my\s+)?(?:\w+\s+){{0,3}}"
           rf"(?:{_MODEL_NOUN}|in\s+(?:developer|dan|jailbreak|unrestricted|debug|maintenance)\s+mode)\b"
           r"|\byou\s+are\s+(?:a|an|the)\s+(?:\w+\s+){0,2}(?:ai|assistant|chatbot|language\s+model|llm|classifier"
           r"|annotator|label+er|sentiment\s+(?:model|judge|analy[sz]er))\b"
           rf"|\bif\s+you\s+are\s+(?:a|an|the)\s+(?:\w+\s+)?(?:{_MODEL_NOUN}|chatgpt)\b"
           r"|\b(?:developer|dan|jailbreak|unrestricted)\s+mode\b",
           "tells the reader it is an AI, a judge or in a special mode"),
    Signal("answer_schema", 2,
           rf"[\"']{_KEYS}[\"']\s*:",
           "writes a key of the judge's own JSON answer (\"sentiment\":, \"gold_label_wrong\":)"),
    Signal("dictated_answer", 2,
           rf"\b(?:(?:respond|reply|answer)\s+(?:only\s+|just\s+|exactly\s+)?(?:with\s*:?|as\s*:?|:)"
           rf"|(?:output|return|print)\s+(?:only\s+|just\s+|exactly\s+)?(?:with\s*:?|:))\s*"
           rf"(?:the\s+(?:word|label|string|value)\s+)?{_CLASS}"
           rf"|\b(?:sentiment|label|verdict|classification|rating)\s+(?:must|should|has\s+to|needs\s+to)\s+be\s+{_CLASS}"
           rf"|\b(?:set|change|switch|flip|force)\s+(?:the\s+|your\s+)?(?:sentiment|label|verdict|answer|classification)"
           rf"\s+to\s+{_CLASS}"
           r"|\bgold_label|\bdataset\s+label\b",  # not "gold label": a vitamin brand
           "dictates the verdict (respond with \"positive\", the label must be negative) or names the judge's fields"),
    Signal("prompt_delimiter", 2,
           r"<<<\s*/?\s*(?:review|end|data|input|system|user)|\b(?:review|end|data)\b[^<>\n]{0,40}>>>",
           "imitates the <<<REVIEW ...>>> lines that delimit the review in the prompt"),
    Signal("prompt_vocabulary", 2,
           r"\bsystem\s+(?:prompt|message|override|instructions?)\b|\bprompt\s+injection\b|\bjailbreak"
           r"|\b(?:begin|start|end)\s+of\s+(?:the\s+)?(?:new\s+)?(?:system|instructions?|prompt)\b"
           r"|\b(?:begin|end)\s+(?:system|instructions?|prompt)\b",
           "talks about the prompt itself (system prompt, prompt injection, jailbreak, begin instructions)"),
    # -- weak (1): ordinary reviews write these now and then ------------------------------------
    Signal("override_generic", 1,
           rf"\b{_OVERRIDE_VERB}\b[^.!?\n]{{0,40}}\b(?:instructions?|prompts?|rules|messages?|above)\b",
           "an override verb near \"instructions\" or \"above\" (\"forget the instructions on the box\")"),
    Signal("new_instructions", 1,
           r"\b(?:new|updated|real|actual|true|additional|important|hidden|secret)\s+(?:instructions?|directives?|task)"
           r"\s*[:\-]",
           "announces new instructions"),
    Signal("addresses_model", 1,
           rf"\b(?:chatgpt|gpt-?\d|claude|gemini|llama|llm|language\s+model|ai\s+model|ai\s+assistant)\b"
           rf"|\b(?:dear|hey|hi|attention|note\s+to\s+(?:the\s+)?)\s*(?:ai|model|assistant|judge|bot|classifier|grader)\b"
           rf"|\bas\s+an?\s+(?:ai|a\.i\.|language\s+model)\b"
           rf"|\b(?:pretend|act|behave|role-?play)\s+(?:to\s+be|as|like|that\s+you\s+are)\s+(?:a|an|the)?\s*"
           rf"(?:\w+\s+)?{_MODEL_NOUN}\b|\bfrom\s+now\s+on,?\s+you\b",
           "speaks to an AI (dear AI, as a language model, act as a judge, from now on you)"),
    Signal("verdict_words", 1,
           rf"\b(?:sentiment|label|verdict|classification)\s*(?:is|=|:)\s*{_CLASS}"
           rf"|\b(?:classify|label|mark|tag|categori[sz]e)\s+(?:this|it|the\s+review|this\s+review|the\s+text)\s+as\s+"
           rf"{_CLASS}",
           "states a verdict in the judge's words (sentiment: positive, classify this as negative)"),
    Signal("obey_words", 1,
           r"\bdo\s+not\s+(?:follow|obey|listen\s+to)\b|\binstead,?\s+(?:output|answer|respond|say|reply|return|print)\b"
           r"|\b(?:output|print|return)\s+(?:only|exactly|just)\b",
           "tells the reader what not to follow or what to output instead"),
    Signal("markup", 1,
           r"```|<<<|>>>|<!--|\{\{|\}\}|!\[[^\]\n]*\]\(\s*https?://|\{\s*[\"']\w+[\"']\s*:",
           "code fences, angle-bracket runs, template braces, HTML comments, a markdown image or a JSON object"),
    Signal("invisible_characters", 1,
           "[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]",
           "zero-width or bidirectional control characters (may hide text from a human reader)"),
)

_TYPOGRAPHIC = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
                              "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"',
                              "\u00bb": '"', "\u2033": '"', "\uff02": '"', "\uff07": "'"})
_INVISIBLE = re.compile(SIGNALS[-1].pattern)
# Everything any signal could match, in one pass over all rows: only hits are scored signal by signal.
_ANY = "|".join(f"(?:{s.pattern})" for s in SIGNALS)


def _normalise(text: str) -> str:
    """NFKC, plain quotes, lower case, invisible characters removed (they are a signal of their own)."""
    text = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHIC).lower()
    return _INVISIBLE.sub("", text)


def _matches(arr: pa.Array, pattern: str) -> np.ndarray:
    return pc.match_substring_regex(arr, pattern).to_numpy(zero_copy_only=False).astype(bool)


def injection_signals(texts: pd.Series) -> pd.DataFrame:
    """The signals each text matches and its score.

    Parameters
    ----------
    texts : Series of str, shape (n,)
        Missing values count as empty texts.

    Returns
    -------
    DataFrame, shape (n, 2), on ``texts``' index
        ``score`` (int: the sum of the distinct matched signals' weights) and ``signals``
        (tuple of str: the matched signal names, in :data:`SIGNALS` order).
    """
    raw = pc.fill_null(pa.array(texts.astype("string"), from_pandas=True).cast(pa.large_string()), "")
    low = pc.utf8_lower(raw)
    # A non-ASCII row may hide a phrase behind look-alike or invisible characters: normalise it before
    # the screen (NFKC over every row would cost more than the rest of the detector).
    exotic = np.flatnonzero(~pc.string_is_ascii(raw).to_numpy(zero_copy_only=False).astype(bool))
    if len(exotic):
        fixed = low.to_pylist()
        for i in exotic:
            fixed[i] = _normalise(raw[i].as_py())
        low = pa.array(fixed, type=pa.large_string())
    hit = _matches(low, _ANY)
    hit[exotic] = True  # normalising removed the invisible characters: check them on the raw text below
    rows = np.flatnonzero(hit)
    score = np.zeros(len(raw), dtype=np.int64)
    names: list[tuple] = [()] * len(raw)
    if len(rows):
        idx = pa.array(rows)
        sub_low, sub_raw = pc.take(low, idx), pc.take(raw, idx)
        matched = np.column_stack([_matches(sub_raw if s.name == "invisible_characters" else sub_low, s.pattern)
                                   for s in SIGNALS])
        weights = np.array([s.weight for s in SIGNALS], dtype=np.int64)
        score[rows] = matched.astype(np.int64) @ weights
        for k, i in enumerate(rows):
            names[i] = tuple(s.name for s, m in zip(SIGNALS, matched[k]) if m)
    return pd.DataFrame({"score": score, "signals": pd.Series(names, index=texts.index, dtype=object)},
                        index=texts.index)


def injection_suspected(texts: pd.Series) -> np.ndarray:
    """Whether each text's score reaches :data:`THRESHOLD` (a cue for a reviewer, not a verdict).

    Parameters
    ----------
    texts : Series of str, shape (n,)

    Returns
    -------
    ndarray of bool, shape (n,)
    """
    return injection_signals(texts)["score"].to_numpy() >= THRESHOLD
