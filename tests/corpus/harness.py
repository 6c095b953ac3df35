"""Run every stage of dvc.yaml in scratch copies and check what they leave behind.

A workspace is a copy of ``conf/``, ``scripts/`` and ``src/blindspot/stages/`` (the library is the
installed package) plus the data set's files under ``data/raw/``, with ``params.yaml``
composed by ``scripts/compose_params.py`` from the data set's overrides, as
``dvc exp run -S ...`` would. Each stage runs as ``python -m blindspot.stages.<name>``, in
dvc.yaml's order. Every check returns a list of problems (empty: it holds), so a test
can say all that is wrong at once.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

if __name__ == "__main__":  # run as a script: tests/ holds _paths and the corpus package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _paths import ROOT  # noqa: E402

COPIED = ("conf", "scripts")
STAGE_TIMEOUT_S = 600


def stage_commands() -> list[tuple[str, list[str]]]:
    """(name, argv) of every stage of dvc.yaml, in file order (data-flow order)."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    return [(name, [sys.executable if part == "python" else part for part in spec["cmd"].split()])
            for name, spec in stages.items()]


@dataclass
class StageResult:
    name: str
    returncode: int
    stderr: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and "Traceback" not in self.stderr

    def first_error(self) -> str:
        """The line that says what went wrong: an ``error:`` line, else a traceback's last line."""
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        for line in lines:
            if ": error:" in line or line.startswith("error"):
                return line.strip()[:300]
        if "Traceback" in self.stderr:
            exc = [line for line in lines if re.match(r"^[A-Za-z_.]+(Error|Exception|Exit)\b", line)]
            return (exc[-1] if exc else lines[-1]).strip()[:300]
        return (lines[-1] if lines else f"exit status {self.returncode}, no stderr").strip()[:300]


@dataclass
class PipelineRun:
    root: Path
    compose_error: str = ""
    stages: list = field(default_factory=list)

    @property
    def failed(self) -> StageResult | None:
        return next((s for s in self.stages if not s.ok), None)

    def summary(self) -> str:
        if self.compose_error:
            return f"compose_params: {self.compose_error}"
        bad = self.failed
        if bad is None:
            return "all stages ran"
        return f"stage {bad.name} (exit {bad.returncode}): {bad.first_error()}"


def _env() -> dict:
    # The stages import the installed package (or PYTHONPATH's) and the copy's src/blindspot/stages/.
    return dict(os.environ, PYTHONDONTWRITEBYTECODE="1", DVC_NO_ANALYTICS="1")


def make_workspace(root: Path, dataset) -> PipelineRun:
    """Copy the code and config, write the data set, compose params.yaml."""
    root.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    dataset.build(root)
    proc = subprocess.run([sys.executable, "scripts/compose_params.py", *dataset.overrides], cwd=root,
                          capture_output=True, text=True, env=_env())
    run = PipelineRun(root)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        run.compose_error = lines[-1] if lines else f"exit status {proc.returncode}"
    return run


def run_stages(run: PipelineRun) -> PipelineRun:
    """Run every stage in order; stop at the first that fails (the rest would read missing files)."""
    if run.compose_error:
        return run
    for name, argv in stage_commands():
        start = time.perf_counter()
        try:
            proc = subprocess.run(argv, cwd=run.root, capture_output=True, text=True, env=_env(),
                                  timeout=STAGE_TIMEOUT_S)
            result = StageResult(name, proc.returncode, proc.stderr, time.perf_counter() - start)
        except subprocess.TimeoutExpired as exc:
            stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
            result = StageResult(name, -1, stderr + f"\nerror: timed out after {STAGE_TIMEOUT_S} s",
                                 time.perf_counter() - start)
        run.stages.append(result)
        if not result.ok:
            break
    return run


def run_twice(dataset, base: Path) -> tuple[PipelineRun, PipelineRun]:
    """The whole pipeline in two fresh copies (different paths), side by side on two workers."""
    runs = [make_workspace(base / f"{dataset.name}_{tag}", dataset) for tag in ("a", "b")]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return tuple(pool.map(run_stages, runs))


# --------------------------------------------------------------------------- outputs


def output_files(root: Path) -> dict[str, str]:
    """sha256 of every file the run wrote (everything but the copied code, config and inputs)."""
    inputs = {*COPIED, "params.yaml"}
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or rel.parts[0] in inputs or rel.parts[:2] == ("data", "raw") or "__pycache__" in rel.parts:
            continue
        out[rel.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def compare_runs(a: PipelineRun, b: PipelineRun) -> list[str]:
    """Files that differ between two runs of the same inputs (or exist in one only)."""
    fa, fb = output_files(a.root), output_files(b.root)
    problems = [f"{rel}: only in the {'first' if rel in fa else 'second'} run" for rel in sorted(set(fa) ^ set(fb))]
    problems += [f"{rel}: bytes differ between the two runs" for rel in sorted(set(fa) & set(fb)) if fa[rel] != fb[rel]]
    return problems


def _strict_json(path: Path):
    """Load JSON; a repeated key in any object (which json.load silently collapses) is an error."""
    def pairs(items):
        keys = [k for k, _ in items]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"{path.name}: repeated key(s) {dupes} in one object")
        return dict(items)

    return json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=pairs)


# --------------------------------------------------------------------------- checks


def check_ingest_accounting(root: Path, rows: int) -> list[str]:
    path = root / "metrics/ingest.json"
    if not path.is_file():
        return ["metrics/ingest.json was not written"]
    m = _strict_json(path)
    problems = []
    if m.get("rows_in") != rows:
        problems.append(f"rows_in is {m.get('rows_in')!r}, the file has {rows} records")
    if m.get("rows_in") != (m.get("rows_clean") or 0) + (m.get("rows_rejected") or 0):
        problems.append(f"rows_in {m.get('rows_in')} != rows_clean {m.get('rows_clean')} + "
                        f"rows_rejected {m.get('rows_rejected')}")
    return problems


def _md_plain(md: str) -> str:
    return re.sub(r"\\(.)", r"\1", md)  # CommonMark backslash escapes removed


def check_brief_complete(root: Path) -> list[str]:
    """Both briefs exist; every section has content and every significant finding is in both,
    in the section that owns it (:func:`blindspot.report.check_complete`); after a full run no
    input is reported missing; no value is rendered raw as nan or inf instead of "not measurable"."""
    from blindspot.report import check_complete

    md_path, html_path = root / "reports/blind_spot_brief.md", root / "reports/blind_spot_brief.html"
    missing = [p.relative_to(root).as_posix() for p in (md_path, html_path, root / "reports/findings.json")
               if not p.is_file()]
    if missing:
        return [f"{m} was not written" for m in missing]
    md, page = md_path.read_text(encoding="utf-8"), html_path.read_text(encoding="utf-8")
    problems = list(check_complete(md, page, _strict_json(root / "reports/findings.json")))
    if "missing or unreadable" in md or "missing or unreadable" in page:
        problems.append("the brief says some inputs were missing or unreadable after every stage ran")
    # The corpus's texts are generated, so a bare "nan" or "inf" can only be a number rendered raw.
    for name, text in (("Markdown", _md_plain(md)), ("HTML", html.unescape(re.sub(r"<[^>]+>", " ", page)))):
        raw = sorted(set(re.findall(r"(?<![A-Za-z])(?:nan|NaN|-?inf)(?![A-Za-z])", text)))
        if raw:
            problems.append(f"{name} brief: raw non-numbers {raw} instead of 'not measurable'")
    return problems


def _parts_everywhere(node, found: list) -> None:
    """Every (entry key, parts) pair in a JSON tree: slice entries and findings carry ``parts``."""
    if isinstance(node, dict):
        parts = node.get("parts")
        if isinstance(parts, list) and parts and all(isinstance(p, dict) for p in parts):
            found.append((node.get("key"), parts))
        for value in node.values():
            _parts_everywhere(value, found)
    elif isinstance(node, list):
        for value in node:
            _parts_everywhere(value, found)


def _keys_with_dots(node, path: str, out: list) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            if "." in str(k):
                out.append(f"{path}{k!r}")
            _keys_with_dots(v, f"{path}{k}/", out)


def check_slice_keys(root: Path) -> list[str]:
    """No two slices share a key; one (column, value) has one key in every file; keys are DVC-safe."""
    problems = []
    trees = {}
    for path in [*sorted((root / "metrics").glob("*.json")), root / "reports/findings.json"]:
        if not path.is_file():
            continue
        try:
            trees[path.relative_to(root).as_posix()] = _strict_json(path)
        except ValueError as exc:
            problems.append(str(exc))
    # Entries found under their key in the slice sections (dict keys are unique by now).
    slices = trees.get("metrics/slices.json") or {}
    for section in ("watchlist", "discovered"):
        for key, entry in (slices.get(section) or {}).items():
            if isinstance(entry, dict) and entry.get("key", key) != key:
                problems.append(f"metrics/slices.json: {section} entry {key!r} says its key is {entry.get('key')!r}")
    # key <-> (source, column, value) must be a bijection across every file.
    part_of: dict = {}
    key_of: dict = {}
    for rel, tree in trees.items():
        found: list = []
        _parts_everywhere(tree, found)
        for entry_key, parts in found:
            sigs = []
            for p in parts:
                sig = json.dumps([p.get("source"), p.get("column"), p.get("value")], ensure_ascii=False, sort_keys=True)
                sigs.append(sig)
                k = p.get("key")
                if part_of.setdefault(k, sig) != sig:
                    problems.append(f"{rel}: key {k!r} names two slices: {part_of[k]} and {sig}")
                if key_of.setdefault(sig, k) != k:
                    problems.append(f"{rel}: slice {sig} has two keys: {key_of[sig]!r} and {k!r}")
            if entry_key is not None and parts and all(p.get("key") for p in parts):
                joined = "__and__".join(p["key"] for p in parts)
                if joined != entry_key and sorted(joined.split("__and__")) != sorted(str(entry_key).split("__and__")):
                    problems.append(f"{rel}: entry {entry_key!r} has parts {joined!r}")
    # DVC flattens nested keys with dots: a dot inside a key makes two metrics read as one.
    for rel, tree in trees.items():
        if rel.startswith("metrics/"):
            dotted: list = []
            _keys_with_dots(tree, "", dotted)
            problems += [f"{rel}: key with a dot {d}" for d in dotted[:5]]
    membership = root / "data/interim/slices.parquet"
    if membership.is_file():
        import pyarrow.parquet as pq

        names = pq.read_schema(membership).names
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            problems.append(f"data/interim/slices.parquet: repeated columns {dupes}")
    return problems


def main(argv=None) -> int:
    """Run corpus data sets once each and print every stage's outcome and each check's problems.

    python tests/corpus/harness.py [name ...] [--out DIR]
    """
    import argparse
    import tempfile

    from corpus.datasets import DATASETS

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("names", nargs="*", help=f"data sets (default: all): {', '.join(DATASETS)}")
    parser.add_argument("--out", type=Path, default=None, help="keep the workspaces here (default: a temporary folder)")
    args = parser.parse_args(argv)
    base = args.out or Path(tempfile.mkdtemp(prefix="corpus_"))
    status = 0
    for name in args.names or list(DATASETS):
        run = run_stages(make_workspace(base / name, DATASETS[name]))
        times = " ".join(f"{s.name}={s.seconds:.1f}s" for s in run.stages)
        checks = []
        if not run.compose_error and run.failed is None:
            checks = (check_ingest_accounting(run.root, DATASETS[name].rows) + check_brief_complete(run.root)
                      + check_slice_keys(run.root) + DATASETS[name].expect(run.root))
        status |= bool(run.compose_error or run.failed or checks)
        print(f"{name}: {run.summary()} [{times}]")
        for problem in checks:
            print(f"  {problem}")
    print(f"workspaces in {base}")
    return status


if __name__ == "__main__":
    sys.exit(main())
