"""``blindspot init`` and ``blindspot audit``: a DVC workspace in a user's own repository.

``blindspot init DIR`` writes the audit pipeline into ``DIR`` (a git repository of the user's, or
a new directory, then ``git init``): ``dvc.yaml`` (this project's stages, without the
dependencies on blindspot's own source files, which a user's repository does not hold),
``conf/``, ``.dvc`` (``dvc init``, Hydra and the offline plots page configured), ``params.yaml``
composed from ``conf/``, the ignore lines the workspace needs and ``data/raw/``.

``blindspot audit FILE --text COL --label COL --prediction COL ...`` is a convenience over
DVC: it ``dvc add``s the file when neither git nor DVC tracks it, prints the
``dvc exp run -S key=value ...`` command that audits it and runs it. Everything it does is a
DVC command the user could have typed; it adds no pipeline logic of its own.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterable, Mapping, Optional, Sequence

from blindspot import gitrev
from blindspot.errors import BlindspotError, InputError

# What init refuses to overwrite without --force (the user's own pipeline, config or params).
PROTECTED = ("dvc.yaml", "conf", "params.yaml")
# The model the scaffolded conf/ composes by default: a template for the user's file. The
# bundled data's model files (conf/model/v1.yaml, ...) name files a workspace does not have.
OWN_MODEL = "own"
OWN_MODEL_PATH = "data/raw/predictions.csv"
DEFAULT_MODEL_LINE = "  - model: v1\n"  # conf/config.yaml's defaults entry that init points at OWN_MODEL
# .dvc/config of a workspace: Hydra composes conf/ on `dvc exp run` (with the checks of the
# plugin in conf/hydra_plugins), and `dvc plots` uses the offline page of .dvc/plots.
DVC_CONFIG = {
    "hydra": {"enabled": True, "config_dir": "conf", "config_name": "config", "plugins_path": "conf/hydra_plugins"},
    "plots": {"html_template": "plots/offline.html"},
}
# Lines the workspace's .gitignore needs: generated pages and reports that are not outputs of
# a stage, the stages' cached intermediates, and the byte-code Hydra leaves beside the plugin.
GITIGNORE = ("/dvc_plots/", "/data/interim", "/reports/history.html", "/reports/history.sqlite", "__pycache__/")
INPUT_DIR = "data/raw"  # the inputs' folder: a dependency of the stages that read them
FORMATS = ("auto", "csv", "tsv", "jsonl", "json", "parquet")
# A Hydra override value that needs no quotes: a plain word or path that Hydra would not read
# as a number, a boolean, null, inf or nan (those, and anything else, are quoted).
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-./]*$")
_HYDRA_WORDS = {"true", "false", "null", "inf", "nan"}


# --- init ------------------------------------------------------------------------------------------

def workspace_dvc_yaml(text: str, version: str) -> str:
    """The repository's ``dvc.yaml`` for a user's workspace: no ``src/`` dependency, a header of its own.

    The stages run the installed blindspot (``python -m blindspot.stages.<name>``), whose code
    is not in the workspace, so a code dependency could never be satisfied there. The lines are
    filtered rather than the YAML re-dumped, to keep the stages' comments.

    Parameters
    ----------
    text : str
        The repository's ``dvc.yaml``.
    version : str
        blindspot's version, named in the header.

    Returns
    -------
    str
        The workspace's ``dvc.yaml``.
    """
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#"))
    body, pending = [], []
    for line in lines[start:]:
        if line.lstrip().startswith("#"):
            pending.append(line)  # a comment goes with the line after it
            continue
        if line.lstrip().startswith("- src/"):
            pending = []  # the dependency and the comment that explains it
            continue
        body += pending + [line]
        pending = []
    header = (
        f"# The blindspot audit pipeline, written by `blindspot init` (blindspot {version}).\n"
        "# Every stage runs the installed blindspot (`python -m blindspot.stages.<name>`); its code lives\n"
        "# outside this repository, so it is not a dependency here: after upgrading blindspot, run\n"
        "# `dvc repro --force` so that every stage runs again with the new code.\n"
        "# Parameters come from conf/ (Hydra), composed into params.yaml by `dvc exp run`.\n"
    )
    return header + "".join(body + pending)


def without_code_deps(pipeline: Mapping) -> dict:
    """A parsed ``dvc.yaml`` with every ``src/`` dependency removed (what :func:`workspace_dvc_yaml` must give)."""
    stages = {}
    for name, stage in pipeline["stages"].items():
        deps = [d for d in stage.get("deps", []) if not (isinstance(d, str) and d.startswith("src/"))]
        stages[name] = {**stage, "deps": deps}
    return {**pipeline, "stages": stages}


def pipeline_paths(dvc_yaml: Path) -> tuple[set, set]:
    """(every stage's dependencies, every stage's outputs, metrics and plots) of a ``dvc.yaml``, as paths."""
    import yaml

    from blindspot.stages._runner import listing

    stages = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8"))["stages"].values()
    deps = set().union(*(listing(stage.get("deps")) for stage in stages))
    outs = set().union(*(listing(stage.get(kind)) for stage in stages for kind in ("outs", "metrics", "plots")))
    return deps, outs


def workspace_files(root: Path) -> list[str]:
    """What ``init`` writes that belongs in git, top-level names, for the ``git add`` command it prints."""
    deps, outs = pipeline_paths(root / "dvc.yaml")
    inputs = {Path(dep).parts[0] for dep in deps - outs - {"params.yaml"}}  # data (data/raw), ...
    return [".gitignore", ".dvcignore", ".dvc", "dvc.yaml", "params.yaml", "conf",
            *sorted(inputs | {Path(INPUT_DIR).parts[0]})]


def append_lines(path: Path, lines: Sequence[str], comment: str) -> list[str]:
    """Append to ``path`` each of ``lines`` it lacks, under ``comment``; never rewrite what is there.

    A line counts as present with or without its leading ``/`` (``dvc_plots/`` covers ``/dvc_plots/``).

    Returns
    -------
    list of str
        The lines appended (empty: the file had them all).
    """
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    have = {line.strip().lstrip("/") for line in old.splitlines()}
    missing = [line for line in lines if line.strip().lstrip("/") not in have]
    if missing:
        sep = "" if not old or old.endswith("\n") else "\n"
        block = "".join(f"{line}\n" for line in missing)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(old + sep + ("\n" if old else "") + f"# {comment}\n" + block, encoding="utf-8")
    return missing


def own_model_yaml() -> str:
    """``conf/model/own.yaml``: the template of the user's model, the workspace's default model."""
    return f"""\
# Your model's predictions: which file to audit and how to read it (written by `blindspot init`).
# `blindspot audit data/raw/<file> --text COL --label COL --prediction COL ...` sets these keys for one
# run (`dvc exp run -S model.path=... -S model.columns.text=...`, which it prints). To make them the
# default, edit them here and run `dvc exp run`. Until {OWN_MODEL_PATH} exists, `dvc repro` stops
# at its first stage (ingest) saying the file was not found.
# The file goes under data/raw/ and into DVC, not git: `dvc add data/raw/<file>`.
name: {OWN_MODEL}                      # names the model in the brief
path: {OWN_MODEL_PATH}   # relative to this repository's root, under data/raw/
format: auto                   # auto | csv | tsv | jsonl | json | parquet
columns:                       # the contract's fields -> your file's column names
  id: null                     # null numbers the rows (row-<n>)
  text: text
  label: label                 # the true class
  prediction: prediction
  confidence: confidence       # the predicted class's probability (null if probabilities are given)
  probabilities: null          # a column holding a {{class: probability}} mapping
probability_prefix: null       # or flat probability columns: "p_" reads p_<class> for every class
metadata: null                 # the metadata columns to slice on; null keeps every other column
"""


def _run(cmd: Sequence[str], cwd: Path, what: str, env: Optional[Mapping[str, str]] = None) -> str:
    """Run a git or dvc command; its output, or a BlindspotError saying what failed."""
    try:
        proc = subprocess.run(list(cmd), cwd=cwd, capture_output=True, text=True, env=env)
    except FileNotFoundError:
        raise BlindspotError(f"{what}: `{cmd[0]}` is not installed or not on PATH") from None
    if proc.returncode != 0:
        said = " ".join((proc.stderr or proc.stdout).split()) or f"exit status {proc.returncode}"
        raise BlindspotError(f"{what}: `{shlex.join(cmd)}` failed: {said}")
    return proc.stdout


def dvc_command() -> str:
    """The ``dvc`` installed beside this Python (blindspot depends on it), else the one on PATH."""
    beside = Path(sys.executable).with_name("dvc")
    found = str(beside) if beside.is_file() else shutil.which("dvc")
    if found is None:
        raise BlindspotError("`dvc` is not installed beside this Python nor on PATH: `pip install dvc`")
    return found


def stage_env() -> dict:
    """The environment for DVC: this Python's bin directory first, so that the stages' ``python`` is
    the one blindspot is installed in even when its environment is not activated."""
    bindir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}


def _git_toplevel(root: Path) -> Optional[Path]:
    top = gitrev.git(root, "rev-parse", "--show-toplevel")
    return None if top is None else Path(top.strip()).resolve()


def _set_dvc_config(root: Path) -> None:
    from dvc.config import Config

    config = Config(dvc_dir=str(root / ".dvc"))
    with config.edit("repo") as conf:
        for section, values in DVC_CONFIG.items():
            conf.setdefault(section, {}).update(values)


def _copy_conf(skeleton: Path, root: Path) -> None:
    """conf/ from the skeleton, its default model replaced by the template of the user's own.

    The bundled data's model files are left out (their files are not in the workspace), and an
    existing ``conf/model/own.yaml`` (the user's edits) is kept.
    """
    from blindspot.skeleton import skeleton_files

    for rel in skeleton_files(skeleton):
        if rel.parts[0] != "conf" or rel.parts[:2] == ("conf", "model"):
            continue
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(skeleton / rel, dest)
    config = root / "conf" / "config.yaml"
    text = config.read_text(encoding="utf-8")
    if text.count(DEFAULT_MODEL_LINE) != 1:
        raise RuntimeError(f"conf/config.yaml has no single {DEFAULT_MODEL_LINE.strip()!r} line to replace")
    config.write_text(text.replace(DEFAULT_MODEL_LINE, f"  - model: {OWN_MODEL}\n"), encoding="utf-8")
    own = root / "conf" / "model" / f"{OWN_MODEL}.yaml"
    if not own.exists():
        own.parent.mkdir(parents=True, exist_ok=True)
        own.write_text(own_model_yaml(), encoding="utf-8")


def _write_dvc_yaml(skeleton: Path, root: Path) -> None:
    import yaml
    from importlib.metadata import PackageNotFoundError, version

    try:
        ours = version("blindspot")
    except PackageNotFoundError:  # a source checkout that was never installed
        ours = "source"
    source = (skeleton / "dvc.yaml").read_text(encoding="utf-8")
    text = workspace_dvc_yaml(source, ours)
    if yaml.safe_load(text) != without_code_deps(yaml.safe_load(source)):
        raise RuntimeError("the workspace's dvc.yaml does not parse to the repository's stages without src/ deps")
    (root / "dvc.yaml").write_text(text, encoding="utf-8")


def init_workspace(root: Path, force: bool = False) -> list[str]:
    """Scaffold the audit pipeline in ``root``; what was done, one line each.

    Parameters
    ----------
    root : Path
        The user's repository (or a subdirectory of it), or a new or empty directory.
    force : bool
        Overwrite an existing ``dvc.yaml``, ``conf/`` files and ``params.yaml``.

    Returns
    -------
    list of str
        What was written or run, for the user.

    Raises
    ------
    BlindspotError
        A protected file exists and ``force`` is false (named), ``root`` is a file, or git or
        dvc failed (their words).
    """
    from blindspot.params_compose import compose_params
    from blindspot.skeleton import FILES, skeleton_files, skeleton_root

    # Long because it is the whole recipe, one short step after another in the order a user would
    # type them (git init, dvc init, config, files, ignore lines, params); each step is a few lines.
    if root.exists() and not root.is_dir():
        raise BlindspotError(f"{root} is a file, not a directory")
    existing = [name for name in PROTECTED if (root / name).exists()]
    if existing and not force:
        raise BlindspotError(f"{root / existing[0]} already exists; refusing to overwrite it "
                             f"(pass --force to replace blindspot's files, or choose another directory)")
    skeleton = skeleton_root()
    root.mkdir(parents=True, exist_ok=True)
    root = root.resolve()
    done = []
    top = _git_toplevel(root)
    if top is None:
        _run(["git", "init", "-q"], root, "git init")
        done.append("git init (a new repository)")
    if not (root / ".dvc").is_dir():
        subdir = ["--subdir"] if top is not None and top != root else []
        _run([dvc_command(), "init", "-q", *subdir], root, "dvc init", env=stage_env())
        done.append("dvc init" + (" --subdir (the git repository's root is " + str(top) + ")" if subdir else ""))
    _set_dvc_config(root)
    _write_dvc_yaml(skeleton, root)
    _copy_conf(skeleton, root)
    plots = [rel for rel in skeleton_files(skeleton) if rel.parts[:2] == (".dvc", "plots")]
    for rel in plots:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(skeleton / rel, root / rel)
    done.append(f"wrote dvc.yaml, conf/ (default model: conf/model/{OWN_MODEL}.yaml), .dvc/config (Hydra, plots), "
                f".dvc/plots/ ({len(plots)} files)")
    for name in (n for n in FILES if n != "dvc.yaml"):  # the ignore files: appended to, never replaced
        wanted = [line for line in (skeleton / name).read_text(encoding="utf-8").splitlines()
                  if line.strip() and not line.startswith("#")]
        if append_lines(root / name, wanted, "blindspot workspace"):
            done.append(f"appended to {name}")
    deps, outs = pipeline_paths(root / "dvc.yaml")
    ignored = [line for line in GITIGNORE if line.strip("/") not in outs]  # a stage's out is committed, not ignored
    added = append_lines(root / ".gitignore", ignored, "blindspot workspace: generated files that are not in git")
    if added:
        done.append(f"appended to .gitignore: {' '.join(added)}")
    raw = root / INPUT_DIR
    raw.mkdir(parents=True, exist_ok=True)
    if not (raw / "README.md").exists():
        (raw / "README.md").write_text(
            "Predictions files to audit go here, each added with `dvc add data/raw/<file>` (not git), "
            "or let `blindspot audit data/raw/<file> ...` add it.\n", encoding="utf-8")
    for dep in sorted(deps - outs - {"params.yaml"}):  # folders the stages read that no stage writes
        if not (root / dep).exists():
            (root / dep).mkdir(parents=True)
            if (skeleton / dep / "README.md").is_file():
                shutil.copyfile(skeleton / dep / "README.md", root / dep / "README.md")
    compose_params(root)
    done.append("composed conf/ into params.yaml; made data/raw/")
    return done


def commit_command(root: Path) -> str:
    """The command that commits what ``init`` wrote."""
    return f"git add {' '.join(workspace_files(root))} && git commit -m 'blindspot workspace'"


def next_steps(root: Path) -> str:
    """What to do after ``init``, as printed."""
    cd = "" if root.resolve() == Path.cwd().resolve() else f"cd {shlex.quote(str(root))}\n  "
    return (
        "Next:\n"
        f"  {cd}{commit_command(root)}\n"
        "  cp /path/to/predictions.csv data/raw/\n"
        "  blindspot audit data/raw/predictions.csv --text review --label gold --prediction pred --confidence score \\\n"
        "      --classes negative positive      # dvc add's the file, then runs `dvc exp run -S ...`\n"
        "  open reports/blind_spot_brief.html; then commit the audit:\n"
        "  git add dvc.lock params.yaml metrics plots reports data && git commit -m 'audit predictions'\n"
    )


def init(args: argparse.Namespace) -> int:
    root = Path(args.dir)
    for line in init_workspace(root, force=args.force):
        print(f"blindspot init: {line}")
    print(f"blindspot init: {root} is a blindspot workspace.")
    print(next_steps(root), end="")
    return 0


# --- audit -----------------------------------------------------------------------------------------

def hydra_value(value) -> str:
    """``value`` written in Hydra's override syntax, quoted only where it must be.

    A string that Hydra would read as something else (a number, ``true``, ``null``), or that
    holds a comma, a space, a quote or any character outside a plain path, is single-quoted,
    with backslashes before quotes, and before ``${`` so it is not an interpolation.

    Parameters
    ----------
    value : str, list of str, or None
        None is ``null``; a list is ``[a,b]``.

    Returns
    -------
    str
    """
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(hydra_value(v) for v in value) + "]"
    value = str(value)
    if _PLAIN.match(value) and value.lower() not in _HYDRA_WORDS:
        return value
    escaped = re.sub(r"(\\*)'", lambda m: m.group(1) * 2 + "\\'", value)  # backslashes before a quote doubled
    escaped = re.sub(r"(\\*)\$\{", lambda m: m.group(1) * 2 + "\\${", escaped)  # a literal ${, not interpolated
    escaped = re.sub(r"(\\+)$", lambda m: m.group(1) * 2, escaped)  # and before the closing quote
    return f"'{escaped}'"


def audit_settings(path: str, args: argparse.Namespace) -> dict:
    """The config keys an audit of ``path`` sets, from the command's options (config key -> value).

    Every key of the model is set, not only the given ones: ``dvc exp run`` composes ``conf/``
    afresh each time, so a key left out would fall back to ``conf/model/``'s value, which
    describes another file. ``ingest.classes`` is set only when ``--classes`` is given.
    ``--set`` overrides (raw Hydra syntax) replace a key of the same name here.
    """
    settings = {
        "model.path": path,
        "model.name": args.name or Path(path).stem,
        "model.format": args.format,
        "model.columns.id": args.id,
        "model.columns.text": args.text,
        "model.columns.label": args.label,
        "model.columns.prediction": args.prediction,
        "model.columns.confidence": args.confidence,
        "model.columns.probabilities": None,
        "model.probability_prefix": args.probabilities,
        "model.metadata": args.metadata,
    }
    if args.classes:
        settings["ingest.classes"] = list(args.classes)
    return settings


def audit_overrides(settings: Mapping[str, object], raw: Iterable[str] = ()) -> list[str]:
    """``key=value`` overrides in Hydra syntax; ``raw`` ones (already Hydra syntax) win over a same key.

    Parameters
    ----------
    settings : mapping of str to str, list or None
        From :func:`audit_settings`.
    raw : iterable of str
        ``KEY=VALUE`` as the user wrote them for ``--set``.

    Returns
    -------
    list of str
        In ``settings`` order, then the raw ones.
    """
    raw = list(raw)
    bad = next((r for r in raw if "=" not in r), None)
    if bad is not None:
        raise BlindspotError(f"--set {bad!r}: write KEY=VALUE, e.g. --set 'judge.offline.polarity=[negative,positive]'")
    taken = {r.split("=", 1)[0].lstrip("+~") for r in raw}
    return [f"{key}={hydra_value(value)}" for key, value in settings.items() if key not in taken] + raw


def input_path(root: Path, file: str) -> str:
    """``file`` (as typed, relative to the current directory) as the workspace path ``model.path`` takes.

    Raises
    ------
    BlindspotError
        The file does not exist, or lies outside the workspace or outside its ``data/raw/``
        (DVC would not see it change: :func:`blindspot.paths.workspace_input`'s rule).
    """
    from blindspot.compare_checks import BASELINE_DIR
    from blindspot.paths import workspace_input

    given = Path(file).absolute()
    hint = f"copy it there (`cp {shlex.quote(file)} {root / BASELINE_DIR}/`) and audit the copy"
    try:
        workspace_input(given, "FILE", root)
    except InputError as exc:
        raise BlindspotError(f"{file} is outside the workspace {root} ({exc.found}), so DVC would not see it change; "
                             f"inputs go under {BASELINE_DIR}/: {hint}") from None
    resolved = given.resolve()
    if not resolved.is_file():
        raise BlindspotError(f"{file}: {'is a directory, not a file' if resolved.is_dir() else 'no such file'}")
    if not resolved.is_relative_to(root / BASELINE_DIR):
        raise BlindspotError(f"{file} is outside {BASELINE_DIR}/, which the pipeline's stages depend on, so DVC would "
                             f"not re-run the audit when it changes: {hint}")
    return resolved.relative_to(root).as_posix()


def tracked_by(root: Path, path: str) -> Optional[str]:
    """``"git"``, ``"dvc"`` (its own ``.dvc`` file or a folder's above it) or None."""
    for candidate in (Path(path), *Path(path).parents):
        if candidate != Path(".") and (root / f"{candidate}.dvc").is_file():
            return "dvc"
    return "git" if gitrev.git(root, "ls-files", "--error-unmatch", "--", path) is not None else None


def _check_workspace(root: Path) -> None:
    if not (root / "dvc.yaml").is_file() or not (root / "conf" / "config.yaml").is_file():
        raise BlindspotError(f"{root} is not a blindspot workspace (no dvc.yaml and conf/config.yaml): run "
                             f"`blindspot init {shlex.quote(str(root))}` first, or pass --root")


def _check_commit(root: Path) -> None:
    if gitrev.commit_of(root, "HEAD") is None:
        raise BlindspotError(f"`dvc exp run` starts from a git commit and this repository has none yet: commit the "
                             f"workspace (`{commit_command(root)}`), then run this command again")


def audit(args: argparse.Namespace) -> int:
    root = Path(args.root).resolve()
    _check_workspace(root)
    if not args.confidence and not args.probabilities:
        raise BlindspotError("give --confidence COL (the predicted class's probability) or --probabilities PREFIX "
                             "(flat probability columns such as p_neg, p_pos); the calibration stage needs one")
    path = input_path(root, args.file)
    overrides = audit_overrides(audit_settings(path, args), args.set or ())
    command = ["dvc", "exp", "run", *(part for o in overrides for part in ("-S", o))]
    add = None if tracked_by(root, path) else ["dvc", "add", path]
    if args.dry_run:
        for cmd in filter(None, (add, command)):
            print(shlex.join(cmd))
        return 0
    dvc = dvc_command()
    if add is not None:  # first, so that the file is git-ignored before the commit _check_commit may ask for
        print(f"blindspot audit: {path} is tracked by neither git nor DVC; handing it to DVC: {shlex.join(add)}",
              flush=True)
        status = subprocess.run([dvc, *add[1:]], cwd=root, env=stage_env()).returncode
        if status != 0:
            return status
        # Staged (not committed), as DVC suggests: `dvc exp run` leaves untracked files out of the experiment.
        staged = [f"{path}.dvc", (Path(path).parent / ".gitignore").as_posix()]
        _run(["git", "add", "--", *staged], root, "git add")
        print(f"blindspot audit: {shlex.join(['git', 'add', *staged])}", flush=True)
    _check_commit(root)
    print(f"blindspot audit: {shlex.join(command)}", flush=True)
    return subprocess.run([dvc, *command[1:]], cwd=root, env=stage_env()).returncode


# --- the subcommands -------------------------------------------------------------------------------

def register(subparsers) -> None:
    """Add the ``init`` and ``audit`` subcommands to ``blindspot``'s subparsers."""
    i = subparsers.add_parser("init", help="scaffold the audit pipeline (DVC + Hydra) in a repository",
                              description="Write dvc.yaml, conf/, .dvc (dvc init), params.yaml, ignore lines and "
                                          "data/raw/ into DIR: a git repository of yours, or a new directory "
                                          "(git init).")
    i.add_argument("dir", metavar="DIR", help="the repository or new directory")
    i.add_argument("--force", action="store_true", help="overwrite an existing dvc.yaml, conf/ and params.yaml")
    i.set_defaults(func=init)
    a = subparsers.add_parser("audit", help="audit one predictions file: dvc add it, then dvc exp run -S ...",
                              description="Audit FILE (under data/raw/): `dvc add` it if neither git nor DVC tracks "
                                          "it, then print and run the `dvc exp run -S key=value ...` command that "
                                          "points the pipeline at it.")
    a.add_argument("file", metavar="FILE", help="the predictions file, under data/raw/ of the workspace")
    a.add_argument("--text", required=True, metavar="COL", help="the text column")
    a.add_argument("--label", required=True, metavar="COL", help="the true class column")
    a.add_argument("--prediction", required=True, metavar="COL", help="the predicted class column")
    a.add_argument("--confidence", metavar="COL", help="the predicted class's probability")
    a.add_argument("--probabilities", metavar="PREFIX", help="flat probability columns: p_ reads p_<class>")
    a.add_argument("--id", metavar="COL", help="a unique row id (default: rows are numbered)")
    a.add_argument("--metadata", nargs="+", metavar="COL", help="the columns to slice on (default: every other one)")
    a.add_argument("--classes", nargs="+", metavar="CLASS", help="the class names, in order (default: conf/'s)")
    a.add_argument("--name", help="the model's name in the brief (default: the file's name without extension)")
    a.add_argument("--format", default="auto", choices=FORMATS, help="the file's format (default: auto)")
    a.add_argument("-S", "--set", action="append", metavar="KEY=VALUE",
                   help="any other config override, in Hydra syntax, e.g. 'judge.offline.polarity=[negative,positive]'")
    a.add_argument("--root", default=".", help="the workspace (default: .)")
    a.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    a.set_defaults(func=audit)
