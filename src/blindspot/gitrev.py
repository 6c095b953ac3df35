"""Reading what a git repository holds at a revision: the commands around the pipeline use it, never a stage.

A stage must not look into git history: its output would then depend on something DVC does
not track. ``blindspot baseline`` (:mod:`blindspot.baseline`) copies what it needs from a
commit into files the stages depend on, and ``blindspot history`` reads the whole history to
draw a page; both read git through these few functions.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Optional


def git(root: Path, *args: str, binary: bool = False):
    """A git command's output in ``root`` (text, or bytes with ``binary``), or None when it fails.

    A failure is an expected answer here (no repository, no such revision, a file not
    committed at it), so it is a None rather than an exception.
    """
    out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=not binary)
    return out.stdout if out.returncode == 0 else None


def commit_of(root: Path, rev: str) -> Optional[str]:
    """The full commit id ``rev`` names, or None when it names no commit of the repository."""
    sha = git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    return sha.strip() if sha else None


def describe(root: Path, commit: str) -> tuple[str, str]:
    """(ISO committer date, subject line) of a commit."""
    text = git(root, "log", "-1", "--format=%cI%x1f%s", commit) or "\x1f"
    date, _, subject = text.rstrip("\n").partition("\x1f")
    return date, subject


def show(root: Path, commit: str, path: str) -> Optional[bytes]:
    """A file's bytes as committed at ``commit``, or None when the commit does not hold it."""
    return git(root, "show", f"{commit}:{path}", binary=True)


def show_json(root: Path, commit: str, path: str) -> Optional[object]:
    """A JSON file as committed, or None when the commit lacks it or it does not parse."""
    data = show(root, commit, path)
    if data is None:
        return None
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
