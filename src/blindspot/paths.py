"""Where each stage reads and writes, relative to the repository root.

``dvc.yaml`` lists the same paths as deps and outs; ``tests/test_pipeline.py`` checks
that the two agree, so a renamed file cannot silently fall out of DVC's tracking.
"""

from pathlib import Path

PARAMS = Path("params.yaml")

PREDICTIONS = Path("data/interim/predictions.parquet")
REJECTED = Path("data/interim/rejected.jsonl")
INGEST_METRICS = Path("metrics/ingest.json")

JUDGMENTS = Path("data/interim/judgments.jsonl")
JUDGE_CACHE = Path("data/judge_cache/cache.jsonl")
JUDGE_METRICS = Path("metrics/judge.json")

PROFILE_METRICS = Path("metrics/profile.json")
PROFILE_PLOTS = Path("plots/profile")

SLICES = Path("data/interim/slices.parquet")
SLICE_METRICS = Path("metrics/slices.json")
FINDINGS = Path("reports/findings.json")
SLICE_PLOTS = Path("plots/slices")

CALIBRATION_METRICS = Path("metrics/calibration.json")
CONFIDENT_ERRORS = Path("data/interim/confident_errors.jsonl")
CALIBRATION_PLOTS = Path("plots/calibration")

BRIEF_MD = Path("reports/blind_spot_brief.md")
BRIEF_HTML = Path("reports/blind_spot_brief.html")
UNDERCONFIDENT_CORRECT = Path("data/interim/underconfident_correct.jsonl")
RELIABILITY_DATA = CALIBRATION_PLOTS / "reliability_equal_width.json"
RELIABILITY_DATA_EQUAL_MASS = CALIBRATION_PLOTS / "reliability_equal_mass.json"
COMPARE_METRICS = Path("metrics/compare.json")
