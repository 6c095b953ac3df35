"""Compose ``conf/`` into ``params.yaml`` exactly as ``dvc exp run`` does.

    python scripts/compose_params.py                 # default composition
    python scripts/compose_params.py model=v2        # with Hydra overrides

Uses DVC's own Hydra composition with the same plugins path (``hydra.plugins_path`` in
``.dvc/config``), so the file is byte-for-byte what ``dvc exp run`` would write and an
override is checked the same way: a misspelt key gets "did you mean", and a config the
stages would refuse is refused here, in one line, before ``params.yaml`` is written
(``conf/hydra_plugins/hydra_plugins/blindspot_params.py``). ``tests/test_config.py``
fails when the committed file has drifted.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ROOT / "conf" / "hydra_plugins"  # .dvc/config: hydra.plugins_path


def main(argv: list[str]) -> int:
    from dvc.utils.hydra import compose_and_dump
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from blindspot.errors import BlindspotError

    out = ROOT / "params.yaml"
    try:
        compose_and_dump(out, str(ROOT / "conf"), None, "config", str(PLUGINS), argv)
    except BlindspotError as exc:
        print(f"compose_params: error: {exc}", file=sys.stderr)
        return 2
    except (HydraException, OmegaConfBaseException) as exc:  # the plugin did not load: Hydra's own words
        print(f"compose_params: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    print(f"compose_params: conf/ -> {out.relative_to(ROOT)}" + (f" with {' '.join(argv)}" if argv else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
