"""Every metrics file the stages write is byte-identical to the committed fixture cases.

The report's fixture cases (``tests/report/cases/``) are real stage outputs on seven small
generated data sets. This test writes them again with this checkout's code and compares
every file byte for byte, so a refactoring that changes a single written number fails
here. A change that is meant to alter the output (a bug fix) regenerates the cases with
``python tests/report/cases/make_cases.py`` and names the change in its commit.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

CASES = Path(__file__).resolve().parent / "report" / "cases"


def _make_cases():
    spec = importlib.util.spec_from_file_location("make_cases", CASES / "make_cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_every_stage_output_is_byte_identical_to_the_committed_cases(tmp_path):
    _make_cases().main((), tmp_path)
    committed = sorted(p.relative_to(CASES) for p in CASES.rglob("*") if p.is_file() and p.parent != CASES)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert written == committed
    changed = [str(rel) for rel in committed if (CASES / rel).read_bytes() != (tmp_path / rel).read_bytes()]
    assert changed == [], f"stage outputs differ from tests/report/cases: {changed}"
