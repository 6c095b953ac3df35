"""Time the slice audit's text pass on one batch (single thread), as the stage runs it.

    PYTHONPATH=src .venv/bin/python bench/text_pass_batch.py --data /tmp/ws1m/data/interim/predictions.parquet

Reads the first ``--rows`` rows (default 65,536: one batch) of a validated predictions
file, fits the topics and the error terms' candidates as the stage does (a seeded sample
of 20,000 texts, the table's ``n`` for the support rule), then times
:func:`blindspot.slices.textpass.batch_pass` and pass 3 (:func:`term_hits`, on the 40 first
candidates) and prints the best of ``--repeat`` runs, with the page faults and CPU seconds
of the last (the stage's allocator settings, :func:`blindspot.memory.use_system_allocator`,
are applied first); ``--profile``
prints cProfile's top entries of one batch_pass.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import time

import numpy as np
import pyarrow.parquet as pq

from blindspot.memory import use_system_allocator
from blindspot.slices import textpass
from blindspot.slices.terms import fit_candidates
from blindspot.slices.textpass import TextModels, term_hits
from blindspot.slices.tokens import as_tokens
from blindspot.slices.topics import fit_sample, fit_topics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="/tmp/ws1m/data/interim/predictions.parquet")
    parser.add_argument("--rows", type=int, default=1 << 16)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--piece-rows", type=int, default=None, help="textpass.TOKEN_PIECE_ROWS (default: as is)")
    args = parser.parse_args()
    use_system_allocator()  # the allocator settings every stage runs with (blindspot.memory)
    if args.piece_rows:
        textpass.TOKEN_PIECE_ROWS = args.piece_rows
    source = pq.ParquetFile(args.data)
    n = source.metadata.num_rows
    frame = next(source.iter_batches(batch_size=args.rows, columns=["id", "text", "y_true", "y_pred"])).to_pandas()
    frame = frame.astype({"y_true": np.int64, "y_pred": np.int64})
    sample = as_tokens(frame["text"].to_numpy(dtype=object)[fit_sample(len(frame), 20_000, 0)])
    topics = fit_topics(sample, n=n, seed=0)
    vocabulary = fit_candidates(sample, n, min_support=30)
    models = TextModels(("negated_term", "sarcasm_cue", "mixed_sentiment", "question", "exclamation"), 0.05, 0.05,
                        topics, vocabulary, 3, 0)  # the bundled params.yaml's detectors
    print(f"rows {len(frame)}, topic words {len(topics.vocabulary)}, term candidates {len(vocabulary)}")
    for name, fn in (("batch_pass", lambda: textpass.batch_pass(frame, models=models)),
                     ("term_hits (40 terms)", lambda: term_hits(frame, terms=tuple(vocabulary[:40])))):
        times = []
        for _ in range(args.repeat):
            r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
            r1 = resource.getrusage(resource.RUSAGE_SELF)
        print(f"{name}: best {min(times):.3f} s of {args.repeat}; last: {r1.ru_minflt - r0.ru_minflt} page faults, "
              f"user {r1.ru_utime - r0.ru_utime:.2f} s, sys {r1.ru_stime - r0.ru_stime:.2f} s")
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(textpass.batch_pass, frame, models=models)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
