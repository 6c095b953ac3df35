"""Shared stage plumbing: arguments, logging, timing, and errors as one line each.

Every stage ends in :func:`run`, so every stage behaves alike:

- ``-h`` / ``--help`` prints what the stage reads, writes and which params it uses, and
  exits 0 before anything is read or written; any other argument is a usage error
  (exit 2). Stages take no arguments: ``params.yaml`` is their only input of settings.
- A :class:`~blindspot.errors.BlindspotError` (the user's to fix) is one message, exit 2.
- An :class:`OSError` (a file that is missing or unreadable, a full disk) is one line
  naming the file, exit 2.
- Anything else is a bug: one line first, saying so, then the traceback for the report,
  exit 1.
"""

from __future__ import annotations

import logging
import os
import sys
import textwrap
import time
import traceback
from pathlib import Path
from typing import Callable, Optional, Sequence

from blindspot.errors import BlindspotError
from blindspot.memory import use_system_allocator

# The source checkout's dvc.yaml (src/blindspot/stages/ -> the repository root), for --help run outside a workspace.
SOURCE_DVC_YAML = Path(__file__).resolve().parents[3] / "dvc.yaml"


def _dvc_yaml() -> Path:
    """The dvc.yaml --help describes: the workspace's (the working directory's), else the source checkout's."""
    here = Path("dvc.yaml")
    return here if here.is_file() else SOURCE_DVC_YAML


def listing(entries) -> list[str]:
    """Paths of a dvc.yaml deps/outs/metrics/plots list (entries may be ``{path: options}``)."""
    out = []
    for entry in entries or []:
        out.extend(entry.keys() if isinstance(entry, dict) else [str(entry)])
    return [str(p) for p in out]


def stage_io(name: str, dvc_yaml: Optional[Path] = None) -> Optional[dict]:
    """What ``dvc.yaml`` declares for stage ``name``: data read, files written, params.

    Returns
    -------
    dict or None
        ``{"reads": [...], "writes": [...], "params": [...]}``; code dependencies
        (``src/``) are left out of "reads". None when ``dvc.yaml`` or the
        stage is absent (an installed copy without the repository).
    """
    try:
        import yaml

        stage = yaml.safe_load((dvc_yaml or _dvc_yaml()).read_text(encoding="utf-8"))["stages"][name]
    except (OSError, KeyError, TypeError, ValueError):
        return None
    reads = [p for p in listing(stage.get("deps")) if not p.startswith("src/")]
    writes = listing(stage.get("outs")) + listing(stage.get("metrics")) + listing(stage.get("plots"))
    params = [p for entry in stage.get("params") or [] for p in (entry if isinstance(entry, dict) else [entry])]
    return {"reads": reads, "writes": writes, "params": [str(p) for p in params]}


def usage(name: str, doc: Optional[str]) -> str:
    """The ``--help`` text of stage ``name``: its docstring, then its files and params from ``dvc.yaml``."""
    lines = [f"usage: python -m blindspot.stages.{name} [-h]", ""]
    if doc and doc.strip():
        lines += [doc.strip(), ""]
    lines.append("Run from the repository root (normally by `dvc repro`); settings come from ./params.yaml only.")
    io = stage_io(name)
    if io is not None:
        params = ", ".join(io["params"]) or ("all of it (a file dependency)" if "params.yaml" in io["reads"] else "none")
        for label, text in (("reads:", ", ".join(io["reads"]) or "-"), ("writes:", ", ".join(io["writes"]) or "-"),
                            ("params:", params + (" (params.yaml)" if io["params"] else ""))):
            lines += textwrap.wrap(text, width=100, initial_indent=f"  {label:<8} ", subsequent_indent=" " * 11,
                                   break_on_hyphens=False)
    lines += ["", "options:", "  -h, --help  show this message and exit (reads and writes nothing)"]
    return "\n".join(lines)


def parse_args(name: str, doc: Optional[str], argv: Sequence[str]) -> Optional[int]:
    """Handle the command line: an exit status to leave with, or None to run the stage.

    ``-h``/``--help`` anywhere prints :func:`usage` (status 0); any other argument is a
    one-line usage error on stderr (status 2).
    """
    if any(arg in ("-h", "--help") for arg in argv):
        print(usage(name, doc))
        return 0
    if argv:
        print(f"{name}: error: unrecognized argument {argv[0]!r}; usage: python -m blindspot.stages.{name} [-h] "
              f"(settings go in params.yaml)", file=sys.stderr)
        return 2
    return None


def _first_line(text: str, limit: int = 300) -> str:
    line = next((part for part in str(text).splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[:limit - 1] + "…"


def os_error_line(name: str, exc: OSError) -> str:
    """One line for a file the stage could not read or write."""
    if isinstance(exc, FileNotFoundError):
        # pandas raises it with the bare path as its message (no filename attribute).
        target = str(exc.filename or _first_line(exc) or "a file")
        hint = "; an earlier stage writes it: run `dvc repro`" if "data/interim" in target else ""
        return f"{name}: error: {target}: not found{hint}"
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{name}: error: {where}{exc.strerror or _first_line(exc) or type(exc).__name__}"


def internal_error_line(name: str, exc: BaseException) -> str:
    """The line printed above the traceback of an exception that is a bug."""
    message = _first_line(exc)
    return (f"{name}: internal error: {type(exc).__name__}" + (f": {message}" if message else "")
            + " (a bug: please report it with the traceback below)")


def check_params(path: Optional[Path] = None) -> None:
    """The value checks of :func:`blindspot.preflight.check_values`, before the stage does any work.

    Ingest runs every check; ``dvc repro`` re-runs only the stages whose params changed,
    so a value edited into ``params.yaml`` by hand may reach a later stage without passing
    through ingest. A missing file is left to the stage (its own message says what to do).
    """
    from blindspot import paths

    path = paths.PARAMS if path is None else path
    if path.is_file():
        from blindspot import preflight
        from blindspot.config import load_params

        preflight.check_values(load_params(path))


def run(name: str, main: Callable[[logging.Logger], str], argv: Optional[Sequence[str]] = None) -> None:
    """Run a stage's ``main`` and exit.

    ``main`` returns the one line that says what the stage did; it is logged with
    the elapsed time. Errors are reported as the module docstring says. On success the
    process ends with ``os._exit(0)``: call ``main`` directly, not ``run``, from a
    process that must go on (tests do).

    Parameters
    ----------
    name : str
        The stage name (``dvc.yaml``), prefix of every message.
    main : callable
        ``main(log) -> summary``; its module's docstring is the ``--help`` text.
    argv : sequence of str, optional
        The arguments (default ``sys.argv[1:]``).
    """
    module = sys.modules.get(getattr(main, "__module__", ""), None)
    status = parse_args(name, getattr(module, "__doc__", None), sys.argv[1:] if argv is None else list(argv))
    if status is not None:
        sys.stdout.flush()
        sys.exit(status)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    log = logging.getLogger(name)
    start = time.perf_counter()
    # Every stage: Arrow on glibc's allocator, so malloc_trim reaches all of it (blindspot.memory).
    use_system_allocator()
    try:
        check_params()
        summary = main(log)
    except BlindspotError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except OSError as exc:
        # The environment, not the code: a file missing or unreadable, a full disk.
        print(os_error_line(name, exc), file=sys.stderr)
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - a bug: say so in one line, keep the traceback for the report
        print(internal_error_line(name, exc), file=sys.stderr)
        traceback.print_exc()
        sys.exit(1)
    log.info("%s (%.1f s)", summary, time.perf_counter() - start)
    # Every output is written and closed by now. Leave without the interpreter's teardown
    # (finalising pandas, scipy and matplotlib modules): 0.1-0.3 s a stage, paid seven times
    # a run for nothing (bench/README.md).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
