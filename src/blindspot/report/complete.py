"""Is a rendered brief complete? The check every run of a foreign data set can make.

"Complete or failed": every section of the brief is present (its content may say "not
measurable", "not run" or "no baseline configured", but the heading is there), and
every significant finding of ``reports/findings.json`` appears in both the Markdown and
the HTML brief, named by its key exactly as the renderers show it. Pure text
functions: no file access, no heavy imports.
"""

from __future__ import annotations

import html
import re
from typing import Iterable, Mapping

from blindspot.report.document import visible
from blindspot.report.markdown import escape as md_escape

# The level-2 sections of every brief, in order (sections.build_brief and the footer write them).
SECTION_TITLES = ("Verdict", "Why accuracy misleads", "Ranked blind spots", "Visual evidence",
                  "Confidently incorrect examples", "What the judge found, and how far to trust it",
                  "Risk and mitigation", "Comparison with the previous version", "Reproducibility")

_WS = re.compile(r"\s+")


def _md_forms(key: str) -> set:
    """How a key can appear in the Markdown brief: in a code span (in or out of a table) or as text."""
    code = _WS.sub(" ", visible(key)).strip()
    return {code, code.replace("|", "\\|"), md_escape(key).strip()}


def _html_form(key: str) -> str:
    return html.escape(_WS.sub(" ", visible(key)).strip(), quote=True)


def check_complete(md_text: str, html_text: str, findings: Iterable[Mapping]) -> list[str]:
    """Problems that make a brief incomplete; an empty list when it is complete.

    Parameters
    ----------
    md_text, html_text : str
        ``reports/blind_spot_brief.md`` and ``reports/blind_spot_brief.html``.
    findings : iterable of mapping
        ``reports/findings.json`` as loaded (a list of finding objects).

    Returns
    -------
    list of str
        One sentence per problem: a section heading missing from a brief, or a
        significant finding whose key is not shown in a brief.
    """
    problems = []
    md_headings = set(re.findall(r"^## (.+?)\s*$", md_text, re.M))
    html_headings = {html.unescape(h) for h in re.findall(r"<h2[^>]*>(.*?)</h2>", html_text, re.S)}
    for title in SECTION_TITLES:
        if md_escape(title).strip() not in md_headings:
            problems.append(f"Markdown brief: section '{title}' is missing")
        if title not in html_headings:
            problems.append(f"HTML brief: section '{title}' is missing")
    # Whitespace is compared collapsed: Markdown folds a key's newlines into spaces, HTML keeps them.
    md_flat, html_flat = _WS.sub(" ", md_text), _WS.sub(" ", html_text)
    for f in findings:
        if not f.get("significant"):
            continue
        key = str(f.get("key", ""))
        label = f"significant finding {f.get('id', key)!r} (key {key!r})"
        if not any(form and form in md_flat for form in _md_forms(key)):
            problems.append(f"Markdown brief: {label} does not appear")
        if _html_form(key) not in html_flat:
            problems.append(f"HTML brief: {label} does not appear")
    return problems
