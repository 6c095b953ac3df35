"""Stage lifecycle: each blind spot against the previous audited version -> reports/lifecycle.json.

The previous version is the one ``blindspot baseline`` recorded in ``baseline/``
(:mod:`blindspot.baseline`); the stage reads that record, never git. Nothing is tracked
(every blind spot "open") when no previous audit is recorded, or when
``compare.baseline.path`` names another file than the recorded version's predictions: the
paired tests and the lifecycle must be about one and the same previous version.
"""

import json
from pathlib import Path

from blindspot import baseline as recorded, paths
from blindspot.config import load_params
from blindspot.io.writers import write_metrics
from blindspot.lifecycle import TRACKED, track
from blindspot.stages._runner import run

NO_RECORD = "no previous audit is recorded (`blindspot baseline` records the audit committed at HEAD)"


def _read(path: Path):
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def main(log) -> str:
    cfg = load_params(paths.PARAMS)
    findings = json.loads(paths.FINDINGS.read_text(encoding="utf-8"))
    compare, rec = _read(paths.COMPARE_METRICS), recorded.load()
    common = dict(current_name=cfg.model.name, compare=compare)
    if rec is None:
        doc = track(findings, reason=NO_RECORD, **common)
    else:
        previous = {k: getattr(rec, k) for k in ("name", "rev", "commit", "committed", "subject")}
        if recorded.same_version(rec, cfg.compare.baseline.path):
            doc = track(findings, previous=previous, previous_findings=recorded.load_copy(Path("."), paths.FINDINGS),
                        previous_doc=recorded.load_copy(Path("."), paths.LIFECYCLE), **common)
        else:
            doc = track(findings, previous=previous, reason=(
                f"compare.baseline.path ({cfg.compare.baseline.path}) is not the predictions of the recorded previous "
                f"audit ({rec.path}), so blind spots are not tracked against either"), **common)
    write_metrics(paths.LIFECYCLE, doc)
    n = doc["counts"]
    if doc["status"] != TRACKED:
        return f"{n['open']} blind spots (slice and metric, or weak class), not tracked: {doc['reason']} -> {paths.LIFECYCLE}"
    return (f"{n['open']} blind spots (slice and metric, or weak class) against {doc['previous']['name']}: {n['new']} new, {n['reopened']} reopened, "
            f"{n['persisting']} persisting ({n['persisting_better']} better, {n['persisting_worse']} worse), "
            f"{n['closed']} closed -> {paths.LIFECYCLE}")


if __name__ == "__main__":
    run("lifecycle", main)
