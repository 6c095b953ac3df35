"""Stage slice: predictions -> per-slice tests with FDR, findings, slice membership, plots."""

from blindspot import paths
from blindspot.config import load_params
from blindspot.io.figures import save_figure
from blindspot.io.readers import predictions_batches, read_predictions
from blindspot.io.schema import META_PREFIX
from blindspot.io.writers import write_json, write_metrics, write_parquet
from blindspot.plots.slices import CLASS_PANEL, GapForestDisplay, plain_text, plot_confusion_grid
from blindspot.slices import SliceSettings, audit_slices
from blindspot.slices.evaluate import metric_names
from blindspot.slices.watchlist import watchlist_gap_rows
from blindspot.stages._runner import run

FOREST_PNG = paths.SLICE_PLOTS / "gap_forest.png"
CONFUSION_PNG = paths.SLICE_PLOTS / "top_blind_spots_confusion.png"
GAPS_JSON = paths.SLICE_PLOTS / "watchlist_gaps.json"  # data plot: `dvc plots diff` overlays versions


def texts_for(settings: SliceSettings, cfg):
    """What the text detectors read: batches of texts read here, or (engine=dask) their flags,
    computed on the workers one row group per task (the stage then holds no text at all)."""
    if cfg.engine != "dask":
        return (batch["text"] for batch in predictions_batches(paths.PREDICTIONS, ["text"]))
    from functools import partial

    import pandas as pd

    from blindspot.engine.batches import map_batches, on_column
    from blindspot.slices.features import TextFlags, text_flags

    o = settings.predicate_options()
    flags = on_column(partial(text_flags, detectors=o["text_detectors"], jargon_high_density=o["jargon_high_density"],
                              caps_high_share=o["caps_high_share"]))
    parts = map_batches(paths.PREDICTIONS, ["text"], flags, engine="dask", dask=cfg.dask)
    return TextFlags(pd.concat(parts, ignore_index=True)) if parts else pd.Series([], dtype=object)


def main(log) -> str:
    cfg = load_params(paths.PARAMS)
    classes = list(cfg.ingest.classes)
    # Every column but the texts, which are read a batch at a time for the text detectors: only a
    # few batches of texts are in memory at once (blindspot.slices.features.text_flag_table).
    frame = read_predictions(paths.PREDICTIONS, ["id", "y_true", "y_pred"], [META_PREFIX])
    settings = SliceSettings.from_config(cfg.slices, cfg.stats)
    audit = audit_slices(frame, classes, settings, texts=texts_for(settings, cfg))
    for key, missing in audit.unresolved:
        log.warning("watchlist slice %s not evaluated: %s not present in this data", key, ", ".join(missing))
    audit.metrics["model"] = cfg.model.name
    write_metrics(paths.SLICE_METRICS, audit.metrics)
    write_json(paths.FINDINGS, audit.findings, digits=None)  # already 6 significant digits
    write_parquet(paths.SLICES, audit.membership)
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

    family = audit.metrics["family"]
    return (f"{family['n_tests']} tests on {family['n_slices_tested']} slices: {family['n_blind_spots']} blind "
            f"spot(s) of their own, {family['n_class_mix_slices']} slice(s) worse only through their class mix, "
            f"{family['n_class_findings']} class finding(s) at FDR {cfg.stats.fdr_alpha:g} -> {paths.FINDINGS}")


if __name__ == "__main__":
    run("slice", main)
