"""Train the two bundled model versions and write their out-of-fold predictions.

This is how ``data/raw/predictions/v1.json`` and ``v2.json`` were made. It reads the
979 Drugs.com reviews in ``data/source/drugscom/`` (see ``data/README.md`` for source,
license and citation), cleans them, and fits two real scikit-learn text classifiers
with stratified 5-fold cross-validation. Every review is scored by the model that did
*not* see it during training (``cross_val_predict(method="predict_proba")``), so the
audited predictions are honest held-out predictions, not training-set fits.

Model versions
--------------
v1
    Word uni- and bi-gram TF-IDF + multinomial logistic regression, unweighted. The
    kind of baseline a team ships first: it rides the majority class.
v2
    Word (1-2)-gram TF-IDF plus character (2-5)-gram TF-IDF, logistic regression with
    ``class_weight="balanced"``. Character n-grams catch drug names, doses and
    morphology (``-itis``); class weighting trades accuracy for minority-class recall.
    The audit should show that trade.

Usage
-----
    python scripts/make_predictions.py            # rewrites data/raw/predictions/*.json
    python scripts/make_predictions.py --out DIR  # writes elsewhere (used by the tests)

The output is deterministic for a given seed and package versions: probabilities are
rounded to 6 decimals, the predicted class is the argmax of the rounded probabilities
(ties broken by class order: the first class listed wins) and ``confidence`` is that
maximum, exactly as the input contract requires.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, make_pipeline

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "data" / "source" / "drugscom"
CLASSES = ("negative", "neutral", "positive")
SEED = 20181121  # fixed so the committed predictions can be regenerated bit for bit
N_FOLDS = 5


def load_reviews(source: Path = SOURCE) -> pd.DataFrame:
    """Read and clean the bundled Drugs.com subset.

    Returns
    -------
    DataFrame, shape (979, 7)
        Columns ``id, text, label, condition, drug, date, useful_count``, ordered by id.
    """
    frames = [
        pd.read_csv(source / name, sep="\t", dtype={"condition": "string"}, keep_default_na=True)
        for name in ("drugsComTrain.tsv", "drugsComTest.tsv")
    ]
    raw = pd.concat(frames, ignore_index=True).rename(columns={"Unnamed: 0": "uid"})
    # The source wraps each review in triple quotes; the CSV reader leaves one pair.
    text = raw["review"].str.strip().str.removeprefix('"').str.removesuffix('"').str.strip()
    condition = raw["condition"].astype("string")
    # Scraping residue ("3</span> users found this comment helpful.") is not a condition.
    condition = condition.mask(condition.str.contains("</span>", regex=False, na=False))
    out = pd.DataFrame(
        {
            "id": "dc-" + raw["uid"].astype(str),
            "text": [html.unescape(t) for t in text],
            "label": raw["rating"],
            "condition": condition,
            "drug": raw["drugName"],
            "date": pd.to_datetime(raw["date"], format="%B %d, %Y").dt.strftime("%Y-%m-%d"),
            "useful_count": raw["usefulCount"].astype(int),
        }
    )
    return out.sort_values("id", kind="stable").reset_index(drop=True)


def build_model(version: str):
    """Return an unfitted scikit-learn pipeline for a model version ("v1" or "v2")."""
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    if version == "v1":
        return make_pipeline(words, LogisticRegression(C=10.0, max_iter=2000))
    if version == "v2":
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)
        return make_pipeline(
            FeatureUnion([("words", words), ("chars", chars)]),
            LogisticRegression(C=4.0, class_weight="balanced", max_iter=4000),
        )
    raise ValueError(f"unknown model version {version!r}; expected 'v1' or 'v2'.")


def out_of_fold_probabilities(reviews: pd.DataFrame, version: str, seed: int = SEED) -> np.ndarray:
    """Held-out class probabilities for every review.

    Returns
    -------
    ndarray, shape (n_reviews, 3)
        Columns in ``CLASSES`` order, rounded to 6 decimals.
    """
    folds = StratifiedKFold(n_splits=N_FOLDS, shuffle=True, random_state=seed)
    proba = cross_val_predict(
        build_model(version), reviews["text"], reviews["label"], cv=folds, method="predict_proba"
    )
    # LogisticRegression orders columns by sorted class name, which is CLASSES.
    return np.round(proba, 6)


def to_records(reviews: pd.DataFrame, proba: np.ndarray) -> list[dict]:
    """Assemble input-contract records from reviews and their probabilities."""
    pred_idx = proba.argmax(axis=1)  # first maximum wins: ties go to the earlier class
    records = []
    for row, p, k in zip(reviews.itertuples(index=False), proba, pred_idx):
        records.append(
            {
                "id": row.id,
                "text": row.text,
                "label": row.label,
                "prediction": CLASSES[k],
                "confidence": float(p[k]),
                "probabilities": {c: float(v) for c, v in zip(CLASSES, p)},
                "condition": None if pd.isna(row.condition) else row.condition,
                "drug": row.drug,
                "date": row.date,
                "useful_count": int(row.useful_count),
            }
        )
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "raw" / "predictions")
    parser.add_argument("--versions", nargs="+", default=["v1", "v2"])
    args = parser.parse_args(argv)
    reviews = load_reviews()
    args.out.mkdir(parents=True, exist_ok=True)
    for version in args.versions:
        proba = out_of_fold_probabilities(reviews, version)
        records = to_records(reviews, proba)
        path = args.out / f"{version}.json"
        path.write_text(json.dumps(records, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        acc = float(np.mean([r["label"] == r["prediction"] for r in records]))
        print(f"make_predictions: {version}: {len(records)} reviews, out-of-fold accuracy {acc:.3f} -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
