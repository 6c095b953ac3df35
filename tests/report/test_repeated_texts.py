"""The brief's paragraph on repeated texts: leakage named when duplicates are easier, quiet otherwise."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from blindspot import paths
from blindspot.report import load_inputs, markdown
from blindspot.report.document import Document
from blindspot.report.load import DUPLICATES_ABSENT, ClassRow, Duplicates, Estimate, Inputs, Profile, Unmeasured
from blindspot.report.sections.classes import repeated_texts


def _profile() -> Profile:
    rows = tuple(ClassRow(n, s, s / 440, s, s / 440, Estimate(0.8, 0.75, 0.85), Estimate(0.8), Estimate(0.8))
                 for n, s in (("negative", 160), ("positive", 280)))
    return Profile(model="vX", n_rows=440, ci_level=0.95, accuracy=Estimate(0.82, 0.78, 0.85),
                   balanced_accuracy=Estimate(0.8), f1_macro=Estimate(0.79), mcc=Estimate(0.6),
                   cohen_kappa=Estimate(0.6), majority_class="positive", majority_baseline=0.636,
                   lift=Estimate(0.18), imbalance_ratio=1.75, classes=rows, confusion={}, interval_method="x")


def _dups(**over) -> Duplicates:
    base = dict(groups=19, rows_duplicated=40, rows_unique=2960, conflicting_groups=0, rows_in_conflicting_groups=0,
                accuracy_duplicated=Estimate(1.0, 0.912378, 1.0),
                accuracy_unique=Estimate(0.825676, 0.811589, 0.838919),
                easier_p_value=0.026622)
    return Duplicates(**{**base, **over})


def _text(dups, alpha=0.05) -> str:
    profile = dataclasses.replace(_profile(), duplicates=dups)
    return markdown.render(Document("t").add(*repeated_texts(Inputs(profile=profile), alpha=alpha)))


def test_easier_duplicates_are_called_leakage_with_both_accuracies_and_counts():
    text = _text(_dups())
    assert "### Repeated texts" in text
    assert "easier for the model, which usually means leakage" in text
    assert "19 texts occur more than once (ignoring case and spacing; 40 reviews in all)" in text
    assert "100.0% (95% CI 91.2% to 100.0%) of them and on 82.6% (81.2% to 83.9%) of the 2,960 reviews" in text
    assert "p = 0.027, below 0.05; a single test fixed in advance" in text
    assert "train/test leakage" in text and "overstates accuracy on new text" in text
    assert "(the headline accuracy is 82.0%)" in text


def test_the_same_numbers_above_alpha_get_one_quiet_sentence():
    text = _text(_dups(), alpha=0.01)
    assert ("not significantly more often (one-sided Fisher exact test, each repeated text counted once, "
            "p = 0.027)") in text
    assert "leakage from repeated texts" in text and "usually means" not in text and "training" not in text
    body = text.split("### Repeated texts")[1].strip()
    assert body.count(". ") == 0  # one sentence


def test_no_duplicates_is_one_clause():
    text = _text(_dups(groups=0, rows_duplicated=0, rows_unique=440, easier_p_value=Unmeasured("x")))
    assert "No review text occurs more than once (ignoring case and spacing)" in text
    assert "Fisher" not in text


def test_label_conflicts_get_a_sentence_only_when_present():
    assert "gold labels" not in _text(_dups())
    text = _text(_dups(conflicting_groups=3, rows_in_conflicting_groups=7))
    assert "3 of the repeated texts carry different gold labels on different rows (7 reviews)" in text
    assert "label noise" in text


def test_unmeasurable_values_say_why():
    text = _text(_dups(easier_p_value=Unmeasured("every prediction tested is right"),
                       conflicting_groups=Unmeasured("no value recorded")))
    assert "cannot be tested (one-sided Fisher exact test, each repeated text counted once, p not measurable: " \
           "every prediction tested is right)" in text
    assert "Conflicting gold labels among repeated texts: not measurable: no value recorded." in text
    gone = Unmeasured(DUPLICATES_ABSENT)
    old = _text(Duplicates(gone, gone, gone, gone, gone, Estimate(gone), Estimate(gone), gone))
    assert f"Repeated texts and leakage: not measurable: {DUPLICATES_ABSENT}." in old


# ---------------------------------------------------------------- through the real stages


def _section(md: str, title: str) -> str:
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", md, re.S | re.M)
    assert m, title
    return m.group(1)


def test_bundled_v1_brief_reports_its_one_repeated_text_as_no_evidence(audited):
    md = (audited / paths.BRIEF_MD).read_text(encoding="utf-8")
    part = _section(md, "Why accuracy misleads")
    dups = json.loads((audited / paths.PROFILE_METRICS).read_text())["duplicates"]
    assert (dups["groups"], dups["rows_duplicated"], dups["rows_unique"]) == (1, 2, 977)
    assert "### Repeated texts" in part
    assert ("1 text occurs more than once (ignoring case and spacing; 2 reviews in all): the model is right on "
            "100.0% (95% CI 34.2% to 100.0%) of them and on 71.3% (68.4% to 74.1%) of the 977 reviews") in part
    assert "not significantly more often" in part and "p = 0.714" in part


def test_a_profile_without_the_check_and_a_blanked_block_render_not_measurable(audit_copy):
    prof_path = audit_copy / paths.PROFILE_METRICS
    data = json.loads(prof_path.read_text())
    block = data["duplicates"]

    def brief() -> str:
        from blindspot.config import ReportConfig
        from blindspot.report.sections import build_brief

        inputs = load_inputs(audit_copy)
        return markdown.render(build_brief(inputs, ReportConfig(), alpha=0.05))

    data["duplicates"] = {k: block[k] for k in ("distinct_texts", "duplicate_rows", "duplicated_texts",
                                                "conflicting_label_texts")}  # the layout before the check
    prof_path.write_text(json.dumps(data))
    assert f"Repeated texts and leakage: not measurable: {DUPLICATES_ABSENT}." in brief()

    data["duplicates"] = {**block, "easier_p_value": None, "accuracy_duplicated": {**block["accuracy_duplicated"],
                                                                                    "value": None}}
    prof_path.write_text(json.dumps(data))
    text = _section(brief(), "Why accuracy misleads")
    assert "the model is right on not measurable: " in text
    assert "p not measurable" in text and "nan" not in re.findall(r"[a-z]+", text.lower())

    del data["duplicates"]["rows_unique"]
    prof_path.write_text(json.dumps(data))
    from blindspot.errors import InputError

    with pytest.raises(InputError, match=r"duplicates\.rows_unique"):
        load_inputs(audit_copy)


def test_uci_sentences_brief_names_leakage():
    """The UCI predictions are out of fold, yet 19 repeated sentences were in other folds' training data."""
    import numpy as np

    from _paths import ROOT
    from blindspot.config import IngestConfig, ModelConfig
    from blindspot.ingest import ingest_file
    from blindspot.io.writers import dumps_metrics
    from blindspot.profiling import profile_predictions
    from blindspot.report.load import Src, parse_profile

    clean = ingest_file(ModelConfig(path=str(ROOT / "data/raw/predictions/uci_sentences.jsonl")),
                        IngestConfig(classes=["0", "1"])).clean
    prof = profile_predictions(clean, ["0", "1"], n_boot=20, level=0.95, rng=np.random.default_rng(0),
                               length_quantiles=[0.5])
    written = json.loads(dumps_metrics({**prof, "model": "uci_sentences"}))
    profile = parse_profile(Src(str(paths.PROFILE_METRICS), written))
    text = markdown.render(Document("t").add(*repeated_texts(Inputs(profile=profile), alpha=0.05)))
    assert "Reviews whose text repeats are easier for the model, which usually means leakage." in text
    assert ("19 texts occur more than once (ignoring case and spacing; 40 reviews in all): the model is right on "
            "100.0% (95% CI 91.2% to 100.0%) of them and on 82.6% (81.2% to 83.9%) of the 2,960 reviews") in text
    assert "p = 0.027, below 0.05" in text and "(the headline accuracy is 82.8%)" in text
