"""Derive model versions v3 (a fix) and v4 (a regression) from v2's predictions.

The README walks a team through four weekly versions of the sentiment model on the 979
bundled Drugs.com reviews. v1 and v2 are real models (``scripts/make_predictions.py``);
v3 and v4 are *constructed* from v2 so that the walkthrough shows, on real reviews, a
release that closes a blind spot and a release that opens one. No model is trained
here: chosen predictions are flipped, every other row is copied unchanged.

Model versions
--------------
v3 = v2 with two targeted fixes (36 rows change)
    1. **The Birth Control blind spot closes.** v2 misses 16 of the 86 'positive'
       reviews with ``condition = Birth Control`` (recall 0.81 against 0.95 elsewhere,
       its blind spot of its own, and the one its brief leads with). v3 predicts
       'positive' on 12 of those 16, drawn at random: recall 82/86 in the slice.
    2. **'negative' recall improves.** Of the 124 'negative' reviews v2 gets wrong (as
       'positive' or 'neutral'), v3 predicts 'negative' on 24, drawn at random from
       all of them: recall of 'negative' goes from 132/256 to 156/256.

    Every changed row goes from wrong to right; nothing else moves.
v4 = v3 with one regression (18 rows change)
    **A new blind spot: 'positive' Depression reviews read as complaints.** v3 is right
    on 36 of the 38 'positive' reviews with ``condition = Depression``. v4 predicts
    'negative' on 18 of those 36, drawn at random: recall of 'positive' in the slice
    falls to 18/38 while it stays about 0.95 elsewhere, a gap *within* the true
    class, not a change of class mix. Accuracy drops by 18/979 = 1.8 points only, the
    kind of regression a global accuracy hides and a paired test against v3 does not.

    Every changed row goes from right to wrong; nothing else moves.

How a prediction is moved
-------------------------
A flip to class ``t`` swaps the probabilities of ``t`` and of the current prediction:
``t`` then holds the maximum, so ``prediction = t`` is the argmax, ``confidence`` (the
maximum) is unchanged and the probabilities still sum as before, exactly as the input
contract requires (no re-rounding: the six-decimal values are the v2 values,
permuted). A swap that would leave a tie for the maximum with another class is
refused with an error; no row of the bundled data has one.

Which rows move is drawn without replacement from the sorted candidate positions with
``blindspot.seeding.named_rng(SEED, <name of the change>)``, one stream per change, so
a change's rows do not depend on any other change. Rerunning writes byte-identical
files (same JSON layout as ``make_predictions.py``).

The seed is chosen, not arbitrary: v3 is meant to show a fix that opens nothing new,
and most draws of the same sizes do open something by chance. Two effects, both real
statistics worth knowing: fixing 12 'positive' Birth Control reviews raises the
'positive' recall of the *rest* that every other slice is tested against, so a gap
that was latent in v2 (reviews with mixed sentiment: 0.88 against 0.95, q = 0.074)
crosses the false-discovery line; and 24 'negative' fixes that happen to miss one
slice (say the reviews with the most "useful" votes) widen that slice's 'negative'
gap. With seed 2 neither happens; each of the 17 other draws tried (seeds 1 to 15 and
20240603, 12 or 13 Birth Control fixes) opened at least one such slice.

Usage
-----
    python scripts/make_versions.py                  # writes data/raw/predictions/v3.json, v4.json
    python scripts/make_versions.py --out-dir DIR    # writes elsewhere (used by the tests)
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from blindspot.seeding import named_rng

ROOT = Path(__file__).resolve().parents[1]
PREDICTIONS = ROOT / "data" / "raw" / "predictions"
CLASSES = ("negative", "neutral", "positive")  # the order of v2.json's probabilities
SEED = 2  # fixed so the committed files are regenerated bit for bit; chosen (see the docstring)


@dataclass(frozen=True)
class Flip:
    """One change between two versions: move ``count`` chosen rows to ``target``.

    Candidates are the rows whose gold label is ``label`` (and whose ``condition`` is
    ``condition`` when given) and whose current prediction is right (``correct``) or
    wrong (not ``correct``). ``name`` names the random stream and the printed summary.
    """

    name: str
    label: str
    correct: bool
    target: str
    count: int
    condition: str | None = None


V3_FLIPS = (
    Flip("v3/birth_control_positive", label="positive", condition="Birth Control", correct=False,
         target="positive", count=12),
    Flip("v3/negative", label="negative", correct=False, target="negative", count=24),
)
V4_FLIPS = (
    Flip("v4/depression_positive", label="positive", condition="Depression", correct=True,
         target="negative", count=18),
)


def candidates(records: list[dict], flip: Flip) -> np.ndarray:
    """Positions of the rows ``flip`` may move.

    Returns
    -------
    ndarray of int, shape (n_candidates,)
        Increasing positions into ``records``.
    """
    keep = [
        i for i, r in enumerate(records)
        if r["label"] == flip.label
        and (flip.condition is None or r["condition"] == flip.condition)
        and (r["prediction"] == r["label"]) == flip.correct
    ]
    return np.asarray(keep, dtype=int)


def moved_to(record: dict, target: str) -> dict:
    """A copy of ``record`` predicting ``target``: its probability and the prediction's swap.

    Raises
    ------
    ValueError
        When the swap would leave another class tied at the maximum (the first-listed
        class would then be the argmax, and it might not be ``target``).
    """
    proba = dict(record["probabilities"])
    old = record["prediction"]
    proba[old], proba[target] = proba[target], proba[old]
    top = max(proba.values())
    if [c for c in CLASSES if proba[c] == top] != [target]:
        raise ValueError(f"{record['id']}: moving the prediction to {target!r} leaves a tie at {top}")
    # Field order as in the input: only the three prediction fields change.
    return {**record, "prediction": target, "confidence": proba[target], "probabilities": proba}


def apply_flips(records: list[dict], flips: tuple[Flip, ...]) -> tuple[list[dict], dict[str, list[str]]]:
    """Apply ``flips`` in order to a copy of ``records``.

    Returns
    -------
    records : list of dict
        Same length and order as the input; only the chosen rows differ.
    moved : dict of str to list of str
        For each flip's name, the ids of the rows it moved, in file order.
    """
    out = list(records)
    moved = {}
    for flip in flips:
        pool = candidates(out, flip)
        if flip.count > len(pool):
            raise ValueError(f"{flip.name}: {flip.count} rows asked, {len(pool)} candidates")
        chosen = np.sort(named_rng(SEED, flip.name).choice(pool, size=flip.count, replace=False))
        for i in chosen:
            out[i] = moved_to(out[i], flip.target)
        moved[flip.name] = [out[i]["id"] for i in chosen]
    return out, moved


def read_records(path: Path) -> list[dict]:
    """The records of a predictions file written by ``make_predictions.py``."""
    return json.loads(path.read_text(encoding="utf-8"))


def write_records(records: list[dict], path: Path) -> None:
    """Write ``records`` in ``make_predictions.py``'s layout (one space indent, UTF-8)."""
    path.write_text(json.dumps(records, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def accuracy(records: list[dict]) -> float:
    return float(np.mean([r["label"] == r["prediction"] for r in records]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=PREDICTIONS / "v2.json", help="v2's predictions")
    parser.add_argument("--out-dir", type=Path, default=PREDICTIONS)
    args = parser.parse_args(argv)
    v2 = read_records(args.source)
    v3, moved3 = apply_flips(v2, V3_FLIPS)
    v4, moved4 = apply_flips(v3, V4_FLIPS)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for version, records, moved in (("v3", v3, moved3), ("v4", v4, moved4)):
        path = args.out_dir / f"{version}.json"
        write_records(records, path)
        changes = ", ".join(f"{name} {len(ids)}" for name, ids in moved.items())
        print(f"make_versions: {version}: {changes} rows moved, accuracy {accuracy(records):.3f} -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
