"""Is a rendered brief complete? The check every run of a foreign data set can make.

"Complete or failed": every section of the brief is present and has content (which may
say "not measurable", "not run" or "no baseline configured", but the heading is never
bare), and every significant finding of ``reports/findings.json`` appears in both the
Markdown and the HTML brief, named by its key exactly as the renderers show it, in the
section that owns it: a slice finding in "Ranked blind spots" (a key quoted only beside
an example elsewhere does not count), a class finding in "Why accuracy misleads". Pure
text functions: no file access, no heavy imports.
"""

from __future__ import annotations

import html
import re
from typing import Iterable, Mapping

from blindspot.report.document import visible
from blindspot.report.markdown import escape as md_escape

# The level-2 sections of every brief, in order (sections.build_brief and the footer write them).
SECTION_TITLES = ("Verdict", "Why accuracy misleads", "Ranked blind spots", "Text slices nobody named",
                  "Visual evidence", "Confidently incorrect examples", "What the judge found, and how far to trust it",
                  "Risk and mitigation", "Comparison with the previous version", "How to read the statistics",
                  "Reproducibility")
TEXT_TITLE = SECTION_TITLES[3]  # learned topics and error-associated terms (sections.text_slices)
STATS_TITLE = SECTION_TITLES[9]

_WS = re.compile(r"\s+")
# Where a significant finding must be shown: class findings in the class table, slice findings ranked.
CLASS_SECTION, SLICE_SECTION = "Why accuracy misleads", "Ranked blind spots"


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
        elif not _md_section(md_text, title).strip():
            problems.append(f"Markdown brief: section '{title}' is a bare heading")
        if title not in html_headings:
            problems.append(f"HTML brief: section '{title}' is missing")
    for f in findings:
        if not f.get("significant"):
            continue
        key = str(f.get("key", ""))
        title = CLASS_SECTION if f.get("source") == "class" else SLICE_SECTION
        label = f"significant finding {f.get('id', key)!r} (key {key!r})"
        # Whitespace is compared collapsed: Markdown folds a key's newlines into spaces, HTML keeps them.
        md_flat = _WS.sub(" ", _md_section(md_text, title))
        html_flat = _WS.sub(" ", _html_section(html_text, title))
        if not any(form and form in md_flat for form in _md_forms(key)):
            problems.append(f"Markdown brief: {label} does not appear in '{title}'")
        if _html_form(key) not in html_flat:
            problems.append(f"HTML brief: {label} does not appear in '{title}'")
    return problems


def _md_section(md_text: str, title: str) -> str:
    """The Markdown between ``## title`` and the next level-2 heading ("" when absent)."""
    m = re.search(rf"^## {re.escape(md_escape(title).strip())}[ \t]*\n(.*?)(?=^## |\Z)", md_text, re.M | re.S)
    return m.group(1) if m else ""


def _html_section(html_text: str, title: str) -> str:
    """The HTML between ``<h2>title</h2>`` and the next ``<h2`` ("" when absent)."""
    m = re.search(rf"<h2[^>]*>{re.escape(html.escape(title, quote=True))}</h2>(.*?)(?=<h2|\Z)", html_text, re.S)
    return m.group(1) if m else ""
