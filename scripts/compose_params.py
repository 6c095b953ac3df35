"""Compose ``conf/`` into ``params.yaml`` exactly as ``dvc exp run`` does.

    python scripts/compose_params.py                 # default composition
    python scripts/compose_params.py model=v2        # with Hydra overrides

Uses DVC's own Hydra composition, so the file is byte-for-byte what ``dvc exp run``
would write. ``tests/test_config.py`` fails when the committed file has drifted.
"""

import sys
from pathlib import Path

from dvc.utils.hydra import compose_and_dump

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    out = ROOT / "params.yaml"
    compose_and_dump(out, str(ROOT / "conf"), None, "config", str(ROOT / "conf" / "hydra_plugins"), sys.argv[1:])
    print(f"compose_params: conf/ -> {out.relative_to(ROOT)}" + (f" with {' '.join(sys.argv[1:])}" if sys.argv[1:] else ""))
