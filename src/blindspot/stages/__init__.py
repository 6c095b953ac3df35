"""Thin DVC stage entry points: ``python -m blindspot.stages.<name>``."""
