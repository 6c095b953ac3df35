"""The previous audited version, recorded as the baseline in ``baseline/`` (``blindspot baseline``).

Each new model version is compared with the one before it: the audit committed at ``HEAD``
(or a named tag). A stage may not look that up in git itself, since DVC would not know its
output depends on it, so ``blindspot baseline [--rev REV]`` records it once, into files the
compare, lifecycle and report stages depend on and which are committed with the audit:

- ``baseline/baseline.json``: which version it is (model name, the revision as given, the
  commit, its date and subject) and how to read its predictions (the ``model`` section of
  its ``params.yaml``), with the sha256 of that predictions file;
- ``baseline/findings.json``, ``baseline/headline.json``, ``baseline/lifecycle.json``: the
  previous audit's findings, headline numbers and blind-spot lifecycle, as committed.

The predictions are not copied: the file the previous audit read must still be in the
workspace, unchanged (each version's predictions in a file of its own under ``data/raw``,
added with ``dvc add``). ``blindspot baseline`` refuses when it is not, and the compare stage
checks the sha256 again, so a baseline cannot silently be another file.

With nothing recorded and no ``compare.baseline.path`` configured there is no baseline and
no comparison. A configured ``compare.baseline.path`` is the compare stage's baseline; the
lifecycle uses the record only when it is the same file (:func:`same_version`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from blindspot import gitrev, paths
from blindspot.errors import BlindspotError

RECORD_DIR = Path("baseline")
MANIFEST = RECORD_DIR / "baseline.json"
# committed file of the previous audit -> its copy in the record
COPIED = {paths.FINDINGS: RECORD_DIR / "findings.json", Path("metrics/headline.json"): RECORD_DIR / "headline.json",
          Path("reports/lifecycle.json"): RECORD_DIR / "lifecycle.json"}
MODEL_KEYS = ("name", "path", "format", "columns", "probability_prefix")


@dataclass(frozen=True)
class Record:
    """A recorded baseline: ``baseline/baseline.json`` as loaded."""

    name: str
    rev: str
    commit: str
    committed: str
    subject: str
    model: dict  # the previous version's params.yaml model section (MODEL_KEYS)
    input_sha256: str

    @property
    def path(self) -> str:
        return self.model["path"]

    def words(self) -> str:
        """The version in words, e.g. "v2, the audit committed at 1a2b3c4d5e6f (2026-12-02, 'audit v2')"."""
        return f"{self.name}, the audit committed at {self.commit[:12]} ({self.committed[:10]}, '{self.subject}')"


def digest_of(path: Path, algorithm: str = "sha256") -> str:
    """A file's hex digest, read in 1 MiB blocks (md5 is what a .dvc file records)."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    return digest_of(path)


def _changed_since(root: Path, commit: str, path: str) -> Optional[str]:
    """None when the workspace's ``path`` is the file committed at ``commit`` (by git or by its .dvc file); else why not."""
    import yaml

    blob = gitrev.git(root, "rev-parse", "--verify", "--quiet", f"{commit}:{path}")
    if blob:
        now = gitrev.git(root, "hash-object", "--", path)
        return None if now and now.strip() == blob.strip() else "its content differs from the committed one"
    pointer = gitrev.show(root, commit, f"{path}.dvc")
    if pointer is None:
        return "it is tracked there neither by git nor by a .dvc file of its own (dvc add it)"
    try:
        md5 = yaml.safe_load(pointer)["outs"][0]["md5"]
    except (yaml.YAMLError, KeyError, IndexError, TypeError):
        return f"its {path}.dvc there cannot be read"
    return None if digest_of(root / path, "md5") == md5 else "its content differs from the one its .dvc file recorded"


def _committed_params(root: Path, commit: str, rev: str, copies: Mapping[Path, Optional[bytes]]) -> dict:
    """The committed audit's params; ``copies`` (:data:`COPIED`'s files as committed) must hold its findings."""
    import yaml

    text = gitrev.show(root, commit, paths.PARAMS.as_posix())
    if text is None or copies[COPIED[paths.FINDINGS]] is None:
        raise BlindspotError(f"--rev {rev} ({commit[:12]}): no audit is committed there ({paths.PARAMS} and "
                             f"{paths.FINDINGS} are not both in it); commit an audit first (dvc repro, git commit)")
    params = yaml.safe_load(text) or {}
    model = params.get("model") or {}
    if not isinstance(model, Mapping) or not model.get("path"):
        raise BlindspotError(f"{paths.PARAMS} at {rev} ({commit[:12]}) has no model.path")
    return params


def record(root: Path, rev: str = "HEAD") -> Record:
    """Record the audit committed at ``rev`` as the baseline: write ``baseline/`` under ``root``.

    Raises
    ------
    BlindspotError
        ``rev`` names no commit; no audit is committed there; or the predictions file that
        audit read is missing from the workspace or differs from the committed one.
    """
    commit = gitrev.commit_of(root, rev)
    if commit is None:
        raise BlindspotError(f"--rev {rev}: not a commit of the git repository at {root.resolve()}")
    copies = {dst: gitrev.show(root, commit, src.as_posix()) for src, dst in COPIED.items()}
    params = _committed_params(root, commit, rev, copies)
    model = {k: params["model"].get(k) for k in MODEL_KEYS}
    path = str(model["path"])
    if not (root / path).is_file():
        raise BlindspotError(f"{path}: the predictions the audit at {rev} ({commit[:12]}) read are not in the "
                             f"workspace; keep every version's predictions in a file of its own under data/raw")
    why = _changed_since(root, commit, path)
    if why:
        raise BlindspotError(f"{path}: not the file the audit at {rev} ({commit[:12]}) read: {why}; keep every "
                             f"version's predictions in a file of its own under data/raw")
    date, subject = gitrev.describe(root, commit)
    rec = Record(name=str(model["name"]), rev=rev, commit=commit, committed=date, subject=subject, model=model,
                 input_sha256=sha256_of(root / path))
    _write(root, rec, copies)
    # Staged, because `dvc exp run` leaves untracked files out of the experiment it runs: an unstaged record
    # would be invisible to the compare stage. It is committed with the next audit.
    if gitrev.git(root, "add", "--all", "--", RECORD_DIR.as_posix()) is None:
        raise BlindspotError(f"`git add {RECORD_DIR}` failed in {root.resolve()}: stage the record by hand")
    return rec


def _write(root: Path, rec: Record, copies: Mapping[Path, Optional[bytes]]) -> None:
    (root / RECORD_DIR).mkdir(parents=True, exist_ok=True)
    for dst, data in copies.items():
        if data is None:
            (root / dst).unlink(missing_ok=True)  # an audit from before the file existed: none, not a stale one
        else:
            (root / dst).write_bytes(data)
    doc = {"name": rec.name, "rev": rec.rev, "commit": rec.commit, "committed": rec.committed,
           "subject": rec.subject, "model": rec.model, "input_sha256": rec.input_sha256}
    (root / MANIFEST).write_text(json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                 encoding="utf-8")


def load(root: Path = Path(".")) -> Optional[Record]:
    """The recorded baseline, or None when ``baseline/baseline.json`` is absent.

    Raises
    ------
    BlindspotError
        The manifest exists but is not a record (edited by hand, or half written).
    """
    path = root / MANIFEST
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return Record(**{k: doc[k] for k in Record.__dataclass_fields__})
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise BlindspotError(f"{MANIFEST}: not a baseline record ({exc}); run `blindspot baseline` again") from None


def load_copy(root: Path, src: Path):
    """The previous audit's file ``src`` (a key of :data:`COPIED`) from the record, or None when it has none."""
    path = root / COPIED[src]
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def compare_config(rec: Record):
    """The :class:`~blindspot.config.BaselineConfig` that reads the recorded version's predictions as it did."""
    from blindspot.config import BaselineConfig, ColumnsConfig

    columns = rec.model.get("columns")
    return BaselineConfig(name=rec.name, path=rec.path, format=rec.model.get("format") or "auto",
                          columns=ColumnsConfig(**columns) if isinstance(columns, Mapping) else None,
                          probability_prefix=rec.model.get("probability_prefix"))


def provenance(rec: Optional[Record], configured: bool) -> dict:
    """Where the compare stage's baseline came from, for ``metrics/compare.json`` ``baseline``."""
    if configured:
        return {"source": "configured"}
    if rec is None:
        return {"source": "none"}
    return {"source": "previous_audit", "rev": rec.rev, "commit": rec.commit, "committed": rec.committed,
            "subject": rec.subject}


def stale_reason(rec: Record, root: Path = Path(".")) -> Optional[str]:
    """Why the recorded version's predictions cannot be read as recorded (moved or changed), or None."""
    target = root / rec.path
    if not target.is_file():
        return f"the baseline {rec.path} recorded in {MANIFEST} is not in the workspace any more"
    if sha256_of(target) != rec.input_sha256:
        return (f"the baseline {rec.path} changed since {MANIFEST} recorded it (sha256 {rec.input_sha256[:12]}); "
                f"run `blindspot baseline` again")
    return None


def same_version(rec: Record, configured_path: Optional[str], root: Path = Path(".")) -> bool:
    """Whether a configured ``compare.baseline.path`` is the recorded version's predictions (same bytes)."""
    if configured_path is None:
        return True
    target = root / configured_path
    return target.is_file() and sha256_of(target) == rec.input_sha256
