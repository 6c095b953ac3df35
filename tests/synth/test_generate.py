"""Tests of the synthetic data generator (blindspot.synth.generate): shape, null and planted modes, text.

Statistical checks run at fixed seeds, so they are deterministic; tolerances are
set at several standard errors so that a change of seed would not break them.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from blindspot.synth import (
    DEFAULT_CLASSES,
    METADATA_COLUMNS,
    METADATA_VALUES,
    PlantedSlice,
    generate,
    write,
)
from blindspot.text_features import negated_term

N = 20_000

# What an audit's text detectors would look for.
MEDICAL = re.compile(
    r"\b\d+(?:\.\d+)?\s?(?:mg|mcg|ml|units)\b|\b\w+(?:itis|emia|algia|osis|ectomy|pathy)\b|\b(?:twice|once) daily\b",
    re.I,
)
NEGATION = re.compile(r"\b(?:not|never|no|nothing|nobody|none|no longer)\b|n't\b", re.I)
SARCASM = re.compile(r'oh great|yeah right|just what i needed|thanks a lot|love waiting|"', re.I)
CONTRAST = re.compile(r"\b(?:but|although|though|however)\b", re.I)
POSITIVE_WORDS = re.compile(r"\b(?:great|excellent|brilliant|recommend|amazing|lovely|kind|thank|best|happy)\b", re.I)
MIXED_POSITIVE = re.compile(r"\b(?:good|great|excellent|helped|helpful|better|worked|works|saved|happy|improved|improvement)\b", re.I)
MIXED_NEGATIVE = re.compile(r"\b(?:bad|awful|terrible|horrible|worse|useless|disappointed|unbearable)\b", re.I)
NEGATIVE_WORDS = re.compile(r"\b(?:terrible|awful|useless|worst|rude|waste|avoid|disappointed|worse|horrible)\b", re.I)


def rate(texts: pd.Series, pattern: re.Pattern) -> float:
    return float(texts.str.contains(pattern).mean())


@pytest.fixture(scope="module")
def null_data():
    return generate(N, seed=11)


@pytest.fixture(scope="module")
def planted_data():
    return generate(N, seed=12, mode="planted", planted=[PlantedSlice({"specialty": "oncology"}, error_gap=0.20)])


def wrong(frame: pd.DataFrame) -> np.ndarray:
    return (frame["label"] != frame["prediction"]).to_numpy()


# ----------------------------------------------------------------- shape and contract


def test_columns_types_and_ids(null_data):
    f = null_data.frame
    expected = ["id", "text", "label", "prediction", "confidence"] + [f"p_{c}" for c in DEFAULT_CLASSES]
    assert list(f.columns) == expected + list(METADATA_COLUMNS)
    assert f["id"].iloc[0] == "s-0000001" and f["id"].iloc[-1] == f"s-{N:07d}"
    assert f["id"].is_unique
    for col in ["confidence"] + [f"p_{c}" for c in DEFAULT_CLASSES]:
        assert f[col].dtype == np.float64
    for col in METADATA_COLUMNS:
        assert set(f[col].unique()) <= set(METADATA_VALUES[col])
    assert set(f["label"]) == set(f["prediction"]) == set(DEFAULT_CLASSES)
    latent = null_data.latent
    assert list(latent.columns) == ["register", "negated", "sarcastic", "mixed", "in_planted"]
    assert latent.index.equals(f.index)
    assert set(latent["register"]) == {"plain", "jargon"}
    assert (latent["in_planted"] == -1).all()
    json.dumps(null_data.truth, allow_nan=False)  # plain JSON


def test_texts_are_realistic_lengths_and_varied():
    f = generate(1000, seed=5).frame
    words = f["text"].str.split().str.len()
    assert words.min() >= 15 and words.max() <= 80
    assert not f["text"].str.contains("  ", regex=False).any()
    assert f["text"].duplicated().mean() < 0.05
    assert f["text"].str.contains("?", regex=False).any()
    assert f["text"].str.contains("!", regex=False).any()
    assert f["text"].str.contains(r"\b[A-Z]{4,}\b").any()  # occasional ALL CAPS


def test_determinism(tmp_path):
    kwargs = dict(seed=7, mode="planted", planted=[PlantedSlice({"platform": "web"}, confidence=0.9)])
    a, b = generate(3000, **kwargs), generate(3000, **kwargs)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    pd.testing.assert_frame_equal(a.latent, b.latent)
    assert a.truth == b.truth
    write(a, tmp_path / "a.jsonl")
    write(b, tmp_path / "b.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert (tmp_path / "a.truth.json").read_bytes() == (tmp_path / "b.truth.json").read_bytes()

    c = generate(3000, **{**kwargs, "seed": 8})
    assert (c.frame["text"] != a.frame["text"]).mean() > 0.9
    assert not np.array_equal(c.frame["confidence"], a.frame["confidence"])


def test_class_shares(null_data):
    shares = null_data.frame["label"].value_counts(normalize=True)
    for cls, target in zip(DEFAULT_CLASSES, (0.26, 0.09, 0.65)):
        assert abs(shares[cls] - target) < 0.015
    assert null_data.truth["realised_class_shares"] == pytest.approx(shares.to_dict())


def test_probabilities_valid(null_data):
    f = null_data.frame
    proba = f[[f"p_{c}" for c in DEFAULT_CLASSES]].to_numpy()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert (proba > 0).all()
    top = np.sort(proba, axis=1)
    assert (top[:, -1] > top[:, -2]).all(), "predicted class must be the strict argmax"
    pred = np.asarray(DEFAULT_CLASSES)[proba.argmax(axis=1)]
    assert (pred == f["prediction"].to_numpy()).all()
    assert (f["confidence"].to_numpy() == proba.max(axis=1)).all()
    assert (f["confidence"] > 1 / 3).all() and (f["confidence"] < 1).all()


# --------------------------------------------------------------------------- null mode


def test_null_error_rate_matches_confidence(null_data):
    f = null_data.frame
    err = wrong(f).mean()
    assert abs(err - 0.15) < 0.01
    assert abs(err - (1 - f["confidence"].mean())) < 0.01
    assert abs(f["confidence"].mean() - 0.85) < 0.005


@pytest.mark.parametrize("column", list(METADATA_COLUMNS) + ["register", "negated", "mixed"])
def test_null_errors_independent_of_features(null_data, column):
    source = null_data.frame if column in METADATA_COLUMNS else null_data.latent
    table = pd.crosstab(source[column], wrong(null_data.frame))
    assert stats.chi2_contingency(table).pvalue > 1e-3


def test_null_metadata_independent_of_label(null_data):
    f = null_data.frame
    for column in METADATA_COLUMNS:
        assert stats.chi2_contingency(pd.crosstab(f[column], f["label"])).pvalue > 1e-3


def test_wrong_predictions_spread_uniformly(null_data):
    f = null_data.frame
    w = wrong(f)
    for label in DEFAULT_CLASSES:
        preds = f.loc[w & (f["label"] == label).to_numpy(), "prediction"]
        shares = preds.value_counts(normalize=True)
        assert len(shares) == 2 and label not in shares
        assert abs(shares.iloc[0] - 0.5) < 4 * np.sqrt(0.25 / len(preds))


def test_null_mode_is_calibrated(null_data):
    f = null_data.frame
    conf = f["confidence"].to_numpy()
    correct = ~wrong(f)
    bins = np.minimum((conf * 10).astype(int), 9)
    checked = 0
    for b in np.unique(bins):
        rows = bins == b
        if rows.sum() < 200:
            continue
        c = conf[rows].mean()
        se = np.sqrt(c * (1 - c) / rows.sum())
        assert abs(correct[rows].mean() - c) < 4 * se, f"bin {b}"
        checked += 1
    assert checked >= 4
    # Expected calibration error of a calibrated model is sampling noise only.
    ece = sum(abs(correct[bins == b].mean() - conf[bins == b].mean()) * (bins == b).mean() for b in np.unique(bins))
    assert ece < 0.015


# ------------------------------------------------------------------------ planted mode


def test_planted_share_and_gap(planted_data):
    f, latent, truth = planted_data.frame, planted_data.latent, planted_data.truth
    inside = (f["specialty"] == "oncology").to_numpy()
    assert np.array_equal(inside, latent["in_planted"].to_numpy() == 0)
    assert abs(inside.mean() - 0.10) < 0.01
    w = wrong(f)
    gap = w[inside].mean() - w[~inside].mean()
    assert abs(gap - 0.20) < 0.04
    assert abs(w[~inside].mean() - 0.15) < 0.012
    (slice_truth,) = truth["planted"]
    assert slice_truth["predicate"] == {"specialty": "oncology"}
    assert slice_truth["n_rows"] == inside.sum()
    assert slice_truth["error_rate_inside"] == pytest.approx(w[inside].mean())
    assert slice_truth["error_rate_outside"] == pytest.approx(w[~inside].mean())
    assert slice_truth["expected_gap"] == pytest.approx(0.20)
    # The slice is miscalibrated (overconfident), not just less accurate.
    assert f["confidence"][inside].mean() - (1 - w[inside].mean()) > 0.12


def test_planted_confidence_honoured():
    data = generate(N, seed=13, mode="planted",
                    planted=[PlantedSlice({"age_band": "65+"}, error_gap=0.25, confidence=0.9)])
    f = data.frame
    inside = (data.latent["in_planted"] == 0).to_numpy()
    w = wrong(f)
    conf = f["confidence"].to_numpy()
    assert abs(conf[inside & w].mean() - 0.9) < 0.01
    assert conf[inside & w].min() > 0.8
    assert conf[~inside & w].mean() < 0.8  # wrong answers elsewhere stay hesitant
    assert abs(w[inside].mean() - w[~inside].mean() - 0.25) < 0.04


def test_planted_multi_key_and_latent_slices_are_disjoint():
    slices = [
        PlantedSlice({"age_band": "65+", "platform": "android"}, share=0.08),
        PlantedSlice({"register": "jargon"}, error_gap=0.15, share=0.12),
        PlantedSlice({"sarcastic": "true"}, error_gap=0.3, share=0.05),
    ]
    data = generate(N, seed=14, mode="planted", planted=slices)
    both = pd.concat([data.frame, data.latent], axis=1)
    w = wrong(data.frame)
    base = w[(data.latent["in_planted"] == -1).to_numpy()].mean()
    for j, s in enumerate(slices):
        match = np.ones(len(both), bool)
        for col, value in s.predicate.items():
            value = value == "true" if col == "sarcastic" else value
            match &= (both[col] == value).to_numpy()
        assert np.array_equal(match, data.latent["in_planted"].to_numpy() == j), s.predicate
        assert abs(match.mean() - s.share) < 0.01
        se = np.sqrt(0.4 * 0.6 / match.sum())
        assert abs(w[match].mean() - base - s.error_gap) < 4 * se + 0.005
        t = data.truth["planted"][j]
        assert t["realised_gap"] == pytest.approx(w[match].mean() - w[~match].mean())
        assert abs(t["realised_gap"] - t["expected_gap"]) < 4 * se + 0.01
    # Sarcasm is a way of being negative.
    assert (data.frame.loc[data.latent["sarcastic"], "label"] == "negative").all()


@pytest.mark.parametrize("bad", [
    dict(planted=[PlantedSlice({"specialty": "oncology"}),
                  PlantedSlice({"specialty": "oncology", "platform": "web"})]),  # nested
    dict(planted=[PlantedSlice({"specialty": "podiatry"})]),
    dict(planted=[PlantedSlice({"colour": "red"})]),
    dict(planted=[PlantedSlice({"specialty": "oncology"}, error_gap=0.95)]),
    dict(planted=[PlantedSlice({"sarcastic": True}, share=0.5)]),  # more than the negative rows
    dict(planted=[]),
])
def test_planted_rejects_bad_slices(bad):
    with pytest.raises(ValueError):
        generate(500, seed=0, mode="planted", **bad)


def test_null_mode_refuses_slices():
    with pytest.raises(ValueError):
        generate(500, seed=0, planted=[PlantedSlice({"specialty": "oncology"})])


# --------------------------------------------------------------------------------- text


def test_latent_attributes_are_visible_in_text(null_data):
    text, latent = null_data.frame["text"], null_data.latent
    jargon = latent["register"] == "jargon"
    assert rate(text[jargon], MEDICAL) > 0.95
    assert rate(text[~jargon], MEDICAL) < 0.01
    assert rate(text[latent["negated"]], NEGATION) > 0.99
    assert rate(text[~latent["negated"]], NEGATION) < 0.01
    assert rate(text[latent["sarcastic"]], SARCASM) > 0.99
    assert rate(text[~latent["sarcastic"]], SARCASM) < 0.01
    assert rate(text[latent["mixed"]], CONTRAST) > 0.95
    assert rate(text[~latent["mixed"]], CONTRAST) < 0.01
    # Mixed reviews carry both polarities, in words a sentiment lexicon knows.
    mixed = text[latent["mixed"]]
    assert (mixed.str.contains(MIXED_POSITIVE) & mixed.str.contains(MIXED_NEGATIVE)).mean() > 0.95
    assert 0.2 < jargon.mean() < 0.4 and latent["sarcastic"].sum() > 500



def test_negated_reviews_negate_a_term_the_detector_knows(null_data):
    # A planted negation slice is found through negated_term: every negated review must
    # negate one of its targets within its scope, and no other review may.
    hit = negated_term(null_data.frame["text"])
    negated = null_data.latent["negated"].to_numpy()
    assert hit[negated].mean() > 0.99
    assert not hit[~negated].any()

def test_text_sentiment_follows_label(null_data):
    f, latent = null_data.frame, null_data.latent
    straight = ~latent["sarcastic"] & ~latent["mixed"]
    pos, neg = f["text"][straight & (f["label"] == "positive")], f["text"][straight & (f["label"] == "negative")]
    assert rate(pos, POSITIVE_WORDS) > rate(neg, POSITIVE_WORDS) + 0.4
    assert rate(neg, NEGATIVE_WORDS) > rate(pos, NEGATIVE_WORDS) + 0.4
    # Sarcastic reviews are negative but use positive-sounding words.
    sarcastic = f["text"][latent["sarcastic"]]
    assert rate(sarcastic, POSITIVE_WORDS) > rate(neg, POSITIVE_WORDS) + 0.2


def test_specialty_shows_in_text(null_data):
    f = null_data.frame
    for specialty, word in [("dermatology", "dermatologist"), ("cardiology", "cardiologist"), ("oncology", "oncologist")]:
        assert rate(f["text"][f["specialty"] == specialty], re.compile(word)) > 0.3
        assert rate(f["text"][f["specialty"] != specialty], re.compile(word)) == 0


# ------------------------------------------------------------------------ other shapes


def test_two_classes():
    data = generate(5000, seed=21, classes=("negative", "positive"))
    f = data.frame
    assert list(f.columns[:7]) == ["id", "text", "label", "prediction", "confidence", "p_negative", "p_positive"]
    assert set(f["label"]) == {"negative", "positive"}
    assert (f["confidence"] > 0.5).all()
    np.testing.assert_allclose(f["p_negative"] + f["p_positive"], 1.0, atol=1e-9)
    assert ((f["p_positive"] > f["p_negative"]) == (f["prediction"] == "positive")).all()
    assert abs(wrong(f).mean() - 0.15) < 0.02
    assert rate(f["text"][f["label"] == "negative"], NEGATIVE_WORDS) > 0.4


def test_large_n_smoke():
    data = generate(200_000, seed=1, mode="planted", planted=[PlantedSlice({"specialty": "oncology"})])
    assert len(data.frame) == len(data.latent) == 200_000
    assert not data.frame.isna().any().any()
    assert data.frame["id"].is_unique
    words = data.frame["text"].str.count(" ") + 1  # single spaces between words
    assert words.min() >= 15 and words.max() <= 80
