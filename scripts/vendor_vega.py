"""Vendor Vega, Vega-Lite and vega-embed into an offline HTML template for `dvc plots show` / `dvc plots diff`.

DVC's own page loads these three scripts from a CDN, so offline its data-series plots are blank. This
script fetches the npm packages at the versions DVC's renderer targets (`npm pack`, which checks each
tarball's integrity), and writes

- ``.dvc/plots/offline.html``: DVC's page with the three minified scripts inline and the
  ``{plot_divs}`` placeholder DVC fills (``.dvc/config`` points ``plots.html_template`` at it);
- ``.dvc/plots/licenses/<package>.LICENSE``: each package's license (BSD-3-Clause), which travels
  with the scripts.

Run it only to change the versions (``make vendor-vega``); the outputs are committed.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / ".dvc" / "plots"
# (package, version, minified build inside the tarball): the versions dvc-render's page names.
PACKAGES = (("vega", "5.20.2", "package/build/vega.min.js"),
            ("vega-lite", "5.2.0", "package/build/vega-lite.min.js"),
            ("vega-embed", "6.18.2", "package/build/vega-embed.min.js"))
PAGE = """<!DOCTYPE html>
<html>
<head>
{{refresh_tag}}
<meta charset="utf-8">
<title>blindspot: DVC plots</title>
<!-- {credits}; licenses in .dvc/plots/licenses/. Inlined by scripts/vendor_vega.py so the page needs no network. -->
{scripts}
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; }}
table {{ border-spacing: 15px; }}
</style>
</head>
<body>
{{plot_divs}}
</body>
</html>
"""


def _extract(tarball: Path, member: str) -> str:
    with tarfile.open(tarball, "r:gz") as tar:
        return tar.extractfile(member).read().decode("utf-8")


def main() -> int:
    scripts, credits = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name, version, build in PACKAGES:
            subprocess.run(["npm", "pack", "--silent", f"{name}@{version}"], cwd=tmp, check=True,
                           stdout=subprocess.DEVNULL)
            tarball = Path(tmp) / f"{name}-{version}.tgz"
            code = _extract(tarball, build)
            # The page is an HTML document: a script that closed its own tag, or held one of DVC's
            # placeholders, would break it. Neither happens in these builds; refuse rather than patch.
            for bad in ("</script", "{plot_divs}", "{scripts}", "{refresh_tag}"):
                if bad in code:
                    raise SystemExit(f"{name}@{version}: the build contains {bad!r}; cannot inline it")
            scripts.append(f"<script>/* {name} {version} */\n{code}\n</script>")
            credits.append(f"{name} {version}")
            (OUT / "licenses").mkdir(parents=True, exist_ok=True)
            (OUT / "licenses" / f"{name}.LICENSE").write_text(_extract(tarball, "package/LICENSE"), encoding="utf-8")
    page = PAGE.format(credits=", ".join(credits), scripts="\n".join(scripts))
    (OUT / "offline.html").write_text(page, encoding="utf-8")
    print(f"wrote {OUT / 'offline.html'} ({len(page) // 1024} KiB: {', '.join(credits)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
