"""The ``blindspot`` command: tools around the DVC pipeline (the pipeline itself stays ``dvc repro``).

- ``blindspot baseline [--rev REV]`` records the audit committed at ``REV`` (``HEAD``: the
  previous version) in ``baseline/``, the baseline the next audit is compared with
  (:mod:`blindspot.baseline`);
- ``blindspot gate`` prints the release gate's result that the gate stage recorded
  (``reports/gate.md``) and exits 1 when a rule failed, 0 when every rule passed, 2 when it
  cannot tell (no audit, or an audit out of date with its inputs, params or code);
- ``blindspot history`` draws every audited version in the git history on one page.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from blindspot import paths
from blindspot.errors import BlindspotError


def baseline(args: argparse.Namespace) -> int:
    from blindspot.baseline import MANIFEST, record

    rec = record(Path(args.root), args.rev)
    print(f"baseline: {rec.words()}; predictions {rec.path} -> {MANIFEST} (staged; commit it with the next audit)")
    return 0


def _stale(root: Path) -> list:
    """The pipeline's stages whose outputs are out of date (``dvc status``); empty when up to date or unknown."""
    try:
        out = subprocess.run(["dvc", "status", "--json"], cwd=root, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired):
        return []
    try:
        return sorted(k.split(":")[-1] for k in json.loads(out.stdout or "{}"))
    except json.JSONDecodeError:
        return []


def gate(args: argparse.Namespace) -> int:
    root = Path(args.root)
    doc_path, summary = root / paths.GATE_METRICS, root / paths.GATE_MD
    if not doc_path.is_file() or not summary.is_file():
        raise BlindspotError(f"{paths.GATE_METRICS}: not found; run `dvc repro` (the gate stage records the result)")
    stale = [] if args.no_status else _stale(root)
    if stale:
        raise BlindspotError(f"the audit is out of date (dvc status: {', '.join(stale)} changed); run `dvc repro` "
                             f"first, so the gate judges this version")
    try:
        doc = json.loads(doc_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BlindspotError(f"{paths.GATE_METRICS}: not JSON (line {exc.lineno}); run `dvc repro` again") from None
    print(summary.read_text(encoding="utf-8"), end="")
    passed = doc.get("passed") == 1
    print(f"gate: {'passed' if passed else 'FAILED'} ({paths.GATE_MD}, {paths.GATE_JUNIT})")
    return 0 if passed else 1


def history(args: argparse.Namespace) -> int:
    from blindspot.history import write_history

    root = Path(args.root)
    versions = write_history(root, root / args.out, root / args.db)
    print(f"history: {len(versions)} audited versions -> {args.out}, {args.db}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="blindspot", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("baseline", help="record the audit committed at a git revision as the next audit's baseline",
                       description="Record the audit committed at REV (default HEAD, the previous version) in "
                                   "baseline/: the compare, lifecycle and report stages read it.")
    b.add_argument("--rev", default="HEAD", help="git revision of the previous audit (default: HEAD)")
    b.add_argument("--root", default=".", help="the project's directory (default: .)")
    b.set_defaults(func=baseline)
    g = sub.add_parser("gate", help="fail the build when the audit breaks a rule of conf/gate/",
                       description="Print the release gate's result the gate stage recorded; exit 1 when a rule "
                                   "failed, 2 when the audit is missing or out of date.")
    g.add_argument("--root", default=".", help="the project's directory (default: .)")
    g.add_argument("--no-status", action="store_true", help="skip the `dvc status` check that the audit is current")
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
