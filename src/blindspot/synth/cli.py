"""``python -m blindspot.synth``: generate a data set and write it with its truth."""

from __future__ import annotations

import argparse
from typing import Sequence

from blindspot.synth.generator import generate
from blindspot.synth.spec import DEFAULT_CLASSES, MODES, PlantedSlice
from blindspot.synth.writers import write

# The help's description: the first line of the package's docstring.
DESCRIPTION = "Seeded synthetic consultation-app reviews with a simulated model, blind spots on demand."



def _fmt_rate(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.3f}"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m blindspot.synth --n 1000 --seed 0 --mode planted --out x.jsonl``."""
    ap = argparse.ArgumentParser(prog="python -m blindspot.synth", description=DESCRIPTION)
    ap.add_argument("--n", type=int, required=True, help="rows")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--mode", choices=MODES, default="null")
    ap.add_argument("--out", required=True, help="output path: .jsonl, .parquet or .csv")
    ap.add_argument("--plant", action="append", default=[], metavar="COL=VALUE[,COL=VALUE]",
                    help="a planted slice (repeatable); default specialty=oncology in planted mode")
    ap.add_argument("--gap", type=float, default=0.20, help="error-rate gap of every planted slice")
    ap.add_argument("--share", type=float, default=0.10, help="share of rows of every planted slice")
    ap.add_argument("--confidence", type=float, default=None, help="confidence of wrong predictions in slices")
    ap.add_argument("--classes", default=",".join(DEFAULT_CLASSES), help="comma-separated class names")
    ap.add_argument("--mean-confidence", type=float, default=0.85)
    args = ap.parse_args(argv)
    if args.plant and args.mode != "planted":
        ap.error("--plant needs --mode planted")
    try:
        planted = [PlantedSlice.parse(s, error_gap=args.gap, share=args.share, confidence=args.confidence)
                   for s in (args.plant or ["specialty=oncology"])] if args.mode == "planted" else []
        data = generate(args.n, seed=args.seed, mode=args.mode, classes=[c.strip() for c in args.classes.split(",")],
                        mean_confidence=args.mean_confidence, planted=planted)
    except ValueError as exc:  # a bad argument, not a bug: argparse's message and exit status 2
        ap.error(str(exc))
    out, tpath = write(data, args.out)
    slices = "; ".join(
        ",".join(f"{k}={v}" for k, v in p["predicate"].items())
        + f" n={p['n_rows']} error {_fmt_rate(p['error_rate_inside'])} vs {_fmt_rate(p['error_rate_outside'])}"
        for p in data.truth["planted"])
    print(f"wrote {args.n} rows (seed={args.seed}, mode={args.mode}, error rate {data.truth['realised_error_rate']:.3f}"
          + (f", planted: {slices}" if slices else "") + f") to {out}; truth in {tpath}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
