"""Where each stage reads and writes, relative to the repository root.

``dvc.yaml`` lists the same paths as deps and outs; ``tests/test_pipeline.py`` checks
that the two agree, so a renamed file cannot silently fall out of DVC's tracking.
"""

from pathlib import Path

PARAMS = Path("params.yaml")

PREDICTIONS = Path("data/interim/predictions.parquet")
REJECTED = Path("data/interim/rejected.jsonl")
INGEST_METRICS = Path("metrics/ingest.json")
