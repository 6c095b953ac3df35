"""Paths every test module may import (``tests/`` is on pytest's pythonpath)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
