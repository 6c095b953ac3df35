"""Where each stage reads and writes, relative to the repository root.

``dvc.yaml`` lists the same paths as deps and outs; ``tests/test_pipeline.py`` checks
that the two agree, so a renamed file cannot silently fall out of DVC's tracking.
"""

from __future__ import annotations

from pathlib import Path

PARAMS = Path("params.yaml")

PREDICTIONS = Path("data/interim/predictions.parquet")
REJECTED = Path("data/interim/rejected.jsonl")
INGEST_METRICS = Path("metrics/ingest.json")

JUDGMENTS = Path("data/interim/judgments.jsonl")
JUDGE_CACHE = Path("data/judge_cache/cache.jsonl")
JUDGE_METRICS = Path("metrics/judge.json")

PROFILE_METRICS = Path("metrics/profile.json")
PROFILE_PLOTS = Path("plots/profile")

SLICES = Path("data/interim/slices.parquet")
SLICE_METRICS = Path("metrics/slices.json")
FINDINGS = Path("reports/findings.json")
TEXT_SLICES = Path("reports/text_slices.json")  # topics and error terms learned from the texts
SLICE_PLOTS = Path("plots/slices")

CALIBRATION_METRICS = Path("metrics/calibration.json")
CONFIDENT_ERRORS = Path("data/interim/confident_errors.jsonl")
CALIBRATION_PLOTS = Path("plots/calibration")

BRIEF_MD = Path("reports/blind_spot_brief.md")
BRIEF_HTML = Path("reports/blind_spot_brief.html")
UNDERCONFIDENT_CORRECT = Path("data/interim/underconfident_correct.jsonl")
RELIABILITY_DATA = CALIBRATION_PLOTS / "reliability_equal_width.json"
RELIABILITY_DATA_EQUAL_MASS = CALIBRATION_PLOTS / "reliability_equal_mass.json"
COMPARE_METRICS = Path("metrics/compare.json")
LIFECYCLE = Path("reports/lifecycle.json")
GATE_METRICS = Path("metrics/gate.json")
GATE_MD = Path("reports/gate.md")
GATE_JUNIT = Path("reports/gate.junit.xml")


def workspace_input(path: str | Path, key: str = "model.path", root: str | Path | None = None) -> Path:
    """``path`` (relative to the workspace, or absolute) checked to lie inside the workspace.

    The workspace is the directory holding ``params.yaml``: the stage's working directory.
    DVC only notices a change to a file inside it (``data/raw`` is a dependency of the
    stages that read inputs); a file outside it, reached by ``..``, an absolute path, or a
    symlink pointing out, could change without ``dvc repro`` re-running anything, leaving a
    stale audit. Such a path is refused. Used for ``model.path`` (ingest) and
    ``compare.baseline.path`` (compare).

    Parameters
    ----------
    path : str or Path
        The configured path.
    key : str
        The config key it came from, for the message.
    root : str or Path, optional
        The workspace (default: the current directory).

    Returns
    -------
    Path
        ``path`` unchanged (the stage reads what was configured).

    Raises
    ------
    InputError
        The path, once ``..`` and symlinks are resolved, is outside the workspace.
    """
    from blindspot.errors import InputError  # paths stays importable without the library's dependencies

    root = Path.cwd() if root is None else Path(root)
    workspace = root.resolve()
    given = Path(path)
    target = (given if given.is_absolute() else workspace / given).resolve()
    if target == workspace or workspace in target.parents:
        return given
    inside = [workspace / given, *(workspace / given).parents]
    inside = [p for p in inside if workspace in p.parents]  # the configured path's own components
    link = next((p for p in inside if p.is_symlink()), None) if not given.is_absolute() else None
    how = f"a symlink ({link.relative_to(workspace)}) pointing to {target}" if link is not None else f"{target}"
    raise InputError(
        given,
        "the file is outside the workspace, so DVC does not track it: after it changes, `dvc repro` would keep "
        "a stale audit.",
        field=key,
        expected=f"a file inside the workspace {workspace}, under data/raw/ (a DVC dependency)",
        found=how,
        hint=f"copy it there, e.g. `cp {target} data/raw/{target.name}`, and set `-S {key}=data/raw/{target.name}`.",
    )
