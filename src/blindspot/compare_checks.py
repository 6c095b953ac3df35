"""Config checks of the compare stage that need no data: cheap enough for the preflight.

Kept apart from :mod:`blindspot.compare` (numpy, pandas, scipy.special and the
calibration package) so that the ingest stage's preflight, which runs every check
before any stage works, does not pay for importing the comparison itself.
"""

from __future__ import annotations

from pathlib import Path

from blindspot.errors import ConfigError, InputError

BASELINE_DIR = "data/raw"


def _baseline_file(path: str) -> Path:
    """The baseline file checked as an input of the workspace (the current directory).

    Outside the workspace is :func:`blindspot.paths.workspace_input`'s rule (the one
    ``model.path`` follows); the baseline must moreover lie under ``BASELINE_DIR``, the
    compare stage's dependency.

    Raises
    ------
    ConfigError
        The file is (or links to) a file outside the workspace or outside its
        ``BASELINE_DIR``, or does not exist.
    """
    from blindspot.paths import workspace_input

    root = Path.cwd().resolve()
    where = (f"put the file under {BASELINE_DIR}/ (which the compare stage tracks) and set "
             f"compare.baseline.path={BASELINE_DIR}/<file name>")
    try:
        workspace_input(path, "compare.baseline.path", root)
    except InputError as exc:
        raise ConfigError(f"compare.baseline.path: {path} is outside the workspace ({exc.found}), so DVC would not "
                          f"re-run the comparison when it changes; {where}.") from None
    given = Path(path)
    resolved = (given if given.is_absolute() else root / given).resolve()
    if not resolved.is_file():
        what = "is a directory, not a file" if resolved.is_dir() else "does not exist"
        raise ConfigError(f"compare.baseline.path: {path} {what} (paths are relative to the repository root "
                          f"{root}); {where}, or set compare.baseline.path=null to compare nothing.")
    if not resolved.is_relative_to(root / BASELINE_DIR):
        raise ConfigError(f"compare.baseline.path: {path} is outside {BASELINE_DIR}/, so DVC would not re-run the "
                          f"comparison when it changes; {where}.")
    return resolved


def check_config(compare_cfg, model_cfg, ingest_cfg) -> None:
    """Cross-field checks of the compare section, made before any stage does work.

    Pure apart from looking at the baseline file's place on disk (relative to the
    current directory, the repository root under ``dvc repro``). A baseline that exists
    but does not fit the current model (other classes or columns, no id to pair on) is
    not a config error: the compare stage reports it as ``not_compared`` with its
    reason, and the rest of the audit runs.

    Parameters
    ----------
    compare_cfg : CompareConfig
    model_cfg : ModelConfig
    ingest_cfg : IngestConfig
        Unused today; part of the signature so every cross-field check has one shape.

    Raises
    ------
    ConfigError
        ``compare.min_rows`` below 1, ``compare.confident_threshold`` outside [0, 1],
        or a configured baseline file that does not exist or lies outside the
        workspace's ``data/raw``.
    """
    del model_cfg, ingest_cfg
    if compare_cfg.min_rows < 1:
        raise ConfigError(f"compare.min_rows must be at least 1 (a comparison needs paired rows); "
                          f"got {compare_cfg.min_rows}.")
    if not 0.0 <= compare_cfg.confident_threshold <= 1.0:
        raise ConfigError(f"compare.confident_threshold must be a confidence in [0, 1]; "
                          f"got {compare_cfg.confident_threshold}.")
    if compare_cfg.baseline.path is not None:
        _baseline_file(compare_cfg.baseline.path)
