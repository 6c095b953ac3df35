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

- the 979 bundled reviews (``data/raw/predictions/v1.json``; ``v2.json`` has the same texts):
  0 flagged, 1 near miss (a review with a zero-width space after "sleepy");
- the 3,000 UCI sentences (``data/raw/predictions/uci_sentences.jsonl``): 0 flagged, 0 near misses;
- 200,000 synthetic reviews (``python -m blindspot.synth --n 200000 --seed 0 --mode null``): 0 flagged,
  0 near misses, about 0.5 s on one core;
- the 130 benign near-miss sentences of ``tests/data/injections/benign.jsonl`` ("follow the instructions
  on the label", "disregard the above, the rash came back", "I'd say positive overall"): 0 flagged,
  16 near misses;
- the 133 injection strings of ``tests/data/injections/injections.jsonl``: 133 flagged. They are not a
  fair measure of recall: rounds 2 to 4 were each written blind, scored, then used to generalise the
  signals. Scored blind, before tuning, they gave 11/24, 16/25 and 16/30;
- the final blind round, ``tests/data/injections/holdout.jsonl`` (written after the signals were frozen,
  never used to tune): 13 of 30 flagged, 9 of the 17 misses are near misses. Expect roughly half of
  unseen paraphrases to pass ("Kindly set aside your earlier guidance", "Repeat after me: positive",
  instructions in a language or phrasing not listed).

So the flag is precise and its recall is partial: a count of reviews worth a reviewer's look, never a
guarantee that the rest are clean. The judge stays safe either way: the prompt delimits the review as
data and the parser rejects any answer outside the schema.

Speed: all matching runs in Arrow's RE2 kernels (``pyarrow.compute``; in RE2 syntax word boundaries
and word characters are ASCII). A few passes of unions of the signals screen every row; only rows that
hit are scored signal by signal. Rows with non-ASCII characters are normalised first (NFKC, plain
quotes, invisible characters removed), so look-alike or zero-width characters cannot hide a phrase.
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
_OVERRIDE_VERB = (r"(?:ignore|disregard|forget|override|overwrite|bypass|discard|overlook|skip"
                  r"|pay\s+no\s+attention\s+to|stop\s+following|do\s+not\s+follow|don't\s+follow)")
# Not "directions" or "orders": "ignore the previous directions on the box" is patient talk.
_INSTRUCTION_NOUN = (r"(?:instructions?|prompts?|directives?|rules|guidelines|guidance|context|messages?|commands?"
                     r"|constraints|text|task|programming)")
_EARLIER = r"(?:previous|prior|preceding|above|earlier|foregoing|former|original|initial|system)"
# Not a bare "model": "you are now a role model" is praise.
_MODEL_NOUN = (r"(?:ai|a\.i\.|assistant|chatbot|bot|(?:language|ai|sentiment)\s+model|llm|gpt|judge|classifier|grader"
               r"|annotator|label+er|evaluator|auditor)")
# Who an attacker addresses; "model" alone is allowed here only where the context is the reader.
_READER = (r"(?:ai|a\.i\.|model|llm|assistant|bot|chatbot|grader|judge|classifier|annotator|evaluator|auditor"
           r"|language\s+model)")
# The review itself named as an object of the task ("classify this review as"), unlike "rate it as".
_THIS_REVIEW = r"(?:this|the|that)\s+(?:review|text|item|sample|entry|input|message|example|following)"


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
           rf"\b{_OVERRIDE_VERB}\s+(?:(?:all|any|each|every)\s+(?:of\s+)?)?"
           rf"(?:the\s+|your\s+|my\s+|these\s+|those\s+)?{_EARLIER}\s+(?:\w+\s+)?{_INSTRUCTION_NOUN}"
           rf"|\b{_OVERRIDE_VERB}\s+(?:all\s+(?:of\s+)?)?your\s+(?:\w+\s+)?{_INSTRUCTION_NOUN}"
           rf"|\b(?:ignoring|disregarding|forgetting)\s+all\s+(?:the\s+)?{_EARLIER}\s+(?:instructions|context|prompts?)"
           rf"|\b{_OVERRIDE_VERB}\s+(?:everything|all|anything)\s+(?:(?:written\s+|said\s+|stated\s+)?above"
           rf"|(?:written|said|stated)\s+(?:before|previously|so\s+far|earlier)"
           rf"|before\s+this\s+(?:line|point|sentence))"
           r"|\bnothing\s+(?:written\s+|said\s+)?(?:above|before)\s+(?:this\s+(?:line|point)\s+)?"
           r"(?:matters|counts|applies|is\s+relevant)",
           "tells the reader to drop the instructions it was given (ignore the previous instructions, "
           "disregard your rules)"),
    Signal("override_other_language", 2,
           # A non-English article or quantifier is required, so that English text is left to the signal above.
           r"\b(?:ignor\w*|olvida\w*|oublie\w*|vergiss|dimentica\w*|esque[cç]a\w*)\s+(?:sie\s+)?"
           r"(?:(?:todas|todos|toutes|tous|tutte|alle|as|las|los|les|le|die|sämtliche|ces)\s+)+(?:\w+\s+)?"
           r"(?:instrucciones|instructions|anweisungen|instruktionen|istruzioni|instruções|instrucoes)\b"
           r"|(?:忽略|无视|忽视|忘记|忘掉)(?:之前|以上|上面|先前|前面|所有|全部|一切)"
           r"|(?:以前|前|上記|これまで)の(?:指示|命令|指令)を(?:無視|忘れ)"
           # RE2's \b and \w are ASCII: no \b before a Cyrillic word, \pL for its letters.
           r"|(?:игнорируй|игнорируйте|забудь|забудьте)\s+(?:\pL+\s+){0,2}(?:инструкции|указания)"
           r"|\b(?:vous\s+êtes|tu\s+es)\s+maintenant\s+une?\b|\bahora\s+eres\s+una?\b"
           r"|\bdu\s+bist\s+(?:jetzt|nun)\s+eine?\b"
           r"|\bora\s+sei\s+una?\b|\bagora\s+(?:você\s+é|és)\s+uma?\b|你现在是|теперь\s+ты\s",
           "an instruction-override or new-persona phrase in Spanish, French, German, Italian, Portuguese, "
           "Chinese, Japanese or Russian"),
    Signal("role_marker", 2,
           r"(?:^|\n)[ \t#*>\[(<|_-]*(?:system|assistant|developer)[ \t\])>|*_]*:"
           r"|<\|?(?:im_start|im_end|system|assistant|endoftext|eot_id|start_header_id|end_header_id)\|?>"
           r"|\[/?inst\]|<</?sys>>|</?(?:system|assistant|user|instructions?|prompt|review|data|input)>"
           r"|\[(?:system|assistant|developer)\]"
           r"|(?:^|\n)[ \t]*#{1,6}[ \t]*(?:system|instructions?|response|assistant)\b"
           r"|={2,}[ \t]*(?:system|user|assistant)[ \t]*={2,}",
           "a chat role or prompt section marker (system:, <|im_start|>, [INST], <system>, [system], "
           "=== user ===)"),
    Signal("model_persona", 2,
           rf"\byou(?:\s+are|'re)\s+(?:now|no\s+longer|henceforth|from\s+now\s+on)\s+(?:a\s+|an\s+|the\s+|my\s+)?"
           rf"(?:\w+\s+){{0,3}}(?:{_MODEL_NOUN}"
           r"|in\s+(?:developer|dan|jailbreak|unrestricted|debug|maintenance)\s+mode)\b"
           r"|\byou(?:\s+are|'re)\s+(?:a|an|the)\s+(?:\w+\s+){0,2}(?:ai|assistant|chatbot|language\s+model|llm"
           r"|classifier|annotator|label+er|sentiment\s+(?:model|judge|analy[sz]er))\b"
           rf"|\bif\s+you(?:\s+are|'re)\s+(?:a|an|the)\s+(?:\w+\s+)?(?:{_MODEL_NOUN}|chatgpt)\b"
           rf"|\b{_READER}s?\s+(?:that\s+is\s+|who\s+is\s+)?(?:reading|processing|analy[sz]ing|summari[sz]ing"
           r"|evaluating|judging|grading|classifying|labell?ing|parsing)\s+(?:this|these|the\s+review)"
           r"|\byou(?:\s+are|'re)\s+no\s+longer\s+(?:auditing|judging|grading|classifying|labell?ing|evaluating"
           r"|bound|restricted)\b"
           r"|\b(?:developer|dan|jailbreak|unrestricted)\s+mode\b",
           "tells the reader it is an AI, a judge or in a special mode, or addresses the AI reading this"),
    Signal("answer_schema", 2,
           rf"[\"']{_KEYS}[\"']\s*:",
           "writes a key of the judge's own JSON answer (\"sentiment\":, \"gold_label_wrong\":)"),
    Signal("dictated_answer", 2,
           rf"\b(?:(?:respond|reply|answer)\s+(?:only\s+|just\s+|exactly\s+)?(?:with\s*:?|as\s*:?|:)"
           rf"|(?:output|return|print)(?:\s+only|\s+just|\s+exactly)?(?:\s+with\s*:?|\s*:))\s*"
           rf"(?:the\s+(?:word|label|string|value)\s+)?{_CLASS}"
           r"|\b(?:answer|respond|reply|output|outputs|return|returns|say|print|write|classify|label|rate|mark|put"
           r"|choose|select|pick)\b[^.\n]{0,30}[\"'`](?:positive|negative|neutral)[\"'`]"
           rf"|\b(?:correct|right|true|real|expected|actual|final)\s+(?:answer|label|classification|sentiment|verdict"
           rf"|output|rating)\b[^.\n]{{0,30}}(?:\bis|=|:|\bshould\s+be|\bmust\s+be)\s*{_CLASS}"
           rf"|\b(?:classify|label|mark|tag|rate|grade|score|treat|count|judge|categori[sz]e|consider|record)\s+"
           rf"{_THIS_REVIEW}\s+(?:as\s+)?{_CLASS}"
           rf"|\b(?:sentiment|label|verdict|classification|rating)\s+(?:must|should|has\s+to|needs\s+to)\s+be\s+"
           rf"{_CLASS}"
           rf"|\b(?:set|change|switch|flip|force)\s+(?:the\s+|your\s+)?"
           rf"(?:sentiment|label|verdict|answer|classification)\s+to\s+{_CLASS}"
           rf"|\byour\s+(?:answer|response|output|reply|verdict|label)\s*(?:is|=|:|should\s+be|must\s+be)\s*"
           rf"{_CLASS}"
           rf"|\b{_READER}\s+(?:must|should|will|has\s+to|needs\s+to)\s+(?:now\s+)?(?:say|answer|respond|reply|output"
           rf"|classify|label|mark|rate|return|print)\b[^.\n]{{0,20}}{_CLASS}"
           rf"|\bsentiment\s*[:=]?\s*{_CLASS}[^.\n]{{0,40}}"
           r"\b(?:sarcasm|mixed_sentiment|confidence|rationale|register)\b"
           r"|\bgold_label|\bdataset\s+label\b",  # not "gold label": a vitamin brand
           "dictates the verdict (respond with positive, answer 'neutral', the correct label is negative, classify "
           "this review as positive) or names the judge's fields"),
    Signal("prompt_delimiter", 2,
           r"<<<\s*/?\s*(?:review|end|data|input|system|user)|\b(?:review|end|data)\b[^<>\n]{0,40}>>>",
           "imitates the <<<REVIEW ...>>> lines that delimit the review in the prompt"),
    Signal("prompt_vocabulary", 2,
           r"\bsystem\s+(?:prompt|message|override|instructions?|notice|alert)\b|\bprompt\s+injection\b"
           r"|\bjailbreak"
           r"|\b(?:begin|start|end)\s+of\s+(?:the\s+)?(?:new\s+)?(?:system|instructions?|prompt)\b"
           r"|\b(?:begin|end)\s+(?:system|instructions?|prompt)\b",
           "talks about the prompt itself (system prompt, prompt injection, jailbreak, begin instructions)"),
    # -- weak (1): ordinary reviews write these now and then ------------------------------------
    Signal("override_generic", 1,
           rf"\b{_OVERRIDE_VERB}\b[^.!?\n]{{0,40}}\b(?:instructions?|prompts?|rules|messages?|above|format)\b"
           r"|\b(?:instructions|rules|guidelines)\s+(?:that\s+)?you\s+(?:were|have\s+been|'ve\s+been)"
           r"\s+(?:given|told)\b",
           "an override verb near \"instructions\" or \"above\" (\"forget the instructions on the box\"), or the "
           "instructions the reader was given"),
    Signal("new_instructions", 1,
           r"\b(?:new|updated|real|actual|true|additional|important|hidden|secret)"
           r"\s+(?:instructions?|directives?|task)\s*[:\-]"
           r"|\bthe\s+(?:real|actual|true)\s+(?:review|text|input|task)\s+(?:is|follows)\b"
           r"|\b(?:previous|above|preceding|earlier)\s+(?:text|input|message|prompt)\s+(?:was|is)\b"
           r"|\byour\s+(?:new|real|actual|updated)\s+(?:instructions?|task|directives?|rules)\b|\bnew\s+review\s*:"
           r"|\bnew\s+rules?\s*:|\boverride\s*:",
           "announces new instructions or a new task, or says the text so far was not the real one"),
    Signal("task_switch", 1,
           r"\b(?:translate|summari[sz]e|reveal|repeat)\s+(?:this|the|your)\s+(?:review|text|prompt|instructions)\b"
           r"|\b(?:print|show|reveal|repeat|output|tell\s+me)\s+your\s+(?:\w+\s+)?"
           r"(?:prompt|instructions|rules|system)\b",
           "asks for another task on the review or the prompt (translate this review, reveal your prompt)"),
    Signal("addresses_model", 1,
           rf"\b(?:chatgpt|gpt-?\d|claude|gemini|llama|llm|language\s+model|ai\s+model|ai\s+assistant)\b"
           rf"|\b(?:dear|hey|hi|hello|attention|(?:note|message|instructions?)\s+(?:to|for))\s+"
           rf"(?:the\s+|any\s+|all\s+|every\s+)?(?:\w+\s+)?{_READER}s?\b"
           rf"|\b(?:to|for)\s+(?:the|any|all|every|an?)\s+{_READER}s?\b"  # "too early to judge" is no address
           rf"|(?:^|[.!?\n,]\s*)(?:reviewer\s+|review\s+|sentiment\s+|labell?ing\s+)?{_READER}\s*[,:]"
           r"|\bi\s+am\s+(?:the|your)\s+(?:developer|creator|administrator|admin|operator|programmer)\b"
           rf"|\bas\s+an?\s+(?:ai|a\.i\.|language\s+model)\b"
           rf"|\b(?:pretend|imagine|act|behave|role-?play)\s+(?:to\s+be|as|like|(?:that\s+)?you(?:\s+are|'re))\s+"
           rf"(?:a\s+|an\s+|the\s+)?(?:\w+\s+)?{_MODEL_NOUN}\b|\bfrom\s+now\s+on,?\s+you\b"
           r"|\byour\s+(?:developers?|creators?|programmers?|operators?)\b",
           "speaks to an AI (dear AI, to any model, as a language model, act as a judge, your developer)"),
    Signal("verdict_words", 1,
           rf"\b(?:sentiment|label|verdict|classification)\s*(?:is|=|:)\s*{_CLASS}"
           rf"|\b(?:classify|label|mark|tag|categori[sz]e)\s+(?:(?:this|it|this\s+one)\s+)?(?:as\s+)?{_CLASS}"
           rf"|\b(?:pre-?approved|pre-?labell?ed|verified|confirmed|approved)\s+as\s+{_CLASS}"
           r"|\bgold\s+label\s+(?:as\s+|is\s+)?(?:wrong|incorrect|correct|right)\b"
           rf"|\b(?:this|the)\s+(?:review|text)\s+is\s+{_CLASS}"
           r"|\b(?:this|the)\s+(?:review|text|item)\s+is\s+(?:labell?ed|classified)"
           r"\s+(?:correctly|incorrectly|wrongly|right|wrong)\b"
           r"|\b(?:all|the|every|this)\s+labels?\s+(?:is|are)\s+(?:correct|right|wrong|accurate)\b"
           r"|\bagree\s+with\s+the\s+(?:dataset\s+|gold\s+|given\s+|original\s+)?label\b"
           rf"|\b(?:any|every|all|each)\s+reviews?\b[^.\n]{{0,40}}\b(?:is|are)\s+{_CLASS}",
           "states a verdict in the judge's words (sentiment: positive, classify this as negative)"),
    Signal("reader_role", 1,
           r"\byour\s+(?:only\s+|new\s+|real\s+|sole\s+)?(?:job|task|role|purpose|goal)\s+(?:now\s+|here\s+)?"
           r"is\s+to\b"
           r"|\byour\s+(?:\w+\s+)?(?:prompt|instructions|programming|rules|guidelines)\b"
           r"|\byour\s+(?:task|role|job|instructions)\s+(?:has|have)\s+"
           r"(?:changed|been\s+(?:changed|updated|replaced))\b"
           r"|\b(?:skip|stop|end|abort)\s+(?:the\s+|your\s+)?(?:audit|auditing|evaluation|classification|task)\b",
           "tells the reader what its job or its instructions are (your only job is to, what your prompt says)"),
    Signal("task_vocabulary", 1,
           r"\bjson\b|\b(?:output|answer|response)\s+format\b"
           r"|\b(?:audit|auditing|labell?ing|grading|annotation)\s+(?:policy|guidelines|rules|instructions)\b"
           r"|\b(?:text|review|input)\s+to\s+(?:classify|judge|label|analy[sz]e|evaluate)\b"
           r"|\b(?:answer|respond|reply)\s+(?:in|using|with)\s+(?:this|the\s+following)\s+format\b",
           "speaks of the judge's task (JSON, output format, labelling policy, the text to classify)"),
    Signal("answer_words", 1,
           r"\b(?:answer|respond|reply|output|outputs|return|returns|say|print)\s+(?:only\s+|just\s+|always\s+)?"
           r"(?:the\s+word\s+)?(?:positive|negative|neutral)\b"
           rf"|\b(?:answer|respond|reply|output|return|print)\b[^.\n:]{{0,30}}:\s*{_CLASS}",
           "an answer verb followed by a class name (say positive, outputs neutral)"),
    Signal("obey_words", 1,
           r"\bdo\s+not\s+(?:follow|obey|listen\s+to)\b"
           r"|\binstead,?\s+(?:output|answer|respond|say|reply|return|print)\b"
           r"|\b(?:output|print|return)\s+(?:only|exactly|just)\b|\bi\s+(?:instruct|order|command|direct)\s+you\b"
           r"|\bbefore\s+you\s+(?:answer|respond|reply|classify|judge|decide|label)\b|\bdo\s+what\s+i\s+say\b"
           r"|\bdo\s+not\s+(?:flag|report|mark|change|alter|modify)\s+(?:it|this|the\s+label|the\s+verdict)\b"
           r"|\bi\s+(?:authori[sz]e|allow|permit)\s+you\b",
           "tells the reader what not to follow or what to output instead"),
    Signal("markup", 1,
           r"```|<<<|>>>|<!--|\{\{|\}\}|!\[[^\]\n]*\]\(\s*https?://|\{\s*[\"']\w+[\"']\s*:|^\s*[\]}]"
           r"|^\s*\"\s*[\n}\]]",
           "code fences, angle-bracket runs, template braces, HTML comments, a markdown image, a JSON object, a "
           "text opening by closing a JSON string or object"),
    Signal("invisible_characters", 1,
           "[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]",
           "zero-width or bidirectional control characters (may hide text from a human reader)"),
)

_TYPOGRAPHIC = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
                              "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"',
                              "\u00bb": '"', "\u2033": '"', "\uff02": '"', "\uff07": "'"})
_INVISIBLE = re.compile(next(s.pattern for s in SIGNALS if s.name == "invisible_characters"))
# Everything any signal could match, screened over all rows in a few passes; only the rows that hit are
# scored signal by signal. One union of all signals is slower than four: RE2's lazy DFA outgrows its cache.
_SCREEN_SIZE = 5
_SCREENS = tuple("|".join(f"(?:{s.pattern})" for s in SIGNALS[i:i + _SCREEN_SIZE])
                 for i in range(0, len(SIGNALS), _SCREEN_SIZE))


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
    hit = np.zeros(len(raw), dtype=bool)
    for screen in _SCREENS:
        hit |= _matches(low, screen)
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
