"""The results schema: every key the stages write, declared once and shared by writers and readers.

- :mod:`~blindspot.results.estimate`: :class:`Estimate`, the one encoding of a number with its
  interval and method, and :class:`Unmeasured`, a missing value that says why;
- :mod:`~blindspot.results.keys`: :class:`Key` and :class:`ResultsFile` declarations, and
  :func:`undeclared`, which checks a file against them;
- one module per results file (:mod:`~blindspot.results.profile`, ...), each declaring its keys;
- :mod:`~blindspot.results.reference`: the reference page ``docs/METRICS.md``, rendered from them.
"""

from blindspot.results.estimate import GENERIC_REASON, Estimate, Unmeasured, measured
from blindspot.results.keys import HIGHER, LOWER, NEITHER, Key, ResultsFile, undeclared

__all__ = ["Estimate", "GENERIC_REASON", "HIGHER", "Key", "LOWER", "NEITHER", "ResultsFile", "Unmeasured", "measured",
           "undeclared"]
