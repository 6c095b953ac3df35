"""Cheap, deterministic text detectors for slicing reviews.

Each detector is a small pure function of a sequence of texts (a pandas Series of
str, or anything ``pandas.Series`` accepts) returning one value per text. They are
deliberately simple, documented pattern matchers: a slice built from them is only as
good as the pattern, so every docstring says what the detector catches and what it
misses. Treat them as *candidate* slice definitions to test, never as ground truth.

Negation
--------
:func:`negated_term` (slice key ``negated_term``) replaced the retired ``negation`` key,
which fired on any "no" or "not" anywhere and so on 760 of the 979 bundled reviews. It
fires when a negation cue has a sentiment or clinical term within three words of the same
clause. On 100 hand-labelled bundled reviews (tests/data/negation): precision 1.00 (56/56)
and recall 0.85 (56/66), against 0.81 and 1.00 for the retired detector; it fires on 487 of
the 979 bundled reviews and 170 of the 3,000 UCI sentences (retired: 760 and 725).

How they run
------------
All detectors work on the distinct texts only (duplicates are computed once and
broadcast back) and use Apache Arrow's RE2 regex kernels (``pyarrow.compute``), which
run whole columns in C++ with no Python loop per row; word counts come from a numpy
pass over the Arrow byte buffer. Texts are lower-cased and curly apostrophes (’) are
folded to ``'`` before matching, so patterns are written in lower case. RE2 has no
look-around; where a pattern needs an exception list, the exceptions are counted
separately and subtracted (see :func:`jargon_terms`). Missing texts count as "".

Public API: :func:`negated_term`, :func:`negation` (retired as a slice key, kept
for comparison), :func:`sarcasm_cues`, :func:`mixed_sentiment`,
:func:`jargon_terms`, :func:`jargon_density`, :func:`question`, :func:`exclamation`,
:func:`caps_intensity`, :func:`n_words`, and :func:`text_features` (all as columns).
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "caps_intensity",
    "exclamation",
    "jargon_density",
    "jargon_terms",
    "load_lexicon",
    "mixed_sentiment",
    "n_words",
    "negated_term",
    "negation",
    "negation_targets",
    "parse_lexicon",
    "question",
    "sarcasm_cues",
    "text_features",
]

LEXICON_RESOURCE = "medical_terms.txt"
TARGETS_RESOURCE = "negation_targets.txt"
# Sections of medical_terms.txt whose terms a negation can deny (conditions and symptoms);
# anatomy, procedures, lab words and drug names are left out: "never take beta blockers"
# is advice, not a denied symptom.
CLINICAL_SECTIONS = ("conditions and diagnoses", "symptoms and signs, named clinically")
# negated_term: at most this many words between the cue and the term ("not had any side
# effects" has two). Chosen on the bundled reviews outside the hand-labelled sample.
NEGATION_WINDOW = 3

# --------------------------------------------------------------------------- patterns
# All patterns run on lower-cased text with ’ folded to '. RE2 syntax (no look-around).

_NEGATION = (
    r"\b(?:not|no|never|none|nothing|nobody|nowhere|neither|nor|without|cannot|"
    r"hardly|barely|scarcely|cant|wont|dont|doesnt|didnt|isnt|wasnt|arent|werent|"
    r"havent|hasnt|hadnt|shouldnt|wouldnt|couldnt|aint)\b"
    r"|[a-z]n't\b"
)

# negated_term. A cue: a negator word, or any n't contraction (also without its apostrophe).
_CUE = (
    r"(?:not|no|never|none|nothing|nobody|nowhere|neither|nor|without|cannot|hardly|barely|"
    r"scarcely|cant|wont|dont|doesnt|didnt|isnt|wasnt|arent|werent|havent|hasnt|hadnt|"
    r"shouldnt|wouldnt|couldnt|aint|[a-z]+n't)"
)
# Replaced by a scope break before matching: conjunctions that open a new clause or a
# contrast ("did not work and made me worse": "worse" is not negated), and fixed phrases
# whose negator denies no term: pseudo-negations ("not only", "no doubt", "can't wait",
# "if not worse") and hedges ("not sure if", "don't know why", "no idea"). Multi-word
# phrases come first: RE2 takes the first alternative that matches at a position.
_SCOPE_BREAK = (
    r"\b(?:(?:[a-z]+n't|not|no|never|cannot|can not)[ \t]+(?:sure|know|knew|idea|tell|wait|doubt|"
    r"wonder|matter|only|just|to mention)|nothing but|if not|or not|unsure"
    r"|but|however|although|though|yet|except|whereas|while|because|since|unless|until|"
    r"if|whether|and|which|who)\b"
)
_SCOPE_MARK = " | "

_SARCASM = "|".join(
    [
        r"\boh,? (?:great|joy|goody|wonderful|fantastic|perfect|yay|sure|good)\b",
        r"\byeah,? right\b",
        r"\bjust what i (?:needed|wanted)\b",
        r"\bexactly what i (?:needed|wanted)\b",
        r"\bthanks a (?:lot|bunch|ton)\b",
        r"\bthanks for nothing\b",
        r"\bgee,? thanks\b",
        r"\b(?:i|you|just|gotta|got to|don't you) love (?:how|it when)\b",
        r"\bgotta love\b",
        r"\bwhat a (?:joy|treat|blast|bargain|surprise|delight)\b",
        r"\blucky me\b",
        r"\bhow (?:lovely|wonderful|convenient|fun)\b",
        r"\b(?:what|so much) fun\b",
        r"\bfun times\b",
        r"\bbig surprise\b",
        r"\bshocker\b",
        r"\bsaid no one\b",
        # Reddit-style sarcasm tag, standing alone.
        r"(?:^|\s)/s(?:\s|$|[.!])",
        # Scare quotes: a short (one to three word) quoted phrase, e.g. the "miracle" pill.
        r"[\"“][a-z][a-z'-]*(?: [a-z][a-z'-]*){0,2}[\"”]",
        # Positive word followed closely by a bad outcome: "great, now i can't sleep".
        r"\b(?:great|wonderful|fantastic|awesome|perfect|amazing|brilliant|lovely|nice|super)"
        r"[!.,]*\s+(?:now|so now|and now|because now|then)\b[^.!?]{0,60}?"
        r"\b(?:worse|gained|hurts?|can't|cannot|no longer|stopped|rash|bleeding|vomit\w*|sick|"
        r"miserable|awful|terrible)\b",
    ]
)

_POSITIVE = (
    r"\b(?:good|great|love|loved|loving|amazing|excellent|wonderful|fantastic|awesome|perfect|"
    r"happy|glad|helped|helps|helpful|works|worked|effective|relief|relieved|recommend|better|"
    r"best|saved|lifesaver|life saver|miracle|improved|improvement|grateful|thankful)\b"
)
_NEGATIVE = (
    r"\b(?:bad|terrible|awful|horrible|horrendous|worse|worst|hate|hated|miserable|nightmare|"
    r"unbearable|severe|painful|nausea|nauseous|vomiting|dizzy|dizziness|cramps|cramping|"
    r"weight gain|gained|depressed|exhausted|bleeding|rash|hair loss|mood swings|irritable|"
    r"crying|suicidal|disappointed|disappointing|useless|awful|stopped working|"
    r"didn't work|did not work|doesn't work|does not work|side effects? (?:were|was|are|is) "
    r"(?:bad|awful|terrible|horrible|rough|hard|tough))\b"
)
_CONTRAST = (
    r"\b(?:but|however|although|though|yet|except|despite|unfortunately|downside|"
    r"other than|apart from|on the other hand|the only (?:problem|issue|downside|thing|"
    r"complaint|side effect))\b"
)

# Condition / procedure morphology (suffixes of Greek and Latin clinical words).
_CONDITION_SUFFIXES = (
    "itis", "emia", "aemia", "ectomy", "otomy", "ostomy", "algia", "osis", "pathy", "plasty",
    "oscopy", "uria", "penia", "plegia", "rrhea", "rrhoea", "ectasis", "oid",
)
# Generic drug-name stems (INN suffixes): -pril ACE inhibitors, -olol beta blockers, ...
_DRUG_SUFFIXES = (
    "pril", "sartan", "olol", "alol", "statin", "azole", "mab", "nib", "pine", "pam", "zolam",
    "done", "oxacin", "cycline", "cillin", "mycin", "tidine", "triptan", "afil", "gliptin",
    "gliflozin", "glitazone", "formin", "lukast", "sone", "olone", "caine", "profen", "fenac",
    "oxetine", "triptyline", "ipramine", "apine", "idone", "zodone", "vir", "parin", "xaban",
    "gatran", "dronate", "setron", "tretinoin", "gestrel", "gestimate", "renone", "estradiol",
    "amine", "azepam", "barbital", "codone", "morphine", "semide", "thiazide", "zepine", "oxone",
)
# Ordinary English words that the morphology above would count (checked by a test:
# each must be matched whole by the jargon pattern, so subtracting its count is exact).
_NOT_JARGON = (
    "academia", "nostalgia", "sympathy", "antipathy", "telepathy",
    "hypothesis", "hypotheses", "hypocrite", "hypocrites", "hypocritical", "hyperbole",
    "hyperlink", "condone", "overdone", "outdone", "porcupine", "android", "tabloid",
    "asteroid", "hypothetical", "hypothetically", "reexamine",
)
_DOSE = (
    r"(?:\b\d+(?:[.,]\d+)?|\B\.\d+)\s?(?:mg|mcg|µg|ug|ml|iu|units?|mmol|mg/dl|milligrams?)\b"
    r"|\b(?:once|twice|three times|four times|[1-4]x)\s+(?:a|per)\s+(?:day|week|month)\b"
    r"|\b(?:once|twice) daily\b"
    r"|\b(?:bid|tid|qid|qd|qhs|prn)\b"
)

_WORD_BLOCK_BYTES = 32 << 20  # numpy temporaries per block stay ~100 MB at most
_WHITESPACE = np.zeros(256, dtype=bool)
_WHITESPACE[[9, 10, 11, 12, 13, 32]] = True


@lru_cache(maxsize=None)
def load_lexicon(resource: str = LEXICON_RESOURCE) -> tuple[str, ...]:
    """The medical term lexicon shipped in ``blindspot/resources`` (sorted, unique).

    Raises
    ------
    ValueError
        If a line holds characters other than lower-case letters, digits, space,
        apostrophe or hyphen (so every term is a literal in the regex).
    """
    text = resources.files("blindspot.resources").joinpath(resource).read_text(encoding="utf-8")
    return parse_lexicon(text, resource)


def parse_lexicon(text: str, source: str = "lexicon") -> tuple[str, ...]:
    """Terms of a lexicon file's text (sorted, unique); see :func:`load_lexicon`.

    Raises
    ------
    ValueError
        Naming ``source``, the line and the term, if a term holds other characters
        than lower-case letters, digits, space, apostrophe or hyphen.
    """
    terms = set()
    for lineno, raw in enumerate(text.splitlines(), start=1):
        term = raw.split("#", 1)[0].strip()
        if not term:
            continue
        if not re.fullmatch(r"[a-z0-9][a-z0-9' -]*", term):
            raise ValueError(f"{source} line {lineno}: term {term!r} may only hold a-z, 0-9, space, ' and -.")
        terms.add(" ".join(term.split()))
    return tuple(sorted(terms))


@lru_cache(maxsize=None)
def _jargon_patterns() -> tuple[str, str]:
    """(pattern counting jargon matches, pattern counting the English exceptions)."""
    # Longest first, so "blood pressure" wins over a shorter overlapping entry.
    terms = sorted(load_lexicon(), key=lambda t: (-len(t), t))
    lexicon = "|".join(t.replace(" ", r"\s+") for t in terms)
    morphology = (
        r"[a-z]{3,}(?:" + "|".join(_CONDITION_SUFFIXES + _DRUG_SUFFIXES) + r")"
        r"|hyper[a-z]{4,}|hypo[a-z]{4,}"
    )
    words = r"\b(?:(?:" + lexicon + r")(?:e?s)?|" + morphology + r")\b"
    return words + "|" + _DOSE, r"\b(?:" + "|".join(_NOT_JARGON) + r")\b"


def _lexicon_sections(text: str, sections, source: str) -> tuple[str, ...]:
    """Terms of the named ``# --- name ---`` sections of a lexicon file's text.

    Raises
    ------
    ValueError
        If a named section is missing or empty (a renamed header would otherwise
        silently drop its terms).
    """
    chunks: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        header = re.fullmatch(r"#\s*---\s*(.+?)\s*---\s*", line.strip())
        if header:
            current = header.group(1)
            chunks.setdefault(current, [])
        elif current is not None:
            chunks[current].append(line)
    terms: set[str] = set()
    for name in sections:
        found = parse_lexicon("\n".join(chunks.get(name, [])), f"{source} section {name!r}")
        if not found:
            raise ValueError(f"{source}: no terms under a '# --- {name} ---' header; "
                             f"sections found: {sorted(chunks)}.")
        terms.update(found)
    return tuple(sorted(terms))


@lru_cache(maxsize=None)
def negation_targets() -> tuple[str, ...]:
    """Terms whose negation :func:`negated_term` looks for (sorted, unique).

    The union of ``resources/negation_targets.txt`` (sentiment words and lay words for
    symptoms) and the :data:`CLINICAL_SECTIONS` of ``resources/medical_terms.txt``.
    """
    folder = resources.files("blindspot.resources")
    own = parse_lexicon(folder.joinpath(TARGETS_RESOURCE).read_text(encoding="utf-8"), TARGETS_RESOURCE)
    clinical = _lexicon_sections(folder.joinpath(LEXICON_RESOURCE).read_text(encoding="utf-8"),
                                 CLINICAL_SECTIONS, LEXICON_RESOURCE)
    return tuple(sorted(set(own) | set(clinical)))


@lru_cache(maxsize=None)
def _negated_term_pattern(window: int = NEGATION_WINDOW) -> str:
    """A cue, then at most ``window`` plain words (spaces between: punctuation ends the
    scope), then a target term (with plural -s/-es) or a clinical-suffix word."""
    terms = sorted(negation_targets(), key=lambda t: (-len(t), t))
    words = "|".join(t.replace(" ", r"[ \t]+") for t in terms)
    # Condition morphology as in jargon_terms, without -oid (steroid, android, ...).
    suffixes = "|".join(x for x in _CONDITION_SUFFIXES if x != "oid")
    target = r"(?:(?:" + words + r")(?:e?s)?|[a-z]{3,}(?:" + suffixes + r"))"
    return (r"\b" + _CUE + r"(?:[ \t]+[a-z0-9'/-]+){0," + str(int(window)) + r"}?[ \t]+"
            + target + r"\b")


# --------------------------------------------------------------------------- plumbing


@dataclass
class _Texts:
    """Distinct texts (raw and normalised) and the map from rows to them."""

    codes: np.ndarray  # (n,) int: row -> index into the distinct texts
    raw: pa.Array  # distinct texts as given
    low: pa.Array  # lower-cased, ’ folded to '
    # Per-distinct-text results shared by several detectors (word counts, jargon).
    cache: dict = field(default_factory=dict)

    def words(self) -> np.ndarray:
        if "words" not in self.cache:
            self.cache["words"] = _word_counts(self.raw)
        return self.cache["words"]

    def jargon(self) -> np.ndarray:
        if "jargon" not in self.cache:
            words, exceptions = _jargon_patterns()
            self.cache["jargon"] = _count(self.low, words) - _count(self.low, exceptions)
        return self.cache["jargon"]


def prepare(texts) -> _Texts:
    """Lower-case and deduplicate ``texts`` once, so several detectors share the pass.

    Every detector accepts either a Series of str or what this returns; call it first
    when you need more than one detector on the same texts.

    Parameters
    ----------
    texts : Series of str, shape (n,)
    """
    if isinstance(texts, _Texts):
        return texts
    series = texts if isinstance(texts, pd.Series) else pd.Series(texts, dtype=object)
    if series.dtype == object:
        kind = pd.api.types.infer_dtype(series, skipna=True)
        if kind not in ("string", "empty"):
            raise TypeError(f"texts must hold str values; got inferred type {kind!r}.")
    elif not pd.api.types.is_string_dtype(series.dtype):
        raise TypeError(f"texts must hold str values; got dtype {series.dtype}.")
    arr = pa.array(series.astype(pd.StringDtype("pyarrow")).array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = pc.fill_null(arr.cast(pa.large_string()), "")
    encoded = pc.dictionary_encode(arr)
    raw = encoded.dictionary
    low = pc.replace_substring(pc.utf8_lower(raw), "’", "'")
    return _Texts(np.asarray(encoded.indices, dtype=np.int64), raw, low)


def _broadcast(t: _Texts, values) -> np.ndarray:
    return np.asarray(values)[t.codes]


def _contains(t: _Texts, pattern: str) -> np.ndarray:
    hit = pc.match_substring_regex(t.low, pattern).to_numpy(zero_copy_only=False)
    return _broadcast(t, hit.astype(bool))


def _count(arr: pa.Array, pattern: str) -> np.ndarray:
    return pc.count_substring_regex(arr, pattern).to_numpy(zero_copy_only=False).astype(np.int64)


def _word_counts(arr: pa.Array) -> np.ndarray:
    """Whitespace-separated tokens per string, from the Arrow byte buffer."""
    arr = arr.cast(pa.large_string())
    n = len(arr)
    out = np.zeros(n, dtype=np.int64)
    buffers = arr.buffers()
    if n == 0 or buffers[2] is None:
        return out
    offsets = np.frombuffer(buffers[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = np.frombuffer(buffers[2], dtype=np.uint8)
    row = 0
    while row < n:  # a loop over byte blocks (a handful), not over rows
        stop = int(np.searchsorted(offsets, offsets[row] + _WORD_BLOCK_BYTES, side="right")) - 1
        stop = min(max(stop, row + 1), n)
        lo = offsets[row]
        word = ~_WHITESPACE[data[lo : offsets[stop]]]
        start = word.copy()
        start[1:] &= ~word[:-1]
        rel = offsets[row : stop + 1] - lo
        first = rel[:-1][rel[:-1] < rel[1:]]  # every non-empty string starts afresh
        start[first] = word[first]
        # Word starts before each offset, by binary search (far cheaper than a cumsum).
        before = np.searchsorted(np.flatnonzero(start), rel)
        out[row:stop] = np.diff(before)
        row = stop
    return out


# --------------------------------------------------------------------------- detectors


def _detector(returns: str):
    """Give a detector the Parameters and Returns sections that every detector shares.

    Every detector takes ``texts`` (a Series of str, or what :func:`prepare` made of
    them) and returns one value per text; only the returned type differs, so the two
    sections are written here once and appended to each docstring.

    Parameters
    ----------
    returns : str
        The Returns line, e.g. ``"ndarray of bool, shape (n,)"``.
    """
    def add_sections(fn):
        doc = inspect.cleandoc(fn.__doc__ or "")
        sections = f"Parameters\n----------\ntexts : Series of str, shape (n,)\n\nReturns\n-------\n{returns}\n"
        fn.__doc__ = f"{doc}\n\n{sections}"
        return fn
    return add_sections


@_detector("ndarray of bool, shape (n,)")
def negated_term(texts) -> np.ndarray:
    """Whether a text negates a sentiment or clinical term within the negation's scope.

    Fires when a negation cue is followed, within :data:`NEGATION_WINDOW` (3) plain
    words of the same clause, by a target term: "no side effects", "no relief", "did
    not help", "not effective", "I haven't had any weight gain", "never felt so good",
    "couldn't be happier", "without any nausea", "not as bad as I thought".

    - Cues: not, no, never, none, nothing, nobody, nowhere, neither, nor, without,
      cannot, hardly, barely, scarcely and every ``n't`` contraction (also written
      without the apostrophe: dont, didnt, cant, ...).
    - Targets (:func:`negation_targets`): sentiment words (good, help, work, effective,
      worth, recommend, bad, worse, problem, worried, ...) and lay symptom words (pain,
      side effects, weight gain, sleep, period, acne, appetite, ...) from
      ``resources/negation_targets.txt``, the conditions and symptoms of
      ``resources/medical_terms.txt``, and words with a condition suffix (-itis, -osis,
      -algia, ...); plural -s/-es.
    - Scope: only spaces and plain words may stand between cue and term, so any
      punctuation (. , ; : ! ? brackets, quotes, a new line) ends it, and so do the
      clause openers but, however, although, though, yet, except, whereas, while,
      because, since, unless, until, if, whether, and, which, who ("did not work and
      made me worse": "worse" is not negated).
    - Not cues: pseudo-negations and hedges (not only, not just, not to mention, no
      doubt, no wonder, no matter, nothing but, if not, or not, can't wait, not sure,
      don't know, no idea, can't tell).

    Misses: implicit and affixal negation ("unable to sleep", "lack of sex drive",
    "stopped working", "useless", "non existent"), negation after the term ("side
    effects: none"), a term farther than three words ("does not seem to have any
    effect"), and negated claims made of plain words ("wasn't doing the job", "could
    not walk"). False hits: a target inside a longer negated clause that is not what is
    denied ("don't take it before sleep"), and negated positives that mean praise
    ("couldn't be happier" fires, by design: it is a negated sentiment word). It says
    nothing about polarity: "no side effects" (good news) and "no relief" (bad news)
    both fire.

    Measured (bench/negation_detector.py, bench/results/negation_detector.json) on 100
    bundled reviews hand-labelled for "does the review negate a sentiment or clinical
    term?" (tests/data/negation/labelled.jsonl, 66 yes): precision 1.00 (56 of 56 hits;
    Wilson 95% [0.94, 1.00]), recall 0.85 (56 of 66 [0.74, 0.92]; 0.88 of the 64 with an
    explicit cue). The retired :func:`negation` scores precision 0.81 (66 of 81 [0.72,
    0.88]), recall 1.00. Firing rate: 487 of the 979 bundled reviews (50%; retired: 760,
    78%), 170 of the 3,000 UCI sentences (5.7%; retired: 725, 24%). Time: 0.25 s for
    200,000 synthetic reviews against 0.17 s for :func:`negation` (one thread;
    the scope pass runs only on texts holding a cue, 17% of these; where nearly every
    text holds one, as in the bundled reviews, it costs about twice :func:`negation`).
    """
    t = prepare(texts)
    # Only texts holding a cue can fire (every cue of _CUE is one of _NEGATION, and the
    # scope pass only removes cues), so the costly pass runs on those alone.
    candidates = np.flatnonzero(pc.match_substring_regex(t.low, _NEGATION).to_numpy(zero_copy_only=False))
    scoped = pc.replace_substring_regex(t.low.take(pa.array(candidates, type=pa.int64())), _SCOPE_BREAK, _SCOPE_MARK)
    hit = np.zeros(len(t.low), dtype=bool)
    hit[candidates] = pc.match_substring_regex(scoped, _negated_term_pattern()).to_numpy(zero_copy_only=False)
    return _broadcast(t, hit)


@_detector("ndarray of bool, shape (n,)")
def negation(texts) -> np.ndarray:
    """Whether a text contains an explicit negation anywhere (retired as a slice).

    Retired from slicing: the ``negation`` slice key fired on 760 of the 979 bundled
    reviews, so it sliced nothing; :func:`negated_term` (key ``negated_term``) replaced
    it. Kept to compare against (bench/negation_detector.py) and as a cue finder.

    Catches: the negators not, no, never, none, nothing, nobody, nowhere, neither,
    nor, without, cannot, hardly, barely, scarcely, and every ``n't`` contraction
    (also written without the apostrophe: dont, didnt, wont, cant, ...).

    Misses: implicit negation (failed to, lack of, stopped working, unable),
    affixal negation (un-, in-, -less: "useless", "unhelpful"), and any notion of
    scope: "no side effects" (good news) and "no relief" (bad news) both count.
    Also fires on idioms where "no" is not negating a claim ("no. 1 pill").
    """
    return _contains(prepare(texts), _NEGATION)


@_detector("ndarray of bool, shape (n,)")
def sarcasm_cues(texts) -> np.ndarray:
    """Whether a text carries a surface cue often used sarcastically.

    Catches: stock phrases (oh great, oh joy, yeah right, just what I needed, thanks
    a lot, thanks for nothing, gee thanks, gotta love, love how, what a joy/treat,
    lucky me, how convenient, big surprise, said no one), a stand-alone ``/s`` tag,
    scare quotes around a one- to three-word phrase (the "miracle" pill), and a
    positive word followed within a clause by a bad outcome ("great, now I can't
    sleep", "wonderful, and now I gained 20 lbs").

    Misses: almost all real sarcasm. Sarcasm is pragmatic: it is signalled by
    context, exaggeration and world knowledge, not by fixed phrases, so recall of a
    cue list is low, and precision is not much better: "thanks a lot" is often
    sincere, quotes are often plain quotation ("the doctor said "give it time""),
    and "great, now I can sleep" would fire if it read "can't". Use this flag only
    to route texts to a closer look (the judge), never as a label.
    """
    return _contains(prepare(texts), _SARCASM)


@_detector("ndarray of bool, shape (n,)")
def mixed_sentiment(texts) -> np.ndarray:
    """Whether a text mixes positive and negative cues around a contrast.

    Catches: texts holding at least one positive cue (good, great, helped, works,
    relief, recommend, saved, ...), at least one negative cue (terrible, awful,
    worse, nausea, weight gain, mood swings, didn't work, ...) and a contrast marker
    (but, however, although, though, yet, except, despite, unfortunately, the only
    downside/problem, other than, apart from), e.g. "the side effects were awful but
    it saved my life".

    Misses: mixed feelings without an explicit contrast ("It works. The nausea is
    awful."), cues outside the short word lists, and negation: "not good but not
    bad" counts, while "no nausea, but it works" counts too although it is not mixed.
    A negative word about the *condition* ("my depression was terrible, but this
    helped") is counted as mixed, which it is not about the drug. The three parts
    need not be in the same sentence.
    """
    t = prepare(texts)
    low = t.low
    hit = pc.and_(
        pc.and_(pc.match_substring_regex(low, _POSITIVE), pc.match_substring_regex(low, _NEGATIVE)),
        pc.match_substring_regex(low, _CONTRAST),
    )
    return _broadcast(t, hit.to_numpy(zero_copy_only=False).astype(bool))


@_detector("ndarray of int64, shape (n,)")
def jargon_terms(texts) -> np.ndarray:
    """Number of medical-jargon matches in each text.

    Catches, counting each non-overlapping match once:

    - terms of the shipped lexicon ``resources/medical_terms.txt`` (conditions,
      clinically named symptoms, lab and anatomy terms, procedures, drug classes
      and common drug names), with plural -s/-es;
    - clinical morphology: words ending in -itis, -emia, -ectomy, -otomy, -algia,
      -osis, -pathy, -plasty, -oscopy, -uria, -penia, -plegia, -rrhea, -oid,
      and hyper-/hypo- compounds (hypothyroid, hyperactive);
    - generic drug-name stems: -pril, -sartan, -olol, -statin, -azole, -mab, -nib,
      -pine, -pam, -done, -oxacin, -cycline, -cillin, -mycin, -triptan, -afil,
      -formin, -sone, -profen, -oxetine, -apine, -idone, -vir, -gestrel, ...;
    - dose and schedule patterns: "50 mg", "0.5mg", ".5 mg", "100 mcg", "10 units",
      "twice a day", "once daily", "3x per week", and the abbreviations bid, tid,
      qid, qd, qhs, prn.

    Misses: brand names not in the lexicon (most brands have no telling suffix),
    misspellings ("zoloff"), abbreviations outside the list, and clinical phrasing
    made of plain words ("blood work came back"). False hits: English words with a
    clinical-looking ending that are not on the short exception list (for example
    "spheroid" by -oid), and "bid" or "prn" used as ordinary words. Suffix rules
    need at least three letters before the suffix, so short words ("spine",
    "done", "someone", "examine") do not count.
    """
    t = prepare(texts)
    return _broadcast(t, t.jargon())


@_detector("ndarray of float64, shape (n,)")
def jargon_density(texts) -> np.ndarray:
    """Medical-jargon matches per word: ``jargon_terms / n_words`` (0 for empty text).

    Catches and misses what :func:`jargon_terms` does; a dose like "50 mg" is one
    match but two words, so the density is a rate, not a share of words, and can in
    principle exceed 1 for very short texts made of dose strings.
    """
    t = prepare(texts)
    terms = t.jargon().astype(float)
    words = t.words()
    return _broadcast(t, np.divide(terms, words, out=np.zeros_like(terms), where=words > 0))


@_detector("ndarray of bool, shape (n,)")
def question(texts) -> np.ndarray:
    """Whether a text contains a question mark.

    Catches direct questions ("has anyone else had this?"). Misses questions written
    without "?" and counts rhetorical questions and "??" the same way.
    """
    t = prepare(texts)
    return _broadcast(t, pc.match_substring(t.raw, "?").to_numpy(zero_copy_only=False).astype(bool))


@_detector("ndarray of bool, shape (n,)")
def exclamation(texts) -> np.ndarray:
    """Whether a text contains an exclamation mark.

    Catches emphatic writing of either polarity ("Love it!", "Never again!"). Misses
    emphasis by other means (capitals, repetition) and says nothing about polarity.
    """
    t = prepare(texts)
    return _broadcast(t, pc.match_substring(t.raw, "!").to_numpy(zero_copy_only=False).astype(bool))


@_detector("ndarray of float64, shape (n,)")
def caps_intensity(texts) -> np.ndarray:
    """Share of words written in capitals: ALL-CAPS ASCII runs of length >= 2 per word.

    Catches shouting ("I HATE the tremors", "DO NOT TAKE"). Misses shouting with
    digits or accents inside a word, and counts acronyms (ADHD, PCOS, OCD, IUD) as
    capitals, so medical texts score a little higher without any shouting. The
    word count is the whitespace-token count of :func:`n_words`; 0 for empty text.
    """
    t = prepare(texts)
    caps = _count(t.raw, r"\b[A-Z]{2,}\b").astype(float)
    words = t.words().astype(float)
    share = np.divide(caps, words, out=np.zeros_like(caps), where=words > 0)
    return _broadcast(t, np.minimum(share, 1.0))


@_detector("ndarray of int64, shape (n,)")
def n_words(texts) -> np.ndarray:
    """Number of whitespace-separated tokens in each text.

    Counts runs of non-whitespace (ASCII space, tab, newline, CR, FF, VT), so
    punctuation attached to a word is part of it and "50 mg" is two words. Misses
    Unicode spaces (a no-break space joins its neighbours) and does not segment
    scripts written without spaces.
    """
    t = prepare(texts)
    return _broadcast(t, t.words())


def text_features(texts) -> pd.DataFrame:
    """Every detector of this module as a column, indexed like ``texts``.

    Columns: negated_term, sarcasm_cues, mixed_sentiment (bool), jargon_terms (int),
    jargon_density (float), question, exclamation (bool), caps_intensity (float),
    n_words (int).

    Parameters
    ----------
    texts : Series of str, shape (n,)

    Returns
    -------
    DataFrame, shape (n, 9)
    """
    index = texts.index if isinstance(texts, pd.Series) else pd.RangeIndex(len(texts))
    t = prepare(texts)
    columns = {
        "negated_term": negated_term(t),
        "sarcasm_cues": sarcasm_cues(t),
        "mixed_sentiment": mixed_sentiment(t),
        "jargon_terms": jargon_terms(t),
        "jargon_density": jargon_density(t),
        "question": question(t),
        "exclamation": exclamation(t),
        "caps_intensity": caps_intensity(t),
        "n_words": n_words(t),
    }
    return pd.DataFrame(columns, index=index)
