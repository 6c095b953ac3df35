"""The brief's sections, built from the loaded metrics (:mod:`blindspot.report.load`).

Rules every function here follows:

- every number is a value read from a metrics file, formatted, never computed anew
  (the only arithmetic is presentation: a share as a percentage, ``1 - recall`` as the
  share of a class that is missed, an accuracy difference in points);
- a sentence about a finding appears only when the finding is in the data;
- all text is handed to the document model as text: the renderers escape it.
"""

from __future__ import annotations

from typing import Optional, Sequence

from blindspot import paths
from blindspot.report.document import Code, Document, run
from blindspot.report.fmt import cnt
from blindspot.report.load import Inputs
from blindspot.report.sections.classes import accuracy_lied, repeated_texts
from blindspot.report.sections.comparison import comparison
from blindspot.report.sections.examples import examples
from blindspot.report.sections.figures import evidence
from blindspot.report.sections.judge import judge
from blindspot.report.sections.risks import risks
from blindspot.report.sections.slices import blind_spots, tested_clean
from blindspot.report.sections.statistics import statistics
from blindspot.report.sections.text_slices import text_slices
from blindspot.report.sections.verdict import verdict


def brief_title(prefix: str, source: Optional[str], model: str) -> str:
    """"Blind Spot Brief: data/raw/mine.csv (model mine)": the audited file first, then the model's name."""
    if source:
        return f"{prefix}: {source}" + (f" (model {model})" if model else "")
    return f"{prefix}: model {model}" if model else prefix

def build_brief(inputs: Inputs, cfg, *, alpha: float, footer_blocks: Sequence = (),
                source: Optional[str] = None) -> Document:
    """The Blind Spot Brief as a :class:`Document`.

    Parameters
    ----------
    inputs : Inputs
    cfg : ReportConfig
    alpha : float
        ``stats.fdr_alpha``.
    footer_blocks : sequence of blocks
        The reproducibility footer (:func:`blindspot.report.footer.footer`).
    source : str, optional
        The audited predictions file (``model.path``), named in the title.
    """
    p = inputs.profile
    doc = Document(brief_title(cfg.title, source, p.model),
                   subtitle=run(f"Model {p.model} \u00b7 {cnt(p.n_rows)} reviews \u00b7 every number below "
                                f"is read from ", Code("metrics/"), ", ", Code(str(paths.FINDINGS)), ", ",
                                Code("plots/"), " and ", Code("data/interim/"), "."))
    doc.add(*verdict(inputs, alpha=alpha))
    doc.add(*accuracy_lied(inputs, classes_figure=inputs.figures.get("class_distribution")))
    doc.add(*repeated_texts(inputs, alpha=alpha))
    doc.add(*blind_spots(inputs, max_rows=cfg.max_blind_spots))
    doc.add(*tested_clean(inputs))  # a level-3 part of "Ranked blind spots"
    doc.add(*text_slices(inputs, max_chars=cfg.max_quote_chars))
    doc.add(*evidence(inputs))
    doc.add(*examples(inputs, n_examples=cfg.n_examples, max_chars=cfg.max_quote_chars))
    doc.add(*judge(inputs))
    doc.add(*risks(inputs, dict(cfg.class_risk)))
    doc.add(*comparison(inputs))
    doc.add(*statistics(inputs))
    doc.add(*footer_blocks)
    return doc
