"""Strict verdict parsing: exactly the schema, or a typed failure that keeps the raw text."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blindspot.judge.parsing import FIELDS, parse_reply
from blindspot.judge.protocol import JudgeFailure, Reply, Verdict

from judge.helpers import CLASSES, verdict


def parse(content, **kw):
    return parse_reply(Reply(content=content, **kw), CLASSES)


def test_valid_verdict():
    result = parse(json.dumps(verdict(sarcasm="yes", gold_label_wrong=True, confidence=1)))
    assert isinstance(result, Verdict)
    assert result.sarcasm is True and result.gold_label_wrong is True and result.confidence == 1.0
    assert result.mixed_sentiment is False and result.sentiment == "negative"


def test_one_code_fence_and_white_space_are_accepted():
    assert isinstance(parse("\n```json\n" + json.dumps(verdict()) + "\n```\n"), Verdict)


@pytest.mark.parametrize("content, message", [
    ("Sure! " + json.dumps(verdict()), "not a single JSON object"),
    (json.dumps(verdict()) + " Hope that helps", "not a single JSON object"),
    (json.dumps([verdict()]), "expected a JSON object"),
    (json.dumps({k: v for k, v in verdict().items() if k != "confidence"}), "missing keys ['confidence']"),
    (json.dumps({**verdict(), "reasoning": "..."}), "unknown keys ['reasoning']"),
    ('{"sentiment": "negative", "sentiment": "positive"}', "duplicate key 'sentiment'"),
    (json.dumps(verdict(sentiment="Positive")), "sentiment must be one of"),
    (json.dumps(verdict(register="clinical")), "register must be one of"),
    (json.dumps(verdict(sarcasm="maybe")), 'sarcasm must be "yes" or "no"'),
    (json.dumps(verdict(confidence=1.5)), "confidence must be a number in [0, 1]"),
    (json.dumps(verdict(confidence="high")), "confidence must be a number in [0, 1]"),
    (json.dumps(verdict(confidence=True)), "confidence must be a number in [0, 1]"),
    (json.dumps(verdict(gold_label_reason="")), "gold_label_reason must be a non-empty string"),
    (json.dumps(verdict(rationale="x" * 601)), "rationale must be one sentence"),
    ("{not json", "not a single JSON object"),
    ("   ", "empty reply"),
])
def test_every_schema_violation_is_a_parse_error_with_the_raw_text(content, message):
    result = parse(content)
    assert isinstance(result, JudgeFailure) and result.kind == "parse_error"
    assert message in result.detail and result.raw == content


def test_cut_off_reply_says_so():
    result = parse('{"sentiment": "neg', finish_reason="length")
    assert result.kind == "parse_error" and "max_tokens" in result.detail


@pytest.mark.parametrize("reply, raw", [
    (Reply(content="I'm sorry, I can't help with that."), "I'm sorry, I can't help with that."),
    (Reply(content=None, refusal="I cannot help."), "I cannot help."),
    (Reply(content=json.dumps(verdict()), refusal="no"), json.dumps(verdict())),
    (Reply(content="", finish_reason="content_filter"), ""),
])
def test_refusals(reply, raw):
    result = parse_reply(reply, CLASSES)
    assert isinstance(result, JudgeFailure) and result.kind == "refusal" and result.raw == raw


def test_none_content_is_a_parse_error():
    assert parse(None).kind == "parse_error"


@given(st.text())
def test_arbitrary_text_is_never_guessed_into_a_verdict(text):
    result = parse(text)
    if isinstance(result, Verdict):  # only a text that really is a valid verdict object
        obj = json.loads(text.strip().removeprefix("```json").removesuffix("```"))
        assert set(obj) == set(FIELDS)
    else:
        assert result.raw == text


@given(st.dictionaries(st.sampled_from(FIELDS), st.just("x"), max_size=len(FIELDS) - 1))
def test_any_missing_field_is_a_parse_error(partial):
    body = {**verdict(), **partial}
    missing = [k for k in FIELDS if k not in partial][0]
    del body[missing]
    assert parse(json.dumps(body)).kind == "parse_error"
