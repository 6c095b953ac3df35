"""The reference page of every results file, rendered from the declarations: ``docs/METRICS.md``.

Regenerate it after a declaration changes (a test compares it with the declarations)::

    python -m blindspot.results.reference
"""

from __future__ import annotations

import sys
from pathlib import Path

from blindspot.results.registry import FILES

DOC = Path("docs/METRICS.md")
KIND_WORDS = {"estimate": "estimate `{value, ci_low, ci_high, method}`", "number": "number", "count": "count",
              "text": "text", "flag": "true/false", "object": "object", "list": "list",
              "map:number": "map of numbers", "map:count": "map of counts", "map:text": "map of texts",
              "value": "data value (text, number, true/false or a range)"}


def render() -> str:
    """The whole page as Markdown: one section per file, one table row per key."""
    out = ["# Results reference", "",
           "Every key the stages write, generated from `src/blindspot/results/` (do not edit by hand; run "
           "`python -m blindspot.results.reference`). `<name>` stands for a segment that varies (a class, a slice "
           "key, a confidence band), `[]` for the items of a list. An estimate is one object "
           "`{value, ci_low, ci_high, method}` (and `reason` when its value is null); a null anywhere means "
           "\"not measurable\", with a `reason` beside it where one is known.", ""]
    for f in FILES:
        out += [f"## `{f.path}`: {f.title}", "", f.about, "", "| key | kind | direction | meaning |",
                "| --- | --- | --- | --- |"]
        out += [f"| `{k.path}` | {KIND_WORDS[k.kind]} | {k.direction or ''} | {k.meaning} |" for k in f.keys]
        out.append("")
    return "\n".join(out)


def main(argv=None) -> int:
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC} ({sum(len(f.keys) for f in FILES)} keys in {len(FILES)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
