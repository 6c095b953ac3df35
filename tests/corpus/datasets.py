"""The corpus's data sets: each a predictions file under ``data/raw/`` and the overrides a user would give.

Every builder is seeded and writes the same bytes on every call. None is the Drugs.com demo:

========================  ==============================================================================
``uci_sentences``         the bundled UCI Sentiment Labelled Sentences predictions (3,000 real sentences,
                          classes "0"/"1", metadata ``source``), with ``model=uci_sentences``
``binary_confidence``     binary (classes ``bad``/``good``), CSV with a confidence column and no
                          probabilities; a planted weak slice on ``platform``
``many_classes``          12 classes with non-sentiment names (``c00`` ... ``c10`` and an emoji), no
                          judge polarity given
``short_texts``           1-4 word texts: every default watchlist slice is empty but the length bins,
                          which follow the data's own word counts; a planted weak slice on ``channel``
``odd_metadata``          metadata values "Other", "other", "OTHER", "none", "" next to the pooled
                          "other" slice; column names with dots, spaces, slashes, emoji, 300 characters,
                          and two names that normalise alike
``five_rows``             5 rows, default classes
========================  ==============================================================================
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from blindspot import synth

from _paths import ROOT


def _significant(root: Path) -> list[dict]:
    return [f for f in json.loads((root / "reports/findings.json").read_text()) if f.get("significant")]


def _has_finding(column: str, value) -> Callable[[Path], list[str]]:
    """The planted blind spot is a significant finding under its raw column and value."""
    def check(root: Path) -> list[str]:
        hits = [f for f in _significant(root)
                if any(p.get("column") == column and p.get("value") == value for p in f.get("parts") or [])]
        return [] if hits else [f"no significant finding on {column} = {value!r} (the planted blind spot)"]
    return check


def _all_watchlist_empty(root: Path) -> list[str]:
    """Every default watchlist slice is empty, but the length bins: quantile bins and "very short"
    hold rows on any data (these texts are all very short), and the fixed text detectors none."""
    slices = json.loads((root / "metrics/slices.json").read_text())
    filled = {k: v.get("n") for k, v in slices["watchlist"].items()
              if v.get("n") and not k.startswith(("length_q", "words_le_"))}
    if not slices["watchlist"].get("words_le_10", {}).get("n") == 1500:
        filled["words_le_10 (every text has 1-4 words)"] = slices["watchlist"].get("words_le_10", {}).get("n")
    problems = [f"watchlist slices are not empty: {filled}"] if filled else []
    return problems + _has_finding("channel", "sms")(root)


def _twelve_classes(root: Path) -> list[str]:
    classes = json.loads((root / "metrics/profile.json").read_text())["classes"]
    return [] if list(classes) == list(MANY_CLASSES) else [f"classes in metrics/profile.json: {list(classes)}"]


def _nothing(root: Path) -> list[str]:
    return []


@dataclass(frozen=True)
class Dataset:
    """A corpus entry.

    Parameters
    ----------
    name : str
    build : callable (Path) -> None
        Writes the data set's files under the given workspace root (``data/raw/...``).
    overrides : list of str
        Hydra overrides for ``scripts/compose_params.py``, exactly what a user passes to
        ``dvc exp run -S``.
    rows : int
        Records in the predictions file (``metrics/ingest.json`` ``rows_in``).
    expect : callable (Path) -> list of str
        Problems with what the run shows about this data set's own shape (it has the
        property it is in the corpus for); empty when it holds.
    """

    name: str
    build: Callable[[Path], None]
    overrides: list = field(default_factory=list)
    rows: int = 0
    expect: Callable[[Path], list] = _nothing


def _jsonl(records: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


def _write(root: Path, rel: str, data: bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _records(frame: pd.DataFrame, classes, metadata: list[str]) -> list[dict]:
    """Contract records (nested probabilities) from a synth-style frame with ``p_<class>`` columns."""
    out = []
    for row in frame.to_dict(orient="records"):
        rec = {k: row[k] for k in ("id", "text", "label", "prediction", "confidence")}
        rec["probabilities"] = {c: row[f"p_{c}"] for c in classes}
        rec.update({m: row[m] for m in metadata})
        out.append(rec)
    return out


def simulate(labels: np.ndarray, k: int, rng: np.random.Generator, accuracy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A simulated model: right with probability ``accuracy`` per row, probabilities in micro-units.

    Parameters
    ----------
    labels : ndarray of int, shape (n,)
    k : int
        Classes (the predicted class's probability is kept above 0.5, so it is the argmax).
    accuracy : ndarray of float, shape (n,)

    Returns
    -------
    prediction : ndarray of int, shape (n,)
    proba : ndarray of float, shape (n, k)
        Rows sum to exactly 1 in units of 1e-6.
    """
    n = len(labels)
    right = rng.random(n) < accuracy
    other = (labels + rng.integers(1, k, n)) % k
    pred = np.where(right, labels, other)
    conf = np.round(rng.uniform(0.55, 0.99, n) * 1e6).astype(np.int64)
    rest = 1_000_000 - conf
    share = rng.dirichlet(np.ones(k - 1), n)
    others = np.floor(share * rest[:, None]).astype(np.int64)
    others[:, 0] += rest - others.sum(axis=1)
    micro = np.zeros((n, k), np.int64)
    for i in range(n):
        micro[i, pred[i]] = conf[i]
        micro[i, [c for c in range(k) if c != pred[i]]] = others[i]
    return pred, micro / 1e6


# --------------------------------------------------------------------------- builders


def _uci(root: Path) -> None:
    rel = "data/raw/predictions/uci_sentences.jsonl"
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / rel, root / rel)


def _binary_confidence(root: Path) -> None:
    data = synth.generate(2000, seed=11, mode="planted", classes=("bad", "good"),
                          planted=[synth.PlantedSlice({"platform": "android"}, error_gap=0.2, share=0.3)])
    frame = data.frame.drop(columns=["p_bad", "p_good"])
    _write(root, "data/raw/binary.csv", frame.to_csv(index=False, lineterminator="\n").encode("utf-8"))


MANY_CLASSES = tuple(f"c{i:02d}" for i in range(11)) + ("\U0001f642",)


def _many_classes(root: Path) -> None:
    data = synth.generate(2400, seed=12, mode="planted", classes=MANY_CLASSES,
                          planted=[synth.PlantedSlice({"platform": "android"}, error_gap=0.25, share=0.3)])
    _write(root, "data/raw/many.jsonl", _jsonl(_records(data.frame, MANY_CLASSES, list(synth.METADATA_COLUMNS))))


# No negation, sarcasm cue, mixed feeling or jargon: every default watchlist slice but the length bins is empty.
_SHORT_WORDS = {
    0: ["awful", "bad", "terrible", "useless", "horrible", "so slow", "rude staff", "waste"],
    1: ["ok", "fine", "average", "it works", "average stuff", "so-so", "meh", "alright"],
    2: ["great", "love it", "excellent", "very helpful", "super fast", "thanks", "perfect", "five stars"],
}


def _short_texts(root: Path) -> None:
    rng = np.random.default_rng(13)
    n, classes = 1500, ("negative", "neutral", "positive")
    labels = rng.choice(3, n, p=[0.3, 0.2, 0.5])
    channel = rng.choice(["sms", "app", "kiosk"], n, p=[0.3, 0.5, 0.2])
    accuracy = np.where(channel == "sms", 0.55, 0.85)
    pred, proba = simulate(labels, 3, rng, accuracy)
    records = []
    for i in range(n):
        words = _SHORT_WORDS[int(labels[i])]
        text = words[rng.integers(len(words))]
        if rng.random() < 0.3:
            text += "!"
        records.append({"id": f"sh-{i:05d}", "text": text, "label": classes[labels[i]],
                        "prediction": classes[pred[i]], "confidence": float(proba[i].max()),
                        "probabilities": dict(zip(classes, map(float, proba[i]))), "channel": str(channel[i])})
    _write(root, "data/raw/short.jsonl", _jsonl(records))


LONG_COLUMN = "a very long column name " + "x" * 276  # 300 characters


def _odd_metadata(root: Path) -> None:
    data = synth.generate(2000, seed=14, mode="planted",
                          planted=[synth.PlantedSlice({"platform": "android"}, error_gap=0.25, share=0.3)])
    frame = data.frame
    rng = np.random.default_rng(14)
    meta = pd.DataFrame(index=frame.index)
    # The weak slice is the real value "Other"; "other" is another real value.
    meta["device.os"] = frame["platform"].map({"android": "Other", "web": "other", "ios": "ios"})
    # 13 values: the rarest are pooled into the stage's own "other" slice, next to real
    # values spelt "other", "Other", "OTHER", "none" and "".
    team = frame["specialty"].map({"general_practice": "other", "dermatology": "Other"}).fillna(frame["specialty"])
    spill = rng.choice(["psychiatry", "OTHER", "none", ""], len(frame), p=[0.4, 0.2, 0.2, 0.2])
    meta["team / site <b>"] = np.where(team == "psychiatry", spill, team)
    meta["\U0001f642 mood"] = rng.choice(["\U0001f600", "\U0001f621", "\U0001f610"], len(frame))
    meta["age.band"] = frame["age_band"]
    meta["age band"] = frame["app_version"]  # normalises like "age.band"
    meta[LONG_COLUMN] = rng.choice(["a", "b"], len(frame))
    full = pd.concat([frame.drop(columns=list(synth.METADATA_COLUMNS)), meta], axis=1)
    _write(root, "data/raw/odd.jsonl", _jsonl(_records(full, synth.DEFAULT_CLASSES, list(meta.columns))))


def _five_rows(root: Path) -> None:
    classes = ("negative", "neutral", "positive")
    rows = [("Saved my evening, thank you doctor.", 2, 2, "north"),
            ("The app crashed twice during the call.", 0, 2, "south"),
            ("It was fine, nothing more.", 1, 2, "north"),
            ("Never got a prescription, awful.", 0, 0, "south"),
            ("Quick and kind.", 2, 2, "north")]
    records = []
    for i, (text, y, p, clinic) in enumerate(rows, start=1):
        proba = [0.1, 0.1, 0.1]
        proba[p] = 0.8
        records.append({"id": f"f-{i}", "text": text, "label": classes[y], "prediction": classes[p],
                        "confidence": 0.8, "probabilities": dict(zip(classes, proba)), "clinic": clinic})
    _write(root, "data/raw/five.json", (json.dumps(records, indent=1) + "\n").encode("utf-8"))


def _hydra_list(values) -> str:
    return "[" + ",".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


DATASETS = {
    d.name: d
    for d in [
        Dataset("uci_sentences", _uci, ["model=uci_sentences"], 3000, _has_finding("negated_term", True)),
        Dataset("binary_confidence", _binary_confidence,
                ["model.path=data/raw/binary.csv", "model.columns.probabilities=null",
                 "ingest.classes=[bad,good]", "judge.offline.polarity=[negative,positive]"], 2000,
                _has_finding("platform", "android")),
        Dataset("many_classes", _many_classes,
                ["model.path=data/raw/many.jsonl", f"ingest.classes={_hydra_list(MANY_CLASSES)}"],
                2400, _twelve_classes),
        Dataset("short_texts", _short_texts, ["model.path=data/raw/short.jsonl"], 1500, _all_watchlist_empty),
        Dataset("odd_metadata", _odd_metadata, ["model.path=data/raw/odd.jsonl"], 2000,
                _has_finding("device.os", "Other")),
        Dataset("five_rows", _five_rows, ["model.path=data/raw/five.json"], 5),
    ]
}
