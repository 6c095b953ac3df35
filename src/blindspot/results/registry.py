"""Every results file's declaration, in pipeline order (the reference page and the tests walk it)."""

from __future__ import annotations

from blindspot.results.calibration import CALIBRATION
from blindspot.results.compare import COMPARE
from blindspot.results.headline import HEADLINE
from blindspot.results.ingest import INGEST
from blindspot.results.judge import JUDGE
from blindspot.results.lifecycle import GATE, LIFECYCLE
from blindspot.results.profile import PROFILE
from blindspot.results.slices import FINDINGS, SLICES, TEXT_SLICES

FILES = (INGEST, PROFILE, SLICES, FINDINGS, TEXT_SLICES, CALIBRATION, JUDGE, COMPARE, LIFECYCLE, GATE, HEADLINE)
