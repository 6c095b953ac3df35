"""Checks of ``dvc exp run -S`` and ``make params`` overrides, as one line each (a Hydra plugin module).

Why it exists: ``dvc exp run`` composes ``conf/`` with Hydra before any stage runs, and a
misspelt override (``-S modle.path=x``) fails inside Hydra. DVC reports any exception that
is not its own as "unexpected error ... Having any troubles? Hit us up", quoting Hydra's
hint "To append to your config use +modle.path=x", which would add the typo to
``params.yaml``. Neither DVC nor Hydra's compose API offers a hook between reading the
overrides and composing.

How: Hydra imports every module of the ``hydra_plugins`` namespace package on the plugins
path when it first composes; DVC puts ``hydra.plugins_path`` of ``.dvc/config``
(``conf/hydra_plugins``) there, and ``scripts/compose_params.py`` the same directory.
Importing this module wraps the config loader's ``load_configuration`` (for this
project's ``conf/`` only) so that

1. before composing, every override's key is checked against the dataclasses of
   :mod:`blindspot.config` (:func:`~blindspot.config.check_override_key`):
   ``override 'modle.path=x': unknown key 'modle.path'; did you mean 'model.path'?``;
2. any Hydra composition error (an unknown group option, bad override syntax) is one line;
3. the composed config is checked exactly as the stages will check ``params.yaml``:
   types (:func:`~blindspot.config.config_from_mapping`) and every cross-field check of
   :func:`blindspot.preflight.check` (the API key variable excepted), so nothing is
   written and no stage starts.

Errors are raised as DVC's own exception type, which DVC prints as ``ERROR: <message>``.
If Hydra's internals differ from what this expects, or blindspot is not importable, the
module does nothing and Hydra's own messages stand.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]  # conf/hydra_plugins/hydra_plugins/<this file>
CONF = ROOT / "conf"

try:
    from dvc.exceptions import DvcException  # DVC prints these as one "ERROR: ..." line
except ImportError:  # pragma: no cover - Hydra without DVC
    DvcException = None

try:
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from blindspot import preflight
    from blindspot.config import check_override_key, config_from_mapping
    from blindspot.errors import BlindspotError, ConfigError
except ImportError:  # pragma: no cover - leave Hydra as it is
    ConfigLoaderImpl = None
    ConfigError = Exception


class ParamsError(*(base for base in (DvcException, ConfigError) if base is not None)):
    """A config that would fail the stages, found while composing ``params.yaml``."""


def _one_line(exc: BaseException) -> str:
    """Hydra's message and its cause on one line (Hydra splits them over several)."""
    parts = []
    while exc is not None and len(parts) < 3:
        text = " ".join(str(exc).split()).split(" Config search path:")[0]  # the path list is noise here
        if text and text not in parts:
            parts.append(text)
        exc = exc.__cause__
    return ": ".join(parts)


def override_problem(overrides) -> str | None:
    """The first override whose key is not a config key, as a sentence (None: all known)."""
    try:
        parsed = OverridesParser.create().parse_overrides(overrides=list(overrides))
    except HydraException:
        return None  # a syntax error: Hydra's own message says where
    for override in parsed:
        key = override.key_or_group
        if override.package is not None or key.startswith("hydra") or "/" in key:
            continue  # a config group of Hydra itself, or a package override
        problem = check_override_key(key)
        if problem is not None:
            return f"override {override.input_line!r}: {problem}"
    return None


def _is_ours(loader) -> bool:
    """True when the loader composes this project's conf/ (not another Hydra config in the process)."""
    try:
        paths = [element.path for element in loader.config_search_path.get_path()]
    except AttributeError:
        return False
    # Resolved on both sides: DVC may pass the repository through a symlinked path.
    dirs = [str(p).removeprefix("file://") for p in paths]  # "/abs/conf" or "file:///abs/conf"
    return any("://" not in d and Path(d).resolve() == CONF for d in dirs)


def _check_composed(cfg, overrides) -> None:
    # Without the hydra node, which only resolves inside a Hydra run (as DVC's compose() drops it).
    data = OmegaConf.to_container(OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]), resolve=True)
    shown = " ".join(overrides)
    source = f"params.yaml composed from conf/{' with ' + shown if shown else ''}"
    config = config_from_mapping(data, source)
    with contextlib.chdir(ROOT):  # paths in the config are relative to the repository root
        preflight.check(config, environ=None, source=source)


def _wrap(original):
    def load_configuration(self, config_name, overrides, *args, **kwargs):
        if not _is_ours(self):
            return original(self, config_name, overrides, *args, **kwargs)
        problem = override_problem(overrides)
        if problem is not None:
            raise ParamsError(problem)
        try:
            cfg = original(self, config_name, overrides, *args, **kwargs)
        except (HydraException, OmegaConfBaseException) as exc:
            raise ParamsError(f"composing conf/ with {' '.join(overrides) or 'no overrides'}: {_one_line(exc)}") from None
        try:
            _check_composed(cfg, list(overrides))
        except BlindspotError as exc:
            raise ParamsError(" ".join(str(exc).split())) from None
        return cfg

    load_configuration.__wrapped__ = original
    load_configuration.blindspot_checked = True
    return load_configuration


if ConfigLoaderImpl is not None and hasattr(ConfigLoaderImpl, "load_configuration") \
        and not getattr(ConfigLoaderImpl.load_configuration, "blindspot_checked", False):
    ConfigLoaderImpl.load_configuration = _wrap(ConfigLoaderImpl.load_configuration)
