"""Every results file's declaration, in pipeline order (the reference page and the tests walk it)."""

from __future__ import annotations

from blindspot.results.profile import PROFILE

FILES = (PROFILE,)
