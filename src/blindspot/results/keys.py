"""Every key of every results file, declared once: its path, kind, meaning and direction.

A results file (``metrics/*.json``, ``reports/findings.json``) is described by a
:class:`ResultsFile` holding :class:`Key` declarations. A key's path is dotted; ``<name>``
stands for one segment that varies (a class, a slice key, a confidence band) and ``[]``
for the items of a list. The writers build their output with :meth:`Key.put`, the report
reads it with :meth:`Key.at`, the reference page (``docs/METRICS.md``) is rendered from the
declarations, and :func:`undeclared` lists any key a file holds that no declaration
covers, so a writer and its reader cannot drift apart unseen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, MutableMapping, Optional

from blindspot.direction import higher_is_better
from blindspot.results.estimate import ESTIMATE_FIELDS

# What a key holds. "estimate" is an Estimate's object (value, ci_low, ci_high, method); "object" a mapping
# whose own keys are declared separately; "map" a mapping whose keys are data (class names, slice keys) with
# values of the kind named after the colon, e.g. "map:count"; "value" a value taken from the user's data as it is
# (a text, number, true/false, null, or a range object such as {"ge": 3, "lt": 7}), whose inside is not declared.
KINDS = ("estimate", "number", "count", "text", "flag", "object", "list", "map:number", "map:count", "map:text",
         "value")
HIGHER, LOWER, NEITHER = "higher is better", "lower is better", ""


@dataclass(frozen=True)
class Key:
    """One declared key.

    Parameters
    ----------
    path : str
        Dotted path; ``<name>`` is one varying segment, ``[]`` the items of a list.
    kind : str
        One of :data:`KINDS`.
    meaning : str
        One sentence for the reference page.
    direction : str, optional
        :data:`HIGHER`, :data:`LOWER` or :data:`NEITHER`; by default the metric name's direction
        from :mod:`blindspot.direction` (the last fixed segment of the path), for numbers and
        estimates only.
    """

    path: str
    kind: str
    meaning: str
    direction: Optional[str] = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"key {self.path}: kind must be one of {KINDS}; got {self.kind!r}")
        if self.direction is None:
            object.__setattr__(self, "direction", _default_direction(self.path, self.kind))

    @property
    def pattern(self) -> re.Pattern:
        return _compile(self.path)

    def at(self, **parts: str) -> tuple:
        """The concrete path as a tuple of segments, ``<name>`` filled from ``parts``."""
        out = []
        for seg in self.path.split("."):
            name = seg[1:-1] if seg.startswith("<") and seg.endswith(">") else None
            out.append(str(parts[name]) if name else seg)
        return tuple(out)

    def put(self, doc: MutableMapping, value: Any, **parts: str) -> None:
        """Set this key in ``doc`` (creating the objects on the way); an Estimate is encoded."""
        *head, last = self.at(**parts)
        for seg in head:
            doc = doc.setdefault(seg, {})
        doc[last] = value.encode() if hasattr(value, "encode") and self.kind == "estimate" else value


def _default_direction(path: str, kind: str) -> str:
    if kind not in ("estimate", "number"):
        return NEITHER
    fixed = [s for s in path.replace("[]", "").split(".") if s and not s.startswith("<")]
    higher = higher_is_better(fixed[-1]) if fixed else None
    return NEITHER if higher is None else (HIGHER if higher else LOWER)


def _compile(path: str) -> re.Pattern:
    parts = []
    for seg in path.split("."):
        if seg.startswith("<") and seg.endswith(">"):
            parts.append(r"[^.]+")
        else:
            parts.append(re.escape(seg).replace(r"\[\]", r"\[\]"))
    return re.compile(r"\.".join(parts) + r"\Z")


@dataclass(frozen=True)
class ResultsFile:
    """A results file: where it lives, what it is for, and every key it may hold."""

    path: str
    title: str
    about: str
    keys: tuple

    def __getitem__(self, path: str) -> Key:
        for k in self.keys:
            if k.path == path:
                return k
        raise KeyError(f"{self.path} declares no key {path!r}")

    def match(self, concrete: str) -> Optional[Key]:
        """The declaration covering a concrete dotted path (list items as ``[]``), if any.

        A path on the way to declared keys (``per_class`` and ``per_class.negative`` on the way
        to ``per_class.<class>.recall``) matches an implicit ``object`` key.
        """
        for k in self.keys:
            if k.pattern.match(concrete):
                return k
        for k in self.keys:
            segments = k.path.split(".")
            for i in range(1, len(segments) + 1):
                prefix = ".".join(segments[:i])
                if prefix.endswith("[]") and _compile(prefix[:-2]).match(concrete):
                    return Key(prefix[:-2], "list", "(a list of the objects below)")
                if i < len(segments) and _compile(prefix).match(concrete):
                    return Key(prefix, "object", "(holds the keys below)")
        return None


def _walk(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every (dotted path, node) below ``node``, objects before their children; list items as ``[]``."""
    if isinstance(node, Mapping):
        for k, v in node.items():
            p = f"{path}.{k}" if path else str(k)
            yield p, v
            yield from _walk(v, p)
    elif isinstance(node, list):
        for v in node:
            p = f"{path}[]"
            yield p, v
            yield from _walk(v, p)


def _kind_ok(kind: str, value: Any) -> bool:
    if value is None or kind == "value":
        return True  # a null is "not measured", allowed for every kind; a data value may be anything
    if kind == "estimate":
        return isinstance(value, Mapping) and "value" in value
    if kind in ("number",):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "count":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "text":
        return isinstance(value, str)
    if kind == "flag":
        return isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list)
    if kind.startswith("map:") or kind == "object":
        return isinstance(value, Mapping)
    return False


def undeclared(doc: Any, spec: ResultsFile) -> list[str]:
    """Problems of a loaded results file against its declaration: undeclared keys and wrong kinds.

    Returns
    -------
    list of str
        One line per problem, naming the dotted path; empty when the file conforms.
    """
    problems, skip = [], []
    for path, value in _walk(doc, ""):
        if any(path == s or path.startswith(s + ".") or path.startswith(s + "[") for s in skip):
            continue
        key = spec.match(path)
        if key is None:
            problems.append(f"{spec.path}: {path} is not declared")
            skip.append(path)
            continue
        if not _kind_ok(key.kind, value):
            problems.append(f"{spec.path}: {path} should be {key.kind}, found {type(value).__name__}")
        if key.kind == "estimate" and isinstance(value, Mapping):
            # its own fields are part of it; any other child is declared on its own
            skip.extend(f"{path}.{f}" for f in ESTIMATE_FIELDS)
        elif key.kind == "value":
            skip.append(path)  # a data value: whatever is inside is the data's
        elif key.kind.startswith("map:") and isinstance(value, Mapping):
            leaf = key.kind.split(":", 1)[1]
            problems += [f"{spec.path}: {path}.{k} should be {leaf}" for k, v in value.items()
                         if not _kind_ok(leaf, v)]
            skip.append(path)
    return problems


# Every metrics file's first key: io.writers.dumps_metrics writes it into each of them.
SCHEMA_VERSION = Key("schema_version", "count", "Version of the results layout; it changes when a key does.")
