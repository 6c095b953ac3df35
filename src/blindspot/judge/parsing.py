"""Strict parsing of a judge's reply into a :class:`Verdict` or a typed failure.

Nothing is guessed: a reply either is exactly one JSON object with exactly the verdict's
keys and valid values, or it is a :class:`JudgeFailure` that keeps the raw text.

Accepted variations (all unambiguous): white space around the object; one enclosing
Markdown code fence (```json ... ```), which chat models add even in JSON mode; the
yes/no fields given as JSON booleans instead of ``"yes"``/``"no"``; an integer
confidence (0 or 1). Everything else is a failure:

- ``refusal``: the server flagged a refusal, or the reply is prose with no ``{`` at all;
- ``parse_error``: empty reply, invalid JSON, text around the object, a non-object,
  duplicate, missing or unknown keys, a value of the wrong type or out of range;
- ``abstained``: the backend declined on principle (``finish_reason`` ``abstained``, the
  reason in ``refusal``): the offline rules facing a class with no polarity.
"""

from __future__ import annotations

import json
import math
import re
from typing import Sequence

from blindspot.judge.protocol import ABSTAINED, REGISTERS, JudgeFailure, Reply, Verdict

FIELDS = ("sentiment", "sarcasm", "mixed_sentiment", "register", "gold_label_wrong",
          "gold_label_reason", "confidence", "rationale")
YES_NO = ("sarcasm", "mixed_sentiment", "gold_label_wrong")
SENTENCES = ("gold_label_reason", "rationale")
MAX_SENTENCE_CHARS = 600
_FENCE = re.compile(r"\A```(?:json|JSON)?[ \t]*\n(.*)\n```\Z", re.S)


class _Invalid(Exception):
    pass


def _no_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise _Invalid(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def _yes_no(name, value) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("yes", "no"):
        return value == "yes"
    raise _Invalid(f"{name} must be \"yes\" or \"no\", got {json.dumps(value)[:60]}")


def parse_verdict_text(content: str, classes: Sequence[str]) -> Verdict:
    """Parse reply text into a :class:`Verdict`.

    Raises
    ------
    ValueError
        With a message saying what is wrong (the caller turns it into a failure).
    """
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    try:
        obj = json.loads(text, object_pairs_hook=_no_duplicates)
    except _Invalid as exc:
        raise ValueError(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not a single JSON object: {exc.msg} at character {exc.pos}") from None
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got a JSON {type(obj).__name__}")
    missing = [k for k in FIELDS if k not in obj]
    unknown = sorted(k for k in obj if k not in FIELDS)
    if missing or unknown:
        parts = ([f"missing keys {missing}"] if missing else []) + ([f"unknown keys {unknown}"] if unknown else [])
        raise ValueError("; ".join(parts))
    try:
        sentiment = obj["sentiment"]
        if sentiment not in tuple(classes):
            raise _Invalid(f"sentiment must be one of {list(classes)}, got {json.dumps(sentiment)[:60]}")
        register = obj["register"]
        if register not in REGISTERS:
            raise _Invalid(f"register must be one of {list(REGISTERS)}, got {json.dumps(register)[:60]}")
        flags = {name: _yes_no(name, obj[name]) for name in YES_NO}
        sentences = {}
        for name in SENTENCES:
            value = obj[name]
            if not isinstance(value, str) or not value.strip():
                raise _Invalid(f"{name} must be a non-empty string, got {json.dumps(value)[:60]}")
            if len(value) > MAX_SENTENCE_CHARS:
                raise _Invalid(f"{name} must be one sentence, got {len(value)} characters")
            sentences[name] = value.strip()
        confidence = obj["confidence"]
        if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not math.isfinite(confidence) \
                or not 0 <= confidence <= 1:
            raise _Invalid(f"confidence must be a number in [0, 1], got {json.dumps(confidence)[:60]}")
    except _Invalid as exc:
        raise ValueError(str(exc)) from None
    return Verdict(sentiment=sentiment, register=register, confidence=float(confidence), **flags, **sentences)


def parse_reply(reply: Reply, classes: Sequence[str]) -> Verdict | JudgeFailure:
    """Turn a backend's :class:`Reply` into a verdict or a typed failure (raw text kept)."""
    raw = reply.content
    if reply.finish_reason == ABSTAINED:
        return JudgeFailure("abstained", reply.refusal or "the judge abstained", None)
    if reply.refusal:
        return JudgeFailure("refusal", "the server marked the reply as a refusal", reply.refusal if raw is None else raw)
    if reply.finish_reason == "content_filter":
        return JudgeFailure("refusal", "the reply was stopped by the server's content filter", raw)
    if raw is None or not raw.strip():
        return JudgeFailure("parse_error", "empty reply", raw)
    if "{" not in raw:
        return JudgeFailure("refusal", "the reply is prose with no JSON object", raw)
    try:
        return parse_verdict_text(raw, classes)
    except ValueError as exc:
        detail = str(exc)
        if reply.finish_reason == "length":
            detail += " (the reply was cut off at the token limit: raise judge.http.max_tokens)"
        return JudgeFailure("parse_error", detail, raw)
