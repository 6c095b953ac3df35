"""Make this folder's helpers (``_slice_synth``) importable from its test modules."""

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
