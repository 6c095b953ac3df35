"""The ``blindspot`` command: tools around the DVC pipeline (the pipeline itself stays ``dvc repro``).

``blindspot gate`` checks the current audit in the workspace against the rules of
``conf/gate/`` (as composed into ``params.yaml``) and the audit committed at a git revision
(``HEAD`` by default: the previous version), prints and writes a Markdown summary and a JUnit
XML report, and exits 1 when a rule fails, 0 when every rule passes, 2 when it cannot run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Optional

from blindspot import paths
from blindspot.errors import BlindspotError

GATE_MD = Path("reports/gate.md")
GATE_JUNIT = Path("reports/gate.junit.xml")


def _git(root: Path, *args: str) -> Optional[str]:
    """A git command's output in ``root``, or None when it fails (no repository, no such revision or file)."""
    out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    return out.stdout if out.returncode == 0 else None


def baseline_findings(root: Path, rev: str) -> tuple[Optional[list], str]:
    """The findings of the audit committed at ``rev``, and what that baseline is in words.

    The revision is resolved to its commit, which the summary names, so the comparison is recorded.
    """
    sha = _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if sha is None:
        return None, f"none: {rev} is not a commit of this repository"
    sha = sha.strip()
    text = _git(root, "show", f"{sha}:{paths.FINDINGS.as_posix()}")
    if text is None:
        return None, f"none: {paths.FINDINGS} is not committed at {rev} ({sha[:12]})"
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None, f"none: {paths.FINDINGS} at {rev} ({sha[:12]}) is not JSON"
    return data, f"the audit committed at {rev} ({sha[:12]})"


def _read_json(path: Path, optional: bool = False):
    if not path.is_file():
        if optional:
            return None
        raise BlindspotError(f"{path}: not found; run `dvc repro` first")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BlindspotError(f"{path}: not JSON (line {exc.lineno}): run `dvc repro` again") from None


def gate(args: argparse.Namespace) -> int:
    from blindspot.config import load_params
    from blindspot.gate import evaluate, junit_xml, markdown

    root = Path(args.root)
    cfg = load_params(root / paths.PARAMS)
    base, said = baseline_findings(root, args.baseline_rev)
    result = evaluate(cfg.gate, findings=_read_json(root / paths.FINDINGS),
                      profile=_read_json(root / paths.PROFILE_METRICS),
                      compare=_read_json(root / paths.COMPARE_METRICS, optional=True),
                      baseline_findings=base, baseline=said)
    summary = markdown(result)
    for path, text in ((root / args.summary, summary), (root / args.junit, junit_xml(result))):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    print(summary, end="")
    print(f"gate: {'passed' if result.passed else 'FAILED'} -> {args.summary}, {args.junit}")
    return 0 if result.passed else 1


def history(args: argparse.Namespace) -> int:
    from blindspot.history import write_history

    root = Path(args.root)
    versions = write_history(root, root / args.out, root / args.db)
    print(f"history: {len(versions)} audited versions -> {args.out}, {args.db}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="blindspot", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("gate", help="fail the build when the audit breaks a rule of conf/gate/",
                       description="Check the workspace's audit against conf/gate/ and the audit committed at a "
                                   "git revision; exit 1 when a rule fails.")
    g.add_argument("--baseline-rev", default="HEAD", help="git revision of the previous audit (default: HEAD)")
    g.add_argument("--root", default=".", help="the project's directory (default: .)")
    g.add_argument("--summary", default=str(GATE_MD), help=f"Markdown summary (default: {GATE_MD})")
    g.add_argument("--junit", default=str(GATE_JUNIT), help=f"JUnit XML report (default: {GATE_JUNIT})")
    g.set_defaults(func=gate)
    h = sub.add_parser("history", help="trend of every audit committed in git: an offline HTML page and SQLite",
                       description="Read every audited version in the git history and write one self-contained "
                                   "HTML page and a SQLite file of the same numbers.")
    h.add_argument("--root", default=".", help="the project's directory (default: .)")
    h.add_argument("--out", default="reports/history.html", help="HTML page (default: reports/history.html)")
    h.add_argument("--db", default="reports/history.sqlite", help="SQLite file (default: reports/history.sqlite)")
    h.set_defaults(func=history)
    from blindspot import workspace  # init and audit: a workspace in the user's own repository
    workspace.register(sub)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except BlindspotError as exc:
        print(f"blindspot {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
