"""One contract for every Display: ``from_*`` computes, ``plot`` draws and returns self; no pyplot on import;
no file written by the plotting package."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np

from blindspot.calibration.binning import reliability_bins
from blindspot.plots.confusion import ConfusionDisplay
from blindspot.plots.reliability import ConfidenceHistogramDisplay, ReliabilityDisplay
from blindspot.plots.slices import GapForestDisplay

from _paths import ROOT


def test_importing_the_plots_package_does_not_import_pyplot():
    code = ("import sys; import blindspot.plots, blindspot.plots.confusion, blindspot.plots.reliability, "
            "blindspot.plots.slices, blindspot.io.figures; print('matplotlib.pyplot' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def _displays():
    correct = np.arange(60) % 3 > 0
    conf = np.linspace(0.4, 0.99, 60)
    finding = {"key": "a", "source": "metadata", "metric": "error_rate", "higher_is_better": False,
               "gap": {"value": 0.1, "ci_low": 0.02, "ci_high": 0.2}, "significant": True, "rank": 1}
    return [ConfusionDisplay.from_predictions([0, 1, 1], [0, 1, 0], ["a", "b"]),
            ReliabilityDisplay.from_predictions(correct, conf),
            ConfidenceHistogramDisplay.from_predictions(correct, conf),
            GapForestDisplay.from_findings([finding])]


def test_from_computes_without_drawing_and_plot_returns_self():
    import matplotlib.pyplot as plt

    plt.close("all")
    displays = _displays()
    assert plt.get_fignums() == [], "a from_* constructor drew a figure"
    assert all(getattr(d, "figure_", None) is None for d in displays)
    for d in displays:
        assert d.plot() is d
        assert d.figure_ is not None
    assert len(plt.get_fignums()) == len(displays)


def test_plot_draws_on_the_axes_given():
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2)
    d = ReliabilityDisplay(reliability_bins(np.arange(20) % 2 == 0, np.linspace(0.5, 1, 20)))
    assert d.plot(ax=a).ax_ is a and d.figure_ is fig
    c = ConfusionDisplay([[3, 1], [0, 2]], ["x", "y"]).plot(ax=(a, b))
    assert c.figure_ is fig and list(c.ax_) == [a, b]


def test_the_plotting_package_writes_no_file():
    # Figures reach disk only through blindspot.io.figures, called by the stages.
    writes = re.compile(r"savefig|\.unlink\(|write_text|write_bytes|write_json|open\(|mkdir")
    for path in sorted((ROOT / "src/blindspot/plots").glob("*.py")):
        hits = [line for line in path.read_text(encoding="utf-8").splitlines() if writes.search(line)]
        assert not hits, f"{path.name}: {hits}"
