"""The trend across audited versions: every audit committed in a project's git history, as a table and a page.

``blindspot history`` walks the commits that touch ``metrics/headline.json`` or
``metrics/profile.json`` (oldest first) and reads, at each, the headline numbers (from
``metrics/headline.json``, or from ``metrics/profile.json`` for audits made before the
headline existed), the watchlist slices' metrics (``metrics/slices.json``), and the blind
spots of their own and weak classes (``reports/findings.json``,
:func:`blindspot.lifecycle.blind_spots`) with their lifecycle as the lifecycle stage recorded it
(``reports/lifecycle.json``); for an audit committed before that file existed, or one that
tracked nothing, the lifecycle against the audited version before it is worked out here with
the same function (:func:`blindspot.lifecycle.lifecycle`).

It writes the same data twice: a SQLite file (tables ``versions``, ``metrics``,
``blind_spots``) to query, and one self-contained HTML page (inline SVG charts drawn here, no
script, no stylesheet or font from the network) to look at. A value is marked a regression
when its interval lies entirely on the worse side of the previous version's value (by
:func:`blindspot.direction.higher_is_better`). Both outputs depend only on the history: no
clock, no host name, sorted keys. DVC experiments (``refs/exps``) that were never committed to the
branch follow the history, each named "experiment <name>".
"""

from __future__ import annotations

import html
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

from blindspot.direction import higher_is_better
from blindspot.gitrev import git as _git, show_json as _show_json
from blindspot.lifecycle import TRACKED, blind_spots, lifecycle

HEADLINE = "metrics/headline.json"
PROFILE = "metrics/profile.json"
SLICES = "metrics/slices.json"
COMPARE = "metrics/compare.json"
FINDINGS = "reports/findings.json"
LIFECYCLE = "reports/lifecycle.json"
# headline keys that describe the file rather than measure the model
NOT_MEASURES = ("schema_version", "recall_classes_omitted", "confidently_incorrect.threshold")
# headline names whose direction is not their first dotted part's
DIRECTIONS = {"confidently_incorrect.rate": False, "comparison.n_improved": True, "comparison.n_worsened": False}


@dataclass
class Version:
    """One audited commit: what it is, its numbers, its blind spots and their lifecycle."""

    commit: str
    date: str
    subject: str
    model: Optional[str] = None
    headline: dict = field(default_factory=dict)  # name -> (value, ci_low, ci_high)
    watchlist: dict = field(default_factory=dict)  # "slice key / metric" -> (value, ci_low, ci_high)
    blind_spots: Optional[dict] = None  # (slice key, metric) -> finding; None when findings.json is absent
    lifecycle: dict = field(default_factory=dict)  # (slice key, metric) -> lifecycle entry


def audited_commits(root: Path) -> list:
    """(commit, ISO date, subject) of every commit that touches the headline or the profile, oldest first."""
    text = _git(root, "log", "--reverse", "--format=%H%x1f%cI%x1f%s", "--", HEADLINE, PROFILE)
    return [tuple(line.split("\x1f", 2)) for line in (text or "").splitlines() if line.count("\x1f") == 2]


def experiment_commits(root: Path, known: set) -> list:
    """(commit, ISO date, "experiment <name>") of every DVC experiment (``refs/exps``) not in the history, by date.

    ``dvc exp run`` keeps each experiment as a commit under ``refs/exps``; one that was committed to the
    branch afterwards is already in :func:`audited_commits`.
    """
    text = _git(root, "for-each-ref", "--sort=committerdate",
                "--format=%(objectname)%1f%(committerdate:iso-strict)%1f%(refname)", "refs/exps")
    rows = [line.split("\x1f") for line in (text or "").splitlines() if line.count("\x1f") == 2]
    return [(sha, date, f"experiment {ref.rsplit('/', 1)[-1]}") for sha, date, ref in rows if sha not in known]


def _number(x) -> Optional[float]:
    # a count stays an int so that the page prints it without decimals
    return x if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def _triple(node: Mapping) -> tuple:
    return _number(node.get("value")), _number(node.get("ci_low")), _number(node.get("ci_high"))


def flatten_headline(doc: Mapping, prefix: str = "") -> dict:
    """Dotted name -> (value, ci_low, ci_high) for every measure of ``metrics/headline.json``.

    An estimate (a mapping with ``value``) gives its interval; a bare number gives (value, None, None).
    """
    out = {}
    for name in sorted(doc):
        node, dotted = doc[name], prefix + name
        if dotted in NOT_MEASURES:
            continue
        if isinstance(node, Mapping) and "value" in node:
            out[dotted] = _triple(node)
        elif isinstance(node, Mapping):
            out.update(flatten_headline(node, dotted + "."))
        elif _number(node) is not None:
            out[dotted] = (_number(node), None, None)
    return out


def profile_headline(profile: Mapping) -> dict:
    """The headline numbers an audit older than ``metrics/headline.json`` holds in ``metrics/profile.json``."""
    out = {name: _triple(profile[name]) for name in ("accuracy", "balanced_accuracy", "f1_macro")
           if isinstance(profile.get(name), Mapping)}
    for cls in sorted(profile.get("per_class") or {}):
        recall = (profile["per_class"][cls] or {}).get("recall")
        if isinstance(recall, Mapping):
            out[f"recall.{cls}"] = _triple(recall)
    return out


def watchlist_numbers(slices: Optional[Mapping]) -> dict:
    """"slice key / metric" -> (value, ci_low, ci_high) for every metric of every watchlist slice."""
    out = {}
    watch = (slices or {}).get("watchlist") or {}
    for key in sorted(watch):
        entry = watch[key] if isinstance(watch[key], Mapping) else {}
        for metric in sorted(entry):
            if isinstance(entry[metric], Mapping) and "value" in entry[metric]:
                out[f"{key} / {metric}"] = _triple(entry[metric])
    return out


def finding_value(finding: Optional[Mapping]) -> Optional[float]:
    """A finding's estimate (results schema 2 nests it under ``estimate``; older files hold it flat)."""
    if finding is None:
        return None
    return _number((finding.get("estimate") or finding).get("value"))


def _same_audit(a: Version, b: Version) -> bool:
    """Two consecutive commits of one audit: the same model with the same global numbers and blind spots."""
    keys = ("accuracy", "balanced_accuracy", "f1_macro")
    return (a.model == b.model and all(a.headline.get(k) == b.headline.get(k) for k in keys)
            and set(a.blind_spots or {}) == set(b.blind_spots or {}))


def read_history(root: Path) -> list:
    """Every audited version in ``root``'s git history, oldest first, with lifecycle against the one before.

    Consecutive commits of the same audit (:func:`_same_audit`) are one version, read at the latest of them.

    A version without ``reports/findings.json`` has no blind spots to tell; the next one is compared with
    the last version that had them. A blind spot closed at any earlier version and back is "reopened".
    """
    versions, previous, ever_closed = [], None, set()
    commits = audited_commits(root)
    for commit, date, subject in commits + experiment_commits(root, {c for c, _, _ in commits}):
        profile = _show_json(root, commit, PROFILE) or {}
        head = _show_json(root, commit, HEADLINE)
        v = Version(commit, date, subject, model=profile.get("model") if isinstance(profile, Mapping) else None)
        v.headline = flatten_headline(head) if isinstance(head, Mapping) else profile_headline(profile)
        v.watchlist = watchlist_numbers(_show_json(root, commit, SLICES))
        findings = _show_json(root, commit, FINDINGS)
        if isinstance(findings, list):
            v.blind_spots = blind_spots(findings)
            recorded = _show_json(root, commit, LIFECYCLE)
            if isinstance(recorded, Mapping) and recorded.get("status") == TRACKED:
                v.lifecycle = {(e["key"], e["metric"]): e for e in recorded.get("blind_spots") or []}
            else:
                v.lifecycle = lifecycle(v.blind_spots, previous, _show_json(root, commit, COMPARE),
                                        previous_closed=frozenset(ever_closed - set(previous or {})))
            ever_closed |= {ident for ident, e in v.lifecycle.items() if e["status"] == "closed"}
            previous = v.blind_spots
        if subject.startswith("experiment ") and any(_same_audit(x, v) for x in versions):
            continue  # an experiment committed to the branch afterwards: it is in the history already
        if versions and _same_audit(versions[-1], v):
            versions[-1] = v  # the same version committed again (a layout change, a re-run): one entry, the latest
        else:
            versions.append(v)
    return versions


def direction(name: str) -> Optional[bool]:
    """Higher is better (True), lower (False) or unknown (None) for a headline or watchlist name."""
    if name in DIRECTIONS:
        return DIRECTIONS[name]
    if name.startswith("blind_spots."):
        return False
    return higher_is_better(name.rsplit(" / ", 1)[-1].split(".")[0])


def is_regression(name: str, now: tuple, before: Optional[tuple]) -> bool:
    """Whether ``now``'s interval lies entirely on the worse side of the previous version's value."""
    higher = direction(name)
    if before is None or before[0] is None or higher is None or None in now:
        return False
    return now[2] < before[0] if higher else now[1] > before[0]


def series(versions: list, attr: str, name: str) -> list:
    """(value triple or None, regression?) for ``name`` in each version, against the previous version holding it."""
    out, before = [], None
    for v in versions:
        now = getattr(v, attr).get(name)
        out.append((now, now is not None and is_regression(name, now, before)))
        before = now if now is not None else before
    return out


def blind_spot_rows(versions: list) -> list:
    """(commit, slice key, metric, status, value) for the blind-spots table.

    A version's own blind spots are "open" at the first audit (nothing to compare with), else their
    lifecycle status; a blind spot that closed is listed at the version where it closed, valueless.
    """
    rows = []
    for v in versions:
        if v.blind_spots is None:
            continue
        for ident in sorted(set(v.blind_spots) | set(v.lifecycle)):
            status = (v.lifecycle.get(ident) or {}).get("status", "open")
            rows.append((v.commit, ident[0], ident[1], status, finding_value(v.blind_spots.get(ident))))
    return rows


def write_sqlite(versions: list, path: Path) -> None:
    """The history as a SQLite file (replaced if present): tables versions, metrics, blind_spots."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    con = sqlite3.connect(path)
    try:
        con.executescript(
            # "commit" is an SQL keyword, so it is quoted here and in queries
            'CREATE TABLE versions ("commit" TEXT PRIMARY KEY, date TEXT, model TEXT, subject TEXT);'
            'CREATE TABLE metrics ("commit" TEXT, name TEXT, value REAL, ci_low REAL, ci_high REAL);'
            'CREATE TABLE blind_spots ("commit" TEXT, slice TEXT, metric TEXT, status TEXT, value REAL);')
        con.executemany("INSERT INTO versions VALUES (?, ?, ?, ?)",
                        [(v.commit, v.date, v.model, v.subject) for v in versions])
        con.executemany("INSERT INTO metrics VALUES (?, ?, ?, ?, ?)",
                        [(v.commit, name, *v.headline[name]) for v in versions for name in sorted(v.headline)]
                        + [(v.commit, f"watchlist.{name}", *v.watchlist[name])
                           for v in versions for name in sorted(v.watchlist)])
        con.executemany("INSERT INTO blind_spots VALUES (?, ?, ?, ?, ?)", blind_spot_rows(versions))
        con.commit()
    finally:
        con.close()


# --- the page -------------------------------------------------------------------------------------------------

W, H, LEFT, RIGHT, TOP, BOTTOM = 300, 160, 46, 12, 24, 30  # one chart, in SVG user units
CSS = """body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1250px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
.charts{display:flex;flex-wrap:wrap;gap:10px}.charts svg{border:1px solid #ddd;background:#fff}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 6px;text-align:right}
td.name,th.name{text-align:left}.regression{background:#fde0dc;color:#a01b0e;font-weight:600}
.ev{font-size:11px;padding:0 4px;border-radius:3px;margin-left:4px}.ev-new,.ev-reopened{background:#f7c6c0}
.ev-closed{background:#c8e6c9}.ev-persisting,.ev-open{background:#eee}.ci{color:#777;font-size:11px}
.muted{color:#777}"""
REG_CLASS = ' class="regression"'


def _fmt(x: Optional[float]) -> str:
    return "–" if x is None else (str(x) if isinstance(x, int) else f"{x:.3f}")


def _label(i: int, v: Version) -> str:
    return f"v{i + 1} {v.commit[:7]}"


def chart_svg(name: str, points: list) -> str:
    """A small line chart of one metric across versions: points, interval bars, regressions in red.

    Parameters
    ----------
    name : str
        The metric's name (the chart's title).
    points : list of ((value, ci_low, ci_high) or None, bool), one per version
        As :func:`series` gives them; None where the version lacks the metric.
    """
    numbers = [x for p, _ in points if p for x in p if x is not None]
    lo, hi = (min(numbers), max(numbers)) if numbers else (0.0, 1.0)
    pad = (hi - lo) * 0.1 or 0.05
    lo, hi = lo - pad, hi + pad
    n = len(points)

    def x(i):
        return LEFT + (W - LEFT - RIGHT) * (0.5 if n == 1 else i / (n - 1))

    def y(v):
        return TOP + (H - TOP - BOTTOM) * (hi - v) / (hi - lo)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{W}" height="{H}" '
             f'viewBox="0 0 {W} {H}" role="img"><title>{html.escape(name)}</title>',
             f'<text x="{LEFT}" y="15" font-size="12" font-weight="600">{html.escape(name)}</text>',
             f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{H - BOTTOM}" stroke="#999"/>']
    # the axis is labelled at the lowest and highest value drawn (a count stays a whole number)
    for v in sorted(set((min(numbers), max(numbers)))) if numbers else (lo + pad,):
        parts.append(f'<text x="{LEFT - 4}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end">{_fmt(v)}</text>'
                     f'<line x1="{LEFT}" y1="{y(v):.1f}" x2="{W - RIGHT}" y2="{y(v):.1f}" stroke="#eee"/>')
    line = " ".join(f"{x(i):.1f},{y(p[0]):.1f}" for i, (p, _) in enumerate(points) if p and p[0] is not None)
    if line:
        parts.append(f'<polyline points="{line}" fill="none" stroke="#3465a4" stroke-width="1.5"/>')
    for i, (p, bad) in enumerate(points):
        parts.append(f'<text x="{x(i):.1f}" y="{H - 10}" font-size="10" text-anchor="middle">v{i + 1}</text>')
        if not p or p[0] is None:
            continue
        colour = "#c0392b" if bad else "#3465a4"
        if p[1] is not None and p[2] is not None:
            parts.append(f'<path d="M{x(i) - 3:.1f} {y(p[1]):.1f}h6M{x(i):.1f} {y(p[1]):.1f}V{y(p[2]):.1f}'
                         f'M{x(i) - 3:.1f} {y(p[2]):.1f}h6" stroke="{colour}" fill="none"/>')
        parts.append(f'<circle cx="{x(i):.1f}" cy="{y(p[0]):.1f}" r="3.5" fill="{colour}"'
                     f'{REG_CLASS if bad else ""}><title>v{i + 1}: {_fmt(p[0])}</title></circle>')
        if bad:
            parts.append(f'<text class="regression-mark" x="{x(i) + 6:.1f}" y="{y(p[0]) + 4:.1f}" '
                         f'font-size="11" fill="#c0392b">▼ regression</text>')
    parts.append("</svg>")
    return "".join(parts)


def _cell(p: Optional[tuple], bad: bool, event: str = "") -> str:
    ev = f'<span class="ev ev-{html.escape(event)}">{html.escape(event)}</span>' if event else ""
    if p is None:
        return f'<td class="muted">–{ev}</td>'
    ci = f' <span class="ci">[{_fmt(p[1])}, {_fmt(p[2])}]</span>' if p[1] is not None and p[2] is not None else ""
    mark = " ▼" if bad else ""
    return f'<td{REG_CLASS if bad else ""}>{_fmt(p[0])}{ci}{mark}{ev}</td>'


def _table(versions: list, rows: list) -> str:
    """Rows of (name, [cell html per version]) under a header naming each version."""
    head = "".join(f"<th>{html.escape(_label(i, v))}</th>" for i, v in enumerate(versions))
    body = "".join(f'<tr><td class="name">{html.escape(name)}</td>{"".join(cells)}</tr>' for name, cells in rows)
    return f'<table><tr><th class="name">metric</th>{head}</tr>{body}</table>'


def _blind_spot_table(versions: list) -> str:
    """Each blind spot (of its own, or a weak class) across versions: its value where it is one, its lifecycle event."""
    idents = sorted({i for v in versions if v.blind_spots is not None for i in set(v.blind_spots) | set(v.lifecycle)})
    rows = []
    for ident in idents:
        cells = []
        for v in versions:
            finding = (v.blind_spots or {}).get(ident)
            event = (v.lifecycle.get(ident) or {}).get("status", "")
            event = "" if event == "persisting" else event
            value = finding_value(finding)
            est = (finding or {}).get("estimate") or finding or {}
            cells.append(_cell(None if finding is None else (value, _number(est.get("ci_low")),
                                                             _number(est.get("ci_high"))), False, event))
        rows.append((f"{ident[0]} / {ident[1]}", cells))
    return _table(versions, rows) if rows else '<p class="muted">No blind spot in any version.</p>'


def render_html(versions: list) -> str:
    """The whole page: versions, one chart per headline metric, the watchlist and blind-spot tables."""
    names = sorted({n for v in versions for n in v.headline})
    charts = "".join(chart_svg(n, series(versions, "headline", n)) for n in names)
    watch = sorted({n for v in versions for n in v.watchlist})
    watch_rows = [(n, [_cell(p, bad) for p, bad in series(versions, "watchlist", n)]) for n in watch]
    listing = "".join(f"<tr><td>{html.escape(_label(i, v))}</td><td class=\"name\">{html.escape(v.date)}</td>"
                      f"<td class=\"name\">{html.escape(str(v.model or '–'))}</td>"
                      f"<td class=\"name\">{html.escape(v.subject)}</td></tr>" for i, v in enumerate(versions))
    n_bad = sum(bad for n in names for _, bad in series(versions, "headline", n)) + sum(
        bad for n in watch for _, bad in series(versions, "watchlist", n))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>blindspot history</title>'
        f"<style>{CSS}</style></head><body><h1>blindspot history: {len(versions)} audited versions</h1>"
        "<p>Each audit committed in the project's git history, oldest first. A red value (▼) is a regression: "
        "its interval lies entirely on the worse side of the previous version's value. "
        f"Regressions on this page: {n_bad}.</p>"
        '<h2>Versions</h2><table><tr><th>version</th><th class="name">date</th><th class="name">model</th>'
        f'<th class="name">commit message</th></tr>{listing}</table>'
        f'<h2>Headline metrics</h2><div class="charts">{charts}</div>'
        "<h2>Blind spots</h2><p>Slices worse within their true classes (slice key / metric) and weak classes "
        "(class__&lt;class&gt; / recall): the value where it is a blind spot, and its lifecycle against the previous "
        "audited version (new, reopened, closed; open at the first audit).</p>"
        f"{_blind_spot_table(versions)}"
        "<h2>Watchlist slices</h2>"
        + (_table(versions, watch_rows) if watch_rows else '<p class="muted">No watchlist in any version.</p>')
        + "</body></html>\n")


def write_history(root: Path, html_path: Path, db_path: Path) -> list:
    """Read ``root``'s audited history and write the page and the SQLite file; the versions read."""
    versions = read_history(root)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(render_html(versions), encoding="utf-8")
    write_sqlite(versions, db_path)
    return versions
