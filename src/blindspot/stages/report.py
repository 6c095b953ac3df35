"""Stage report: metrics, findings, plots and interim tables -> the Blind Spot Brief (Markdown + HTML)."""

import json

from blindspot import paths
from blindspot.config import load_params
from blindspot.errors import BlindspotError
from blindspot.report import check_complete, git_revision, load_inputs, provenance, render_brief
from blindspot.report.reasoning import own_entries
from blindspot.stages._runner import run


def main(log) -> str:
    cfg = load_params(paths.PARAMS)
    inputs = load_inputs(".", confident_threshold=cfg.report.confident_threshold)
    for problem in inputs.problems:
        log.warning("%s", problem)
    for missing in inputs.missing:
        log.warning("%s is absent: the brief says so where it would be used", missing)
    prov = provenance(".", model_path=cfg.model.path, baseline_path=cfg.compare.baseline.path)
    md, html = render_brief(inputs, cfg.report, alpha=cfg.stats.fdr_alpha, prov=prov)
    # Complete or failed: a brief missing a section or a significant finding is not written.
    findings = json.loads(paths.FINDINGS.read_text(encoding="utf-8")) if inputs.slices else []
    problems = check_complete(md, html, findings)
    if problems:
        raise BlindspotError("the brief would be incomplete, so it was not written:\n  " + "\n  ".join(problems))
    paths.BRIEF_MD.parent.mkdir(parents=True, exist_ok=True)
    paths.BRIEF_MD.write_text(md, encoding="utf-8")
    paths.BRIEF_HTML.write_text(html, encoding="utf-8")
    spots = len(own_entries(inputs))  # counted where the brief counts them
    # The revision goes to the log, not into the brief (see blindspot.report.footer).
    return (f"brief for model {inputs.profile.model} at git {git_revision('.')}: {spots} blind spot(s), "
            f"{len(inputs.figures)} figures, {len(inputs.missing)} absent input(s), complete "
            f"-> {paths.BRIEF_MD}, {paths.BRIEF_HTML} ({len(html) // 1024} KiB)")


if __name__ == "__main__":
    run("report", main)
