"""Stage gate: the release gate's rules of conf/gate/ -> metrics/gate.json, reports/gate.md, reports/gate.junit.xml.

The stage records the result and exits 0 whatever it is, so the rest of the audit (the
headline, the brief) still runs; ``blindspot gate`` is what fails a build (exit 1).
"""

import json

from blindspot import paths
from blindspot.config import load_params
from blindspot.gate import evaluate, junit_xml, markdown, to_json
from blindspot.io.writers import write_metrics
from blindspot.stages._runner import run


def main(log) -> str:
    cfg = load_params(paths.PARAMS)
    compare = json.loads(paths.COMPARE_METRICS.read_text(encoding="utf-8")) if paths.COMPARE_METRICS.is_file() else None
    result = evaluate(cfg.gate, lifecycle=json.loads(paths.LIFECYCLE.read_text(encoding="utf-8")),
                      profile=json.loads(paths.PROFILE_METRICS.read_text(encoding="utf-8")), compare=compare)
    write_metrics(paths.GATE_METRICS, to_json(result))
    paths.GATE_MD.write_text(markdown(result), encoding="utf-8")
    paths.GATE_JUNIT.write_text(junit_xml(result), encoding="utf-8")
    failed = [c.rule for c in result.checks if not c.passed]
    verdict = f"FAILED ({', '.join(failed)})" if failed else "passed"
    return (f"{verdict}: {len(result.checks)} rules against {result.baseline} -> {paths.GATE_METRICS}, "
            f"{paths.GATE_MD}, {paths.GATE_JUNIT}")


if __name__ == "__main__":
    run("gate", main)
