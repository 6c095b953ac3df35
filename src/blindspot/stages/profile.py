"""Stage profile: predictions -> global metrics with intervals, class balance, data profile."""

import numpy as np
import pandas as pd

from blindspot import paths
from blindspot.config import load_params
from blindspot.io.figures import save_figure
from blindspot.engine.batches import map_batches, on_column
from blindspot.io.readers import read_predictions
from blindspot.io.writers import write_metrics
from blindspot.plots.confusion import ConfusionDisplay, plot_class_distribution
from blindspot.profiling import baseline_statement, join_text_rows, profile_predictions, text_measures
from blindspot.stages._runner import run

CONFUSION_PNG = paths.PROFILE_PLOTS / "confusion_matrix.png"
CLASSES_PNG = paths.PROFILE_PLOTS / "class_distribution.png"
CONFUSION_DATA = paths.PROFILE_PLOTS / "confusion.csv"  # cells for `dvc plots` (.dvc/plots/confusion_*.json)


def main(log) -> str:
    cfg = load_params(paths.PARAMS)
    classes = list(cfg.ingest.classes)
    # The texts stay on disk: the profile reads them a batch at a time and keeps 40 bytes a row
    # (blindspot.profiling.text_rows), so its memory does not grow with the texts. No label
    # column either: y_true gives the same label groups.
    frame = read_predictions(paths.PREDICTIONS, columns=["y_true", "y_pred"])
    # Measured a batch at a time: here (engine=local) or on the workers, one row group per task.
    texts = join_text_rows(map_batches(paths.PREDICTIONS, ["text"], on_column(text_measures), engine=cfg.engine,
                                       dask=cfg.dask))
    # The profile draws from its own child stream of the seed, so adding a random
    # step elsewhere never shifts these intervals.
    rng = np.random.default_rng([cfg.seed, 1])
    profile = profile_predictions(frame, classes, n_boot=cfg.stats.n_boot, level=cfg.stats.ci_level, rng=rng,
                                  length_quantiles=cfg.profile.length_quantiles, texts=texts)
    profile["model"] = cfg.model.name
    write_metrics(paths.PROFILE_METRICS, profile)

    display = ConfusionDisplay.from_predictions(frame["y_true"], frame["y_pred"], classes,
                                                title=f"model {cfg.model.name}: confusion matrix (n = {len(frame):,})")
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
