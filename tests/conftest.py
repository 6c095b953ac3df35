"""Shared fixtures: the repository root and a way to run a stage in a scratch directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from hypothesis import settings


from _paths import ROOT

# Property tests explore new examples on every local run; CI (.ci/run sets HYPOTHESIS_PROFILE=ci)
# replays a fixed sequence, so a landing is judged on the same examples every time it runs.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def repo_root() -> Path:
    return ROOT


@pytest.fixture
def params_for(tmp_path):
    """Write a params.yaml in ``tmp_path`` (from the committed one, with overrides) and chdir there.

    Returns a function ``(overrides: dict) -> Path`` where overrides are dotted keys,
    e.g. ``{"model.path": "/abs/file.csv"}``.
    """
    base = yaml.safe_load((ROOT / "params.yaml").read_text())
    old = os.getcwd()

    def make(overrides: dict | None = None) -> Path:
        params = yaml.safe_load(yaml.safe_dump(base))
        for dotted, value in (overrides or {}).items():
            node = params
            *parents, leaf = dotted.split(".")
            for key in parents:
                node = node[key]
            node[leaf] = value
        (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        os.chdir(tmp_path)
        return tmp_path

    yield make
    os.chdir(old)
