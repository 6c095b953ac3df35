"""The Blind Spot Brief: load the stage outputs, build a document, render Markdown and HTML.

- :mod:`~blindspot.report.load` reads every metrics file, findings, plots and interim
  table the brief uses (the only module that knows their keys);
- :mod:`~blindspot.report.reasoning` concludes from those views (weak classes, one entry per slice, the
  status line); :mod:`~blindspot.report.fmt` formats every number;
- :mod:`~blindspot.report.sections` builds each section from those views, one module per section;
- :mod:`~blindspot.report.document` is the block model both renderers share;
- :mod:`~blindspot.report.markdown` and :mod:`~blindspot.report.html` render it,
  each escaping text once;
- :mod:`~blindspot.report.footer` is the reproducibility footer;
- :mod:`~blindspot.report.complete` checks a rendered brief is whole
  (:func:`check_complete`: every section, every significant finding).
"""

from blindspot.report.complete import SECTION_TITLES, check_complete
from blindspot.report.footer import footer, git_revision, provenance
from blindspot.report.load import Inputs, load_inputs
from blindspot.report.sections import build_brief

__all__ = ["Inputs", "SECTION_TITLES", "build_brief", "check_complete", "footer", "git_revision", "load_inputs",
           "provenance", "render_brief"]


def render_brief(inputs: Inputs, cfg, *, alpha: float, prov: dict, root=".") -> tuple[str, str]:
    """The brief as (Markdown, HTML) text."""
    from blindspot import paths
    from blindspot.report import html, markdown

    doc = build_brief(inputs, cfg, alpha=alpha, footer_blocks=footer(prov), source=prov.get("input_path"))
    return markdown.render(doc, base=paths.BRIEF_MD.parent.as_posix()), html.render(doc, root=root)
