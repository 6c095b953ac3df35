"""The bundled v1 audit, made afresh in a copy of the repository, whatever the workspace holds.

A user audits their own file in this workspace and commits it, as the README says: from then on
``params.yaml``, ``dvc.lock``, ``metrics/``, ``plots/`` and ``reports/`` hold *their* audit. So no test
takes those files as the truth. A test that needs the bundled audit (the README's story, a fresh
``dvc repro``) gets it from :func:`make_bundled_audit`: the git files copied to a scratch directory,
``params.yaml`` composed from ``conf/`` with ``model=v1``, every stage output and ``dvc.lock`` removed,
and the real ``dvc repro`` run there.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional

import yaml

from _paths import ROOT

BIN = Path(sys.executable).parent
BUNDLED = ("model=v1",)  # the composition the README's "What the audit finds" describes


def run(cmd: list[str], cwd: Path, check: bool = True, env: Optional[dict] = None) -> subprocess.CompletedProcess:
    """Run ``cmd`` in ``cwd`` with this interpreter's tools first on PATH and a throwaway git identity (plus ``env``)."""
    env = dict(os.environ, **(env or {}), PATH=f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", DVC_NO_ANALYTICS="1",
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def git_files(root: Path = ROOT) -> list[str]:
    """Files git would commit in ``root`` (tracked or new, ignored ones left out), relative paths."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=root,
                         capture_output=True, check=True).stdout.decode()
    return [f for f in out.split("\0") if f and (root / f).is_file()]


def declared_outputs(root: Path, persistent: bool = True) -> list[str]:
    """Every out, metric and plot path ``dvc.yaml`` declares (directories as declared, not expanded).

    ``persistent=False`` leaves out those marked ``persist: true`` (the judge's reply cache), which
    DVC itself keeps across runs.
    """
    stages = yaml.safe_load((root / "dvc.yaml").read_text())["stages"]
    found = set()
    for stage in stages.values():
        for item in (i for key in ("outs", "metrics", "plots") for i in stage.get(key, [])):
            name, spec = next(iter(item.items())) if isinstance(item, dict) else (item, {})
            if persistent or not (spec or {}).get("persist"):
                found.add(name)
    return sorted(found)


@functools.lru_cache(maxsize=None)
def _composed(overrides: tuple[str, ...]) -> str:
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base=None):
        return yaml.safe_dump(OmegaConf.to_container(compose(config_name="config", overrides=list(overrides)),
                                                     resolve=True), sort_keys=False)


def bundled_params() -> dict:
    """The bundled audit's parameters: ``conf/`` composed with ``model=v1`` (a fresh dict on each call)."""
    return yaml.safe_load(_composed(BUNDLED))


@functools.lru_cache(maxsize=None)
def bundled_params_file() -> Path:
    """A ``params.yaml`` holding :func:`bundled_params`, for code that reads a file (written once)."""
    path = Path(tempfile.mkdtemp(prefix="bundled-params-")) / "params.yaml"
    path.write_text(_composed(BUNDLED))
    return path


def copy_repository(dest: Path) -> Path:
    """Copy the workspace's git files to ``dest``, leaving out a user's inputs added with ``dvc add``.

    Git holds only their ``.dvc`` files (the data is in DVC's cache, not copied), and ``dvc repro``
    stops on a ``.dvc`` file whose data is missing.
    """
    for rel in (f for f in git_files() if not f.endswith(".dvc")):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
    return dest


def clear_baseline(work: Path) -> None:
    """Remove a baseline record (``blindspot baseline``) from a copy: it belongs to the workspace's own history."""
    for path in (work / "baseline").glob("*"):
        if path.name != "README.md":
            path.unlink()


def make_bundled_audit(dest: Path) -> Path:
    """Run the bundled v1 audit from scratch with ``dvc repro`` in a git repository at ``dest``.

    Whatever audit the workspace holds, the copy's ``params.yaml`` is recomposed with ``model=v1`` (as
    ``dvc exp run -S model=v1`` would write it) and ``dvc.lock`` and every declared output but the judge's
    persistent reply cache go, so every stage runs and nothing of the workspace's own audit survives. The copy is committed before and
    after the run, as a user's clone would be after ``make audit``.
    """
    work = copy_repository(dest)
    run([sys.executable, "scripts/compose_params.py", *BUNDLED], work)
    clear_baseline(work)
    for rel in ["dvc.lock", *declared_outputs(work, persistent=False)]:
        path = work / rel
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    run(["git", "init", "-q"], work)
    run(["git", "add", "-A"], work)
    run(["git", "commit", "-qm", "snapshot"], work)
    repro = run(["dvc", "repro"], work)
    assert "Traceback" not in repro.stderr, repro.stderr
    run(["git", "add", "-A"], work)
    run(["git", "commit", "-qm", "audit v1"], work)
    return work
