"""Stage slice: predictions -> per-slice tests with FDR, findings, slice membership, plots."""

import pandas as pd
import pyarrow.parquet as pq

from blindspot import paths
from blindspot.config import load_params
from blindspot.engine.cluster import engine_session
from blindspot.io.figures import save_figure
from blindspot.io.writers import FRAME_ROW_GROUP_ROWS, write_json, write_metrics, write_parquet_chunks
from blindspot.plots.slices import CLASS_PANEL, GapForestDisplay, plain_text, plot_confusion_grid
from blindspot.slices import SliceSettings, audit_slices
from blindspot.slices.evaluate import metric_names
from blindspot.slices.textpass import FileTexts
from blindspot.slices.watchlist import watchlist_gap_rows
from blindspot.stages._runner import run

FOREST_PNG = paths.SLICE_PLOTS / "gap_forest.png"
CONFUSION_PNG = paths.SLICE_PLOTS / "top_blind_spots_confusion.png"
GAPS_JSON = paths.SLICE_PLOTS / "watchlist_gaps.json"  # data plot: `dvc plots diff` overlays versions


def texts_for(cfg, n: int) -> FileTexts:
    """Where the audit reads its rows: the validated table, a batch at a time, each batch kept where it
    was read (with engine=dask a row group on a worker: its text pass, then its predicates' bits), and
    only counts come back; the stage holds the fitting sample's texts at most (blindspot.slices.batch)."""
    return FileTexts(paths.PREDICTIONS, n, engine=cfg.engine, dask=cfg.dask)


def write_membership(members) -> None:
    """``data/interim/slices.parquet`` a row group at a time, its ids read from the predictions alongside."""
    import pyarrow.parquet as pq

    with pq.ParquetFile(paths.PREDICTIONS) as source:
        ids = source.iter_batches(batch_size=FRAME_ROW_GROUP_ROWS, columns=["id"])
        chunks = ({"id": next(ids).column(0), **columns} for _, columns in members.chunks(FRAME_ROW_GROUP_ROWS))
        write_parquet_chunks(paths.SLICES, members.template(), members.n, chunks)


def main(log) -> str:
    cfg = load_params(paths.PARAMS)
    classes = list(cfg.ingest.classes)
    # No column of every row: the rows are kept a batch at a time where they were read (on the workers with
    # engine=dask), and only counts come back; the ids are read from the file as the slice table is written.
    n = pq.read_metadata(paths.PREDICTIONS).num_rows
    settings = SliceSettings.from_config(cfg.slices, cfg.stats, seed=cfg.seed)
    with engine_session(cfg):  # one cluster for every pass over the batches
        audit = audit_slices(pd.DataFrame(index=pd.RangeIndex(n)), classes, settings, texts=texts_for(cfg, n))
    for key, missing in audit.unresolved:
        log.warning("watchlist slice %s not evaluated: %s not present in this data", key, ", ".join(missing))
    audit.metrics["model"] = cfg.model.name
    write_metrics(paths.SLICE_METRICS, audit.metrics)
    write_json(paths.FINDINGS, audit.findings, digits=None)  # already 6 significant digits
    write_json(paths.TEXT_SLICES, audit.text_slices, digits=None)  # likewise
    write_membership(audit.members)
    # The central question first: errors, then recall of the first class (negative on the bundled data).
    write_json(GAPS_JSON, watchlist_gap_rows(audit.metrics["watchlist"], ["error_rate", f"recall_{classes[0]}"]))

    title = f"model {cfg.model.name}: slice gaps to the rest, {cfg.stats.ci_level:.0%} intervals (red: blind spot)"
    order = [CLASS_PANEL] + metric_names(classes)
    save_figure(GapForestDisplay.from_findings(audit.findings, title=title).plot(metric_order=order).figure_,
                FOREST_PNG)
    grid_title = (f"model {cfg.model.name}: top blind spots, row-normalised confusion" if audit.confusions
                  else f"model {cfg.model.name}: no significant blind spot")
    # Class and model names are the user's: drawn as written, never as matplotlib math.
    save_figure(plot_confusion_grid(audit.confusions, [plain_text(c) for c in classes], title=plain_text(grid_title)),
                CONFUSION_PNG)

    family, text = audit.metrics["family"], audit.metrics["text_slices"]
    return (f"{family['n_tests']} tests on {family['n_slices_tested']} slices and {family['n_term_tests']} "
            f"error term(s) ({text['topics']['k']} learned topic(s)): {family['n_blind_spots']} blind "
            f"spot(s) of their own, {family['n_class_mix_slices']} slice(s) worse only through their class mix, "
            f"{family['n_class_findings']} class finding(s) at FDR {cfg.stats.fdr_alpha:g} -> {paths.FINDINGS}")


if __name__ == "__main__":
    run("slice", main)
