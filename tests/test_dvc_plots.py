"""`dvc plots show` works offline: the vendored scripts, the page template and our plot templates.

The page (``.dvc/plots/offline.html``, made by ``scripts/vendor_vega.py``) holds Vega, Vega-Lite
and vega-embed inline, so a plot renders with no network; the confusion templates print every
cell and the reliability template draws the diagonal. The page is built in a scratch DVC
project from small data (never from the workspace's own audit) and, when Chromium is
installed, opened headless with every host unresolvable.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLOTS = ROOT / ".dvc" / "plots"


def test_the_page_template_is_self_contained_and_licensed():
    page = (PLOTS / "offline.html").read_text(encoding="utf-8")
    assert "{plot_divs}" in page and "{scripts}" not in page  # DVC's CDN scripts have nowhere to go
    assert not re.search(r"<script[^>]+src=", page)
    for name in ("vega", "vega-lite", "vega-embed"):
        assert f"/* {name} " in page
        assert "Redistribution and use" in (PLOTS / "licenses" / f"{name}.LICENSE").read_text(encoding="utf-8")
    assert "html_template = plots/offline.html" in (ROOT / ".dvc" / "config").read_text(encoding="utf-8")


def test_every_dvc_yaml_template_exists():
    import yaml

    plots = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["plots"]
    for entry in plots:
        for props in (entry.values() if isinstance(entry, dict) else []):
            name = props.get("template")
            if name and name not in ("simple", "linear", "scatter", "smooth", "bar_horizontal"):
                json.loads((PLOTS / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def plots_page(tmp_path) -> Path:
    """``dvc plots show`` in a scratch DVC project with our templates and three small plot files."""
    proj = tmp_path / "proj"
    (proj / ".dvc").mkdir(parents=True)
    shutil.copytree(PLOTS, proj / ".dvc" / "plots")
    shutil.copy(ROOT / ".dvc" / "config", proj / ".dvc" / "config")
    cfg = (proj / ".dvc" / "config").read_text(encoding="utf-8")
    (proj / ".dvc" / "config").write_text(re.sub(r"\[hydra\][^\[]*", "", cfg), encoding="utf-8")
    (proj / "confusion.csv").write_text("actual,predicted,count\na,a,7\na,b,3\nb,a,0\nb,b,5\n", encoding="utf-8")
    (proj / "reliability.json").write_text(json.dumps(
        [{"mean_confidence": 0.6, "accuracy": 0.5}, {"mean_confidence": 0.9, "accuracy": 0.95}]), encoding="utf-8")
    (proj / "dvc.yaml").write_text(
        "plots:\n"
        "  - counts:\n      template: confusion_counts\n      x: predicted\n      y:\n        confusion.csv: actual\n"
        "  - shares:\n      template: confusion_share\n      x: predicted\n      y:\n        confusion.csv: actual\n"
        "  - reliability:\n      template: reliability\n      x: mean_confidence\n      y:\n"
        "        reliability.json: accuracy\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=proj, check=True)
    dvc = Path(sys.executable).with_name("dvc")
    out = subprocess.run([str(dvc), "plots", "show", "-o", "out"], cwd=proj, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return proj / "out" / "index.html"


def test_dvc_plots_show_writes_a_page_with_no_remote_script(plots_page):
    html = plots_page.read_text(encoding="utf-8")
    assert "vegaEmbed(" in html and html.count("<div id") >= 3
    assert not re.search(r"<script[^>]+src=", html) and "cdn.jsdelivr" not in html


def test_the_page_renders_offline_in_chromium(plots_page, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                          "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={tmp_path / 'profile'}",
                          "--virtual-time-budget=5000", "--dump-dom", plots_page.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert dom.count("<canvas") == 3, "each of the three plots is drawn"
