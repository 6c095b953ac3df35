"""Compose a workspace's ``conf/`` into its ``params.yaml`` exactly as ``dvc exp run`` does.

Used by ``scripts/compose_params.py`` (``make params``) and by ``blindspot init``, which
writes a new workspace's first ``params.yaml``. Both go through DVC's own Hydra
composition with the workspace's plugins path (``hydra.plugins_path`` in ``.dvc/config``),
so the file is byte-for-byte what ``dvc exp run`` would write, and an override is checked
the same way (``conf/hydra_plugins/hydra_plugins/blindspot_params.py``): a misspelt key
gets "did you mean", and a config the stages would refuse is refused in one line before
``params.yaml`` is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from blindspot.errors import ConfigError

CONF = Path("conf")
PLUGINS = CONF / "hydra_plugins"  # .dvc/config: hydra.plugins_path
CONFIG_NAME = "config"  # .dvc/config: hydra.config_name


def compose_params(root: str | Path, overrides: Sequence[str] = ()) -> Path:
    """Write ``root/params.yaml`` composed from ``root/conf`` with Hydra ``overrides``.

    Parameters
    ----------
    root : str or Path
        The workspace: the directory holding ``conf/`` and ``params.yaml``.
    overrides : sequence of str
        Hydra overrides, as given to ``dvc exp run -S`` (``model=v2``, ``model.path=...``).

    Returns
    -------
    Path
        The ``params.yaml`` written.

    Raises
    ------
    ConfigError
        An override or the composed config is refused (the plugin's one-line message), or
        Hydra could not compose at all (its own words, on one line). ``params.yaml`` is
        then left as it was.
    """
    from dvc.utils.hydra import compose_and_dump
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    root = Path(root).resolve()  # Hydra wants an absolute config directory
    out = root / "params.yaml"
    try:
        compose_and_dump(out, str(root / CONF), None, CONFIG_NAME, str(root / PLUGINS), list(overrides))
    except ConfigError:
        raise  # the plugin's checks: already one line
    except (HydraException, OmegaConfBaseException) as exc:  # the plugin did not load: Hydra's own words
        raise ConfigError(" ".join(str(exc).split())) from None
    return out
