"""``python -m blindspot.synth``: see :func:`blindspot.synth.cli.main`."""

from blindspot.synth.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
