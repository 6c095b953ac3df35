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


def test_data_set_has_the_shape_it_is_in_the_corpus_for(dataset, first_run):
    """E.g. the short texts leave every watchlist slice empty; a planted blind spot is found under its raw value."""
    _require_all_stages(first_run)
    assert dataset.expect(first_run.root) == []


def test_rerun_in_a_fresh_copy_is_byte_identical(dataset, corpus_base):
    a, b = _runs(dataset.name, corpus_base)
    _require_all_stages(a)
    _require_all_stages(b)
    assert harness.compare_runs(a, b) == []


def test_readme_figures_for_the_uci_sentences_are_those_of_the_run(corpus_base):
    """Every number the README quotes from the UCI brief is what the corpus run of that data set wrote."""
    import json
    import re

    from _paths import ROOT

    run = _runs("uci_sentences", corpus_base)[0]
    _require_all_stages(run)

    def load(name):
        return json.loads((run.root / "metrics" / name).read_text())

    profile, slices, calibration, judge = (load(f"{n}.json") for n in ("profile", "slices", "calibration", "judge"))
    acc, overall = profile["accuracy"], calibration["overall"]
    negation = slices["watchlist"]["negated_term"]
    found = slices["discovered"]
    confident = calibration["confidently_incorrect"]["conf_ge_80"]
    kappa = judge["agreement"]["random_sample"]["gold"]["kappa"]
    expected = [
        f"accuracy {acc['value']:.3f} [{acc['ci_low']:.3f}, {acc['ci_high']:.3f}]",
        f"against {profile['majority_baseline_accuracy']:.3f} for always answering",
        f"recognised {negation['recall_1']['value']:.0%} of the time, against {negation['recall_1']['rest_value']:.0%}",
        f"({negation['n']:,} sentences negate a sentiment or clinical term",
        f"(error rate {found['length_q4']['error_rate']['value']:.2f} against "
        f"{found['length_q4']['error_rate']['rest_value']:.2f})",
        f"{slices['text_features']['length']['n_words_quantiles']['edges'][-1]} words or more",
        f'"good / price / pretty" (its negative sentences recognised '
        f"{found['topic_good_price_pretty']['recall_0']['value']:.2f} against "
        f"{found['topic_good_price_pretty']['recall_0']['rest_value']:.2f})",
        f"\"like / don / did\" (its positive ones {found['topic_like_don_did']['recall_1']['value']:.2f} against "
        f"{found['topic_like_don_did']['recall_1']['rest_value']:.2f})",
        f"None of the {slices['text_slices']['terms']['n_selected']} error-associated terms",
        f"{slices['family']['n_blind_spots']} slices in all after false-discovery control over "
        f"{slices['family']['n_tests']} tests",
        f"Mean confidence is {overall['mean_confidence']:.3f} for an accuracy of {overall['accuracy']:.3f}",
        f"ECE {overall['ece']['value']:.3f} [{overall['ece']['ci_low']:.3f}, {overall['ece']['ci_high']:.3f}]",
        f"only {confident['count']} sentences ({confident['rate']['value']:.1%}) are wrong",
        f"kappa {kappa['value']:.2f} [{kappa['ci_low']:.2f}, {kappa['ci_high']:.2f}]",
    ]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## A second data set: the UCI sentences\n(.*?)(?=^## )", readme, re.M | re.S).group(1)
    section = " ".join(section.split())
    missing = [e for e in expected if e not in section]
    assert not missing, f"README's UCI section does not say (from this run): {missing}"
