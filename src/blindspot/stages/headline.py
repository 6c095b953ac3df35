"""Stage headline: the numbers compared across versions, copied from the results files -> metrics/headline.json.

The only file ``dvc.yaml`` declares as a DVC metric, so ``dvc metrics diff`` and ``dvc exp
show`` list a screenful of keys (:mod:`blindspot.headline`) instead of every slice and
test; the detailed files stay committed outputs. A results file that is absent (a stage
run by hand out of order) leaves its section out.
"""

import json
from pathlib import Path

from blindspot import paths
from blindspot.config import load_params
from blindspot.headline import headline, n_keys
from blindspot.io.writers import write_metrics
from blindspot.results.headline import HEADLINE
from blindspot.stages._runner import run

HEADLINE_METRICS = Path(HEADLINE.path)


def _read(path: Path, log):
    if not path.is_file():
        log.warning("%s is absent: its headline numbers are left out", path)
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def main(log) -> str:
    cfg = load_params(paths.PARAMS)
    profile = json.loads(paths.PROFILE_METRICS.read_text(encoding="utf-8"))
    doc = headline(profile, slices=_read(paths.SLICE_METRICS, log), calibration=_read(paths.CALIBRATION_METRICS, log),
                   compare=_read(paths.COMPARE_METRICS, log), lifecycle=_read(paths.LIFECYCLE, log),
                   gate=_read(paths.GATE_METRICS, log), confident_threshold=cfg.report.confident_threshold)
    write_metrics(HEADLINE_METRICS, doc)
    return (f"{n_keys(doc) + 1} keys (accuracy {doc['accuracy']['value']:.3f}, "
            f"comparison {doc.get('comparison', {}).get('status', 'absent')}, gate "
            f"{ {1: 'passed', 0: 'failed'}.get(doc.get('gate', {}).get('passed'), 'absent')}) -> {HEADLINE_METRICS}")


if __name__ == "__main__":
    run("headline", main)
