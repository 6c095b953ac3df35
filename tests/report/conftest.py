"""A scratch copy of the audit run on the bundled data (with one hostile review), shared by the report tests.

Every upstream stage runs for real (in process, with a small bootstrap), so the report
is tested against the formats the other stages actually write, not a hand-made copy.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from pathlib import Path

import pytest
import yaml

from _bundled import bundled_params
from _paths import ROOT

LOG = logging.getLogger("test")

# The text of the bundled v1's most confidently wrong review is replaced by this.
HOSTILE_ID = "dc-25945"
HOSTILE = ('Works <script>alert("pwned")</script> **bold** [click](javascript:alert(1)) '
           '<img src=x onerror="alert(2)"> | a | b |\n# Heading\n- item `tick` \\ _under_ &amp; &lt;b&gt; '
           "~~strike~~ </blockquote><p onclick='x'>'quoted' \"double\" ![img](http://example.invalid/x.png)")


@contextlib.contextmanager
def chdir(path: Path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield path
    finally:
        os.chdir(old)


def write_params(root: Path, overrides: dict) -> None:
    params = bundled_params()
    for dotted, value in overrides.items():
        node = params
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node[key]
        node[leaf] = value
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def run_stages(root: Path, names) -> None:
    import importlib

    with chdir(root):
        for name in names:
            importlib.import_module(f"blindspot.stages.{name}").main(LOG)


@pytest.fixture(scope="session")
def audited(tmp_path_factory) -> Path:
    """A directory holding every stage's output for the bundled v1 data, hostile review included."""
    root = tmp_path_factory.mktemp("audit")
    raw = root / "data/raw/predictions"
    raw.mkdir(parents=True)
    records = json.loads((ROOT / "data/raw/predictions/v1.json").read_text())
    assert any(r["id"] == HOSTILE_ID for r in records)
    for r in records:
        if r["id"] == HOSTILE_ID:
            r["text"] = HOSTILE
    (raw / "v1.json").write_text(json.dumps(records))
    shutil.copy(ROOT / "data/raw/predictions/v2.json", raw / "v2.json")
    write_params(root, {"stats.n_boot": 100, "report.max_quote_chars": 1000})
    run_stages(root, ["ingest", "profile", "slice", "calibrate", "judge", "compare", "lifecycle", "gate", "report"])
    return root


@pytest.fixture
def audit_copy(audited, tmp_path) -> Path:
    """A private copy of :func:`audited` a test may change."""
    dest = tmp_path / "audit"
    shutil.copytree(audited, dest)
    return dest
