"""The README's "What the audit finds" quotes the bundled v1 audit's brief: every number in it must be there.

The brief is made afresh (``bundled_audit``, tests/conftest.py), not read from the workspace, whose
``reports/`` hold whatever the user audited last.
"""

from __future__ import annotations

import json
import re

import pytest

from blindspot import paths

from _paths import ROOT


def _story() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"^## What the audit finds\n(.*?)^## ", text, re.S | re.M)
    assert m, "README.md has no 'What the audit finds' section"
    return re.sub(r"`[^`]*`|\([^)]*\.png\)", "", m.group(1))  # keys and figure paths are not claims


@pytest.mark.slow
def test_readme_story_numbers_are_in_the_bundled_brief(bundled_audit):
    brief = (bundled_audit / paths.BRIEF_MD).read_text(encoding="utf-8").replace("\\", "")
    profile = json.loads((bundled_audit / paths.PROFILE_METRICS).read_text())
    counts = {str(v) for row in profile["confusion_matrix"].values() for v in row.values()}
    story = _story()
    decimals = set(re.findall(r"\d+\.\d+", story))
    integers = set(re.findall(r"(?<![\d.])\d{2,}(?![\d.])", story))
    assert len(decimals) > 15
    missing = sorted(d for d in decimals if d not in brief) + sorted(
        i for i in integers if not re.search(rf"(?<![\d.]){i}(?![\d.])", brief) and i not in counts)
    assert not missing, f"README numbers not in the bundled audit's {paths.BRIEF_MD}: {missing}"
