"""Versioned prompt files, and the review delimited as data."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blindspot.errors import ConfigError
from blindspot.judge.prompt import PROMPT_DIR, available_prompts, load_prompt
from blindspot.judge.protocol import JudgeRequest

from judge.helpers import CLASSES, review_of

# Released prompts are frozen: a changed text is a new file (judge_v2.txt), so that cached answers
# are never attributed to a prompt that did not produce them. Add a line here for each new file.
RELEASED = {
    "judge_v1": "06c29f4237e2908553f1c04b4a46e9b2dd38d083ebcdc1eafb7519f8e2978003",
}


def test_released_prompts_are_frozen():
    assert set(available_prompts()) == set(RELEASED), "a new prompt file: pin its sha256 in RELEASED"
    for name, digest in RELEASED.items():
        assert hashlib.sha256((PROMPT_DIR / f"{name}.txt").read_bytes()).hexdigest() == digest, (
            f"{name}.txt changed: released prompts are frozen, write {name[:-1]}{int(name[-1]) + 1}.txt instead")


def test_version_names_file_and_hash():
    prompt = load_prompt("judge_v1")
    assert prompt.version == "judge_v1@" + RELEASED["judge_v1"][:12]


def test_messages_carry_classes_label_and_review():
    request = JudgeRequest(text='He said "stop".\nThen {{label}} happened.', label="neutral", classes=CLASSES)
    system, user = load_prompt("judge_v1").messages(request)
    assert system["role"] == "system" and user["role"] == "user"
    assert '"negative", "neutral", "positive"' in system["content"]
    assert 'Dataset label: "neutral"' in user["content"]
    assert "{{" not in system["content"]
    # Placeholders inside the review are left as written (one-pass substitution).
    assert review_of({"messages": [system, user]}) == request.text


@given(st.text(max_size=300), st.sampled_from(CLASSES))
def test_any_review_stays_inside_its_delimiters(text, label):
    prompt = load_prompt("judge_v1")
    system, user = prompt.messages(JudgeRequest(text=text, label=label, classes=CLASSES))
    nonce = hashlib.sha256(text.encode()).hexdigest()[:16]
    lines = user["content"].split("\n")
    # The delimiter line occurs exactly twice; between them is one line: the review as a JSON string.
    marks = [i for i, line in enumerate(lines) if line == f"<<<REVIEW {nonce}>>>"]
    assert len(marks) == 2 and marks[1] == marks[0] + 2
    assert json.loads(lines[marks[0] + 1]) == text
    # The system message never depends on the review.
    assert system == prompt.messages(JudgeRequest(text="x", label=label, classes=CLASSES))[0]


def test_unknown_prompt_is_a_config_error():
    with pytest.raises(ConfigError, match=r"no prompt file named 'judge_v9'; available: \['judge_v1'\]"):
        load_prompt("judge_v9")
    with pytest.raises(ConfigError, match="no prompt file named"):
        load_prompt("../offline")


def test_prompt_file_without_sections_is_a_config_error(tmp_path, monkeypatch):
    import blindspot.judge.prompt as prompt_module

    (tmp_path / "broken_v1.txt").write_text("# no sections here\nJust text.\n")
    monkeypatch.setattr(prompt_module, "PROMPT_DIR", tmp_path)
    with pytest.raises(ConfigError, match="expected a '=== system ===' section followed by a '=== user ===' section"):
        prompt_module.load_prompt("broken_v1")


def test_unknown_placeholder_is_a_config_error(tmp_path, monkeypatch):
    import blindspot.judge.prompt as prompt_module

    (tmp_path / "odd_v1.txt").write_text("=== system ===\nHi {{nope}}\n=== user ===\n{{review_json}}\n")
    monkeypatch.setattr(prompt_module, "PROMPT_DIR", tmp_path)
    prompt = prompt_module.load_prompt("odd_v1")
    with pytest.raises(ConfigError, match=r"unknown placeholder \{\{nope\}\}"):
        prompt.messages(JudgeRequest(text="x", label="negative", classes=CLASSES))
