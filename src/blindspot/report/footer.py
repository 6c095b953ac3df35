"""The reproducibility footer: what produced this brief, as functions of its inputs only.

The brief is a DVC output and must be byte-identical whenever its declared
dependencies and params are (the end-to-end test re-runs ``dvc repro`` in a fresh copy
and compares bytes). So the footer holds only what those determine:

- sha256 of ``params.yaml`` (the report stage tracks the whole file),
- sha256 of the audited predictions file and of the baseline file (both under
  ``data/raw``, a dependency of the report stage),
- the versions of blindspot and of the packages that computed the numbers.

The git revision and the time are deliberately *not* in the brief: the revision changes
with every commit, so a committed brief could never equal a fresh ``dvc repro`` of a
later commit (and the file would change, and be committed, on every commit). The stage
logs the revision instead, and ``dvc.lock`` ties the brief to its exact inputs: the
commit that holds the brief is ``git log -1 --format=%H -- reports/blind_spot_brief.md``.
"""

from __future__ import annotations

import hashlib
import subprocess
from importlib import metadata
from pathlib import Path

from blindspot import paths
from blindspot.report.complete import SECTION_TITLES
from blindspot.report.document import Code, Heading, Paragraph, Table, run

PACKAGES = ("blindspot", "dvc", "hydra-core", "pandas", "numpy", "scikit-learn", "scipy", "matplotlib")


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes, or "missing"."""
    path = Path(path)
    if not path.is_file():
        return "missing"
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_versions(names=PACKAGES) -> dict:
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_revision(root: str | Path = ".") -> str:
    """``git rev-parse HEAD`` (with ``-dirty`` when the work tree has changes), or "unknown" outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("-dirty" if dirty else "") if head else "unknown"


def provenance(root: str | Path, *, model_path: str, baseline_path: str | None) -> dict:
    """Everything the footer shows (see module docstring), relative to ``root``."""
    root = Path(root)
    return {
        "params_sha256": sha256_file(root / paths.PARAMS),
        "input_path": model_path,
        "input_sha256": sha256_file(root / model_path),
        "baseline_path": baseline_path,
        "baseline_sha256": sha256_file(root / baseline_path) if baseline_path else None,
        "packages": package_versions(),
    }


def footer(prov: dict) -> list:
    rows = [[Code(str(paths.PARAMS)), Code(prov["params_sha256"])],
            [run("input ", Code(prov["input_path"])), Code(prov["input_sha256"])]]
    if prov.get("baseline_path"):
        rows.append([run("baseline ", Code(prov["baseline_path"])), Code(prov["baseline_sha256"])])
    versions = ", ".join(f"{k} {v}" for k, v in prov["packages"].items())
    return [
        Heading(2, SECTION_TITLES[-1]),
        Table(["what", "sha256"], rows),
        Paragraph(f"Package versions: {versions}."),
        Paragraph("Regenerate with ", Code("dvc repro"), " (this brief is the ", Code("report"), " stage's output). "
                  "It holds no git revision and no time stamp, so the same inputs always give the same bytes; the "
                  "commit it belongs to is ", Code(f"git log -1 --format=%H -- {paths.BRIEF_MD}"), ", and the stage "
                  "log names the revision it ran at."),
    ]
