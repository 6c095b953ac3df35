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


@pytest.fixture(scope="session")
def bundled_audit(tmp_path_factory) -> Path:
    """A git repository holding the bundled v1 audit, run from scratch by the real ``dvc repro``.

    Made once per session (about a minute) in a copy of the repository, whatever audit the workspace
    holds, so tests that quote the bundled audit never read the workspace's own outputs. Read only:
    a test that changes it copies it first (``shutil.copytree``).
    """
    from _bundled import make_bundled_audit

    return make_bundled_audit(tmp_path_factory.mktemp("bundled") / "repo")


@pytest.fixture
def params_for(tmp_path):
    """Write a params.yaml in ``tmp_path`` (the bundled audit's, with overrides) and chdir there.

    The base is ``conf/`` composed with ``model=v1``, not the workspace's ``params.yaml``, which holds
    whatever the user audited last. Returns a function ``(overrides: dict) -> Path`` where overrides
    are dotted keys, e.g. ``{"model.path": "/abs/file.csv"}``.
    """
    from _bundled import bundled_params

    base = bundled_params()
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
