"""The files ``blindspot init`` copies into a new workspace, and where an installation keeps them.

The skeleton is this repository's own workspace files: ``dvc.yaml``, ``conf/`` (with its Hydra
plugin), the ``.dvc/plots`` templates and the ignore files. They are kept once, at the
repository root, where this project's own pipeline uses them. A wheel carries a copy made at
build time (``setup.py``'s ``build_py`` copies :func:`skeleton_files` into
``blindspot/_skeleton/``); a source checkout or an editable install reads them from the
repository root. This module imports nothing from the package, so ``setup.py`` can load it
by its file path before blindspot is installed.
"""

from __future__ import annotations

from pathlib import Path

# Single files and whole folders, relative to the repository root (or to the packaged copy).
FILES = ("dvc.yaml", ".dvcignore", "data/judge_cache/.gitignore")
TREES = ("conf", ".dvc/plots")
# Shipped when present: what explains a folder that dvc.yaml lists as a dependency.
FILES_IF_PRESENT = ("baseline/README.md",)
# Never part of the skeleton: Python's byte-code caches inside conf/hydra_plugins.
SKIPPED_PARTS = ("__pycache__",)
SKIPPED_SUFFIXES = (".pyc",)
# Where a wheel keeps the copy, inside the blindspot package.
PACKAGED = "_skeleton"


def skeleton_files(root: str | Path) -> list[Path]:
    """Every file of the skeleton under ``root``, relative to it, sorted.

    Parameters
    ----------
    root : str or Path
        The repository root (or a packaged copy of the skeleton).

    Returns
    -------
    list of Path
        Relative paths: ``FILES``, those of ``FILES_IF_PRESENT`` that exist, and every file below
        ``TREES`` (byte-code caches left out).

    Raises
    ------
    FileNotFoundError
        A file or folder of the skeleton is missing under ``root``.
    """
    root = Path(root)
    found = []
    for name in FILES:
        if not (root / name).is_file():
            raise FileNotFoundError(root / name)
        found.append(Path(name))
    found += [Path(name) for name in FILES_IF_PRESENT if (root / name).is_file()]
    for name in TREES:
        if not (root / name).is_dir():
            raise FileNotFoundError(root / name)
        for path in (root / name).rglob("*"):
            rel = path.relative_to(root)
            if path.is_file() and not set(rel.parts) & set(SKIPPED_PARTS) and path.suffix not in SKIPPED_SUFFIXES:
                found.append(rel)
    return sorted(found)


def _is_skeleton(root: Path) -> bool:
    return all((root / name).is_file() for name in FILES) and (root / "conf" / "config.yaml").is_file()


def skeleton_root() -> Path:
    """Where this installation of blindspot keeps the skeleton.

    Returns
    -------
    Path
        ``blindspot/_skeleton`` in a wheel install; the repository root in a source checkout
        or an editable install (``src/blindspot/`` is two levels below it).

    Raises
    ------
    BlindspotError
        Neither holds the skeleton: an installation built without ``setup.py``'s copy.
    """
    here = Path(__file__).resolve().parent
    for candidate in (here / PACKAGED, here.parents[1]):
        if _is_skeleton(candidate):
            return candidate
    from blindspot.errors import BlindspotError

    raise BlindspotError(f"this installation of blindspot ({here}) carries no workspace skeleton (dvc.yaml, conf/): "
                         f"reinstall it from the source repository with `pip install .`")
