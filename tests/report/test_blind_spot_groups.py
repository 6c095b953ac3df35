"""The ranked section separates blind spots of their own from slices worse only through their class mix."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from blindspot import synth
from blindspot.io.writers import dumps_metrics
from blindspot.report import markdown
from blindspot.report.document import Document
from blindspot.report.load import Inputs, Src, parse_slices
from blindspot.report.sections.slices import blind_spots
from blindspot.slices import audit_slices

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "slices"))
from _slice_synth import canonical  # noqa: E402
from test_sections import _profile  # noqa: E402

SETTINGS = dict(min_support=30, min_class_support=10, max_depth=2,
                text_detectors=["negated_term", "sarcasm_cue", "question"], jargon_high_density=0.05,
                caps_high_share=0.05, length_bands={}, max_levels=None, n_quantiles=4, fdr_alpha=0.05, ci_level=0.95)
OWN, MIX = "### Worse within its classes", "### Worse because it holds more of the weak classes"


def _section(plant) -> str:
    data = synth.generate(2000, seed=4, mode="planted", planted=[plant], class_error_gaps=(0.35, 0.0, 0.0))
    audit = audit_slices(canonical(data), list(synth.DEFAULT_CLASSES), **SETTINGS)
    metrics = json.loads(dumps_metrics(audit.metrics))
    findings = json.loads(json.dumps(audit.findings, default=float))
    sl = parse_slices(Src("metrics/slices.json", metrics), findings)
    return markdown.render(Document("t").add(*blind_spots(Inputs(profile=_profile(), slices=sl), max_rows=10)))


def _parts(text: str) -> tuple[str, str]:
    own = text[text.index(OWN):text.index(MIX)]
    mix = text[text.index(MIX):]
    return own, mix[:mix.index("###", 3)] if "###" in mix[3:] else mix


def test_class_mix_slice_is_listed_as_the_class_weakness_restated():
    plant = synth.PlantedSlice({"specialty": "psychiatry"}, error_gap=0.0, share=0.1, class_weights=(8, 1, 1))
    own, mix = _parts(_section(plant))
    assert "specialty__psychiatry" in mix and "specialty__psychiatry" not in own
    assert "None: no slice is worse than the rest once its mix of true classes is accounted for." in own


def test_within_class_slice_is_ranked_first_among_its_own():
    plant = synth.PlantedSlice({"specialty": "dermatology"}, error_gap=0.2, share=0.1)
    own, mix = _parts(_section(plant))
    assert "| 1 | specialty = dermatology<br>`specialty__dermatology`" in own
    assert "specialty__dermatology" not in mix
