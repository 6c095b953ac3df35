"""Stage profile: predictions -> global metrics with intervals, class balance, data profile."""

from functools import partial

import numpy as np
import pandas as pd

from blindspot import paths
from blindspot.config import load_params
from blindspot.io.figures import save_figure
from blindspot.engine.batches import map_reduce_buckets
from blindspot.io.writers import write_metrics
from blindspot.plots.confusion import ConfusionDisplay, plot_class_distribution
from blindspot.profiling import (
    DIGEST_BUCKETS,
    PROFILE_COLUMNS,
    baseline_statement,
    duplicate_bucket,
    profile_batch,
    profile_of_batches,
)
from blindspot.stages._runner import run

CONFUSION_PNG = paths.PROFILE_PLOTS / "confusion_matrix.png"
CLASSES_PNG = paths.PROFILE_PLOTS / "class_distribution.png"
CONFUSION_DATA = paths.PROFILE_PLOTS / "confusion.csv"  # cells for `dvc plots` (.dvc/plots/confusion_*.json)


def main(log) -> str:
    cfg = load_params(paths.PARAMS)
    classes = list(cfg.ingest.classes)
    # Each batch (here with engine=local; a row group on a worker with engine=dask) leaves its counts
    # (confusion, length histograms) and its duplicate groups by bucket; each bucket's groups are merged
    # and counted by one call (blindspot.profiling.profile_batch). On Dask the groups stay on the workers
    # and this process holds nothing per row; here it holds them until their bucket is counted.
    counts, buckets = map_reduce_buckets(paths.PREDICTIONS, list(PROFILE_COLUMNS),
                                         partial(profile_batch, k=len(classes), seed=cfg.seed), duplicate_bucket,
                                         DIGEST_BUCKETS, engine=cfg.engine, dask=cfg.dask)
    # The profile draws from its own child stream of the seed, so adding a random
    # step elsewhere never shifts these intervals.
    rng = np.random.default_rng([cfg.seed, 1])
    profile, total = profile_of_batches(counts, buckets, classes, n_boot=cfg.stats.n_boot, level=cfg.stats.ci_level,
                                        rng=rng, length_quantiles=cfg.profile.length_quantiles)
    profile["model"] = cfg.model.name
    write_metrics(paths.PROFILE_METRICS, profile)

    display = ConfusionDisplay(total.confusion, classes,
                               title=f"model {cfg.model.name}: confusion matrix (n = {total.n_rows:,})")
    save_figure(display.plot().figure_, CONFUSION_PNG)
    counts = {c: v["n"] for c, v in profile["label_distribution"].items()}
    preds = {c: v["n"] for c, v in profile["prediction_distribution"].items()}
    save_figure(plot_class_distribution(counts, preds, title=f"model {cfg.model.name}: labels vs predictions"),
                CLASSES_PNG)
    # One row per (true, predicted) cell, zeros included: a class the model never predicts still gets its
    # column, and the file has K^2 rows whatever the number of reviews.
    cells = [(t, p, n) for t, row in profile["confusion_matrix"].items() for p, n in row.items()]
    pd.DataFrame(cells, columns=["actual", "predicted", "count"]).to_csv(CONFUSION_DATA, index=False,
                                                                        lineterminator="\n")
    return baseline_statement(profile)


if __name__ == "__main__":
    run("profile", main)
