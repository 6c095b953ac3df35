"""Compose ``conf/`` into ``params.yaml`` exactly as ``dvc exp run`` does.

    python scripts/compose_params.py                 # default composition
    python scripts/compose_params.py model=v2        # with Hydra overrides

The composition is :func:`blindspot.params_compose.compose_params` (``blindspot init``
uses it too): DVC's own Hydra composition with the same plugins path as ``.dvc/config``,
so an override is checked the same way and a config the stages would refuse is refused
here, in one line, before ``params.yaml`` is written. ``tests/test_config.py`` fails when
the committed file has drifted.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    from blindspot.errors import BlindspotError
    from blindspot.params_compose import compose_params

    try:
        out = compose_params(ROOT, argv)
    except BlindspotError as exc:
        print(f"compose_params: error: {exc}", file=sys.stderr)
        return 2
    print(f"compose_params: conf/ -> {out.relative_to(ROOT)}" + (f" with {' '.join(argv)}" if argv else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
