"""A tiny document model: the brief is built once as blocks, then rendered to Markdown and HTML.

Every string in a block is *text*, never markup: each renderer escapes it exactly once
(:func:`blindspot.report.markdown.escape`, :func:`html.escape`, both after :func:`visible`
has spelt out control and bidi characters), so review text, slice
descriptions built from metadata values and our own sentences all go through the same
door. Markup exists only as block and inline types:

- inline: ``str`` (plain text), :class:`Code`, :class:`Strong`, :class:`Em`, :class:`Break`
  (a line break, e.g. a slice's key beneath its name in a table cell);
- blocks: :class:`Heading`, :class:`Paragraph`, :class:`BulletList`, :class:`Table`,
  :class:`Figure`, :class:`Quote`, :class:`Callout`.

A *run* is a tuple of inline pieces; the helpers accept a bare string or a single piece
wherever a run is expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence, Union


@dataclass(frozen=True)
class Code:
    """Inline code: a key, a path, a command."""

    text: str


@dataclass(frozen=True)
class Strong:
    text: str


@dataclass(frozen=True)
class Em:
    text: str


@dataclass(frozen=True)
class Break:
    """A line break inside a run (``<br>`` in both renderers; Markdown tables allow no other)."""

    text: str = ""


Inline = Union[str, Code, Strong, Em, Break]
Run = tuple  # tuple of Inline


def run(*parts) -> Run:
    """A run from pieces; nested runs are flattened, ``None`` and "" dropped."""
    out: list = []
    for part in parts:
        if part is None or part == "":
            continue
        if isinstance(part, tuple):
            out.extend(run(*part))
        elif isinstance(part, (str, Code, Strong, Em, Break)):
            out.append(part)
        else:
            raise TypeError(f"not an inline piece: {type(part).__name__} {part!r}")
    return tuple(out)


# Characters that are invisible or reorder what is around them: C0 controls but tab, line feed and carriage
# return (ordinary whitespace), DEL and the C1 controls, the bidirectional marks, embeddings, overrides and
# isolates, and lone surrogates (which no UTF-8 file can hold). Review text, class names, metadata values and
# column names are untrusted: a right-to-left override could make "1.0 gpj.exe" read as "exe.jpg 0.1".
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                        "\u2066-\u2069\ud800-\udfff]")


def visible(text) -> str:
    """``text`` with every control, bidi and lone-surrogate character shown as ``\\uXXXX``.

    Both renderers call it before their own escaping, so such a character is shown,
    never obeyed: the text ``"a" + chr(0x202E) + "b"`` renders as ``a\\u202eb``.
    """
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", str(text))


def plain(parts: Run) -> str:
    """The run as unformatted text (for alt text and anchors)."""
    return "".join(p if isinstance(p, str) else (" " if isinstance(p, Break) else p.text) for p in run(parts))


def slug(text: str) -> str:
    """An anchor id: lower-case ASCII letters, digits and hyphens only."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


@dataclass(frozen=True)
class Heading:
    level: int
    text: str

    @property
    def anchor(self) -> str:
        return slug(self.text)


@dataclass(frozen=True)
class Paragraph:
    parts: Run

    def __init__(self, *parts):
        object.__setattr__(self, "parts", run(*parts))


@dataclass(frozen=True)
class BulletList:
    items: tuple  # of Run

    def __init__(self, items: Iterable):
        object.__setattr__(self, "items", tuple(run(i) for i in items))


@dataclass(frozen=True)
class Table:
    """A table; every cell is a run. ``align`` per column: "l" or "r" (numbers).

    ``wide``: index of the column that should get the room (long text); a hint for
    renderers with layout (HTML), ignored by Markdown.
    """

    header: tuple
    rows: tuple
    align: tuple = ()
    caption: Run = ()
    wide: Optional[int] = None

    def __init__(self, header: Sequence, rows: Iterable[Sequence], align: Sequence[str] = (), caption=(),
                 wide: Optional[int] = None):
        header = tuple(run(h) for h in header)
        rows = tuple(tuple(run(c) for c in r) for r in rows)
        for r in rows:
            if len(r) != len(header):
                raise ValueError(f"a table row has {len(r)} cells for {len(header)} columns: {r!r}")
        align = tuple(align) or ("l",) * len(header)
        if len(align) != len(header) or set(align) - {"l", "r"}:
            raise ValueError(f"align must give 'l' or 'r' for each of {len(header)} columns; got {align!r}")
        object.__setattr__(self, "header", header)
        object.__setattr__(self, "rows", rows)
        object.__setattr__(self, "align", align)
        object.__setattr__(self, "caption", run(caption))
        if wide is not None and not 0 <= wide < len(header):
            raise ValueError(f"wide must be a column index below {len(header)}; got {wide!r}")
        object.__setattr__(self, "wide", wide)


@dataclass(frozen=True)
class Figure:
    """A picture from the repository. ``path`` is relative to the repository root (POSIX)."""

    path: str
    caption: Run = ()
    alt: str = ""

    def __init__(self, path: str, caption=(), alt: str = ""):
        object.__setattr__(self, "path", str(path))
        object.__setattr__(self, "caption", run(caption))
        object.__setattr__(self, "alt", alt or plain(run(caption)) or str(path))


@dataclass(frozen=True)
class Quote:
    """Quoted untrusted text (a review), already truncated, and a line saying whose it is."""

    text: str
    meta: Run = ()

    def __init__(self, text: str, meta=()):
        object.__setattr__(self, "text", str(text))
        object.__setattr__(self, "meta", run(meta))


@dataclass(frozen=True)
class Callout:
    """A highlighted note. ``kind``: "note", "warning" or "ok"; ``label`` replaces the kind's
    own word ("Note", "Warning", "OK") as the bold lead, e.g. the brief's status "NOT READY"."""

    kind: str
    parts: Run
    label: str = ""

    def __init__(self, kind: str, *parts, label: str = ""):
        if kind not in ("note", "warning", "ok"):
            raise ValueError(f"callout kind must be note, warning or ok; got {kind!r}")
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "parts", run(*parts))
        object.__setattr__(self, "label", str(label))


Block = Union[Heading, Paragraph, BulletList, Table, Figure, Quote, Callout]


@dataclass
class Document:
    title: str
    blocks: list = field(default_factory=list)
    subtitle: Run = ()

    def add(self, *blocks: Block) -> "Document":
        for b in blocks:
            if not isinstance(b, (Heading, Paragraph, BulletList, Table, Figure, Quote, Callout)):
                raise TypeError(f"not a block: {type(b).__name__}")
            self.blocks.append(b)
        return self

    def headings(self, level: int = 2) -> list[Heading]:
        return [b for b in self.blocks if isinstance(b, Heading) and b.level == level]


def truncate(text: str, max_chars: int, ellipsis: str = "\u2026") -> str:
    """Whitespace collapsed to single spaces, cut to at most ``max_chars`` characters.

    The cut falls on the last word boundary in the final fifth of the allowance (a word
    longer than that is cut inside), then the ellipsis is appended.
    """
    flat = " ".join(str(text).split())
    if max_chars <= 0 or len(flat) <= max_chars:
        return flat
    cut = flat[: max(max_chars - len(ellipsis), 1)]
    space = cut.rfind(" ")
    if space >= 0.8 * len(cut):
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + ellipsis
