"""Every stage on every corpus data set: no crash, no silent loss, a complete brief, no key collision, same bytes twice.

Each data set runs the whole pipeline twice, in two fresh scratch copies at different
paths (two workers side by side), once per session; the tests below read those runs.
When a stage fails, every test of that data set fails and names the stage and the
first line of its error.
"""

from __future__ import annotations

import threading

import pytest

from corpus import harness
from corpus.datasets import DATASETS

pytestmark = pytest.mark.slow

_RUNS: dict = {}
_LOCK = threading.Lock()


@pytest.fixture(scope="session")
def corpus_base(tmp_path_factory):
    return tmp_path_factory.mktemp("corpus")


def _runs(name, base):
    with _LOCK:
        if name not in _RUNS:
            _RUNS[name] = harness.run_twice(DATASETS[name], base)
        return _RUNS[name]


@pytest.fixture(params=sorted(DATASETS), ids=sorted(DATASETS))
def dataset(request):
    return DATASETS[request.param]


@pytest.fixture
def first_run(dataset, corpus_base):
    return _runs(dataset.name, corpus_base)[0]


def _require_all_stages(run):
    if run.compose_error or run.failed is not None:
        pytest.fail(f"not checkable: {run.summary()}")


def test_every_stage_exits_0_without_a_traceback(dataset, corpus_base):
    for run in _runs(dataset.name, corpus_base):
        if run.compose_error:
            pytest.fail(f"{dataset.name}: {run.summary()}")
        bad = run.failed
        if bad is not None:
            pytest.fail(f"{dataset.name}: {run.summary()}\n--- stderr of {bad.name} ---\n{bad.stderr[-3000:]}")


def test_ingest_accounts_for_every_row(dataset, first_run):
    if first_run.compose_error or not first_run.stages:
        pytest.fail(f"not checkable: {first_run.summary()}")
    assert harness.check_ingest_accounting(first_run.root, dataset.rows) == []


def test_brief_has_every_section_and_every_significant_finding(first_run):
    _require_all_stages(first_run)
    assert harness.check_brief_complete(first_run.root) == []


def test_slice_keys_are_unique_and_the_same_in_every_file(first_run):
    _require_all_stages(first_run)
    assert harness.check_slice_keys(first_run.root) == []


def test_rerun_in_a_fresh_copy_is_byte_identical(dataset, corpus_base):
    a, b = _runs(dataset.name, corpus_base)
    _require_all_stages(a)
    _require_all_stages(b)
    assert harness.compare_runs(a, b) == []
