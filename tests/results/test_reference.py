"""The reference page is generated from the declarations and committed up to date."""

from __future__ import annotations

from pathlib import Path

from blindspot.results.reference import render
from blindspot.results.registry import FILES

ROOT = Path(__file__).resolve().parents[2]


def test_docs_metrics_md_is_the_rendered_declarations():
    committed = (ROOT / "docs" / "METRICS.md").read_text(encoding="utf-8")
    assert committed == render(), "run: python -m blindspot.results.reference"


def test_every_file_declares_each_path_once():
    for f in FILES:
        paths = [k.path for k in f.keys]
        assert len(paths) == len(set(paths)), f.path
