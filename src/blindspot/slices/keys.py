"""Slice keys: one readable, DVC-safe name for every (column, value), and never two for one.

A slice key is what ``dvc metrics diff`` follows across model versions
(``slices.condition__birth_control.error_rate``), the column name in
``data/interim/slices.parquet`` (``watch__<key>``) and the ``key`` of a finding. It must
therefore be snake-case ASCII with no dots, stay the same from one version to the
next, and name exactly one slice.

Scheme
------
A metadata predicate key is ``<column key>__<value key>``; the column keys are built
from every metadata column of the table at once and the value keys from every value
of one column at once, by :func:`unique_keys`:

1. The readable part is :func:`slugify` of the exact raw string: lower case, every run
   of characters other than ``a-z0-9`` replaced by one ``_``, no ``_`` at either end
   (``"Birth Control"`` -> ``birth_control``). It never contains ``__``, so the
   ``__`` between column and value, and the ``__and__`` between the parts of a
   conjunction, can always be split back.
2. The readable slug alone is the key when it is unambiguous: no other raw string of
   the same set has the same slug, it is not reserved, not empty, at most
   :data:`MAX_SLUG` characters, and does not itself end like a hash suffix.
3. Otherwise the key is the slug (cut to :data:`CUT_SLUG` characters) plus ``_h`` and
   the first :data:`HASH_CHARS` hex digits of the SHA-256 of the exact raw string
   (UTF-8, lone surrogates kept): ``"Other"`` -> ``other_h6d9b4a9c``-like, ``""`` ->
   ``h<hex>``. Every member of a colliding group gets its hash, so none is privileged
   and the key of a value never depends on which spelling was seen first.

Reserved value slugs (:data:`RESERVED_VALUES`): ``other`` (the pooled rare values),
``missing`` (null values) and ``and`` (the conjunction word). Reserved column slugs
(:data:`RESERVED_COLUMNS`): ``and`` and ``class`` (class findings are keyed
``class__<class>``). Quantile bins (``__q1``...) exist only in numeric and date columns,
which have no value keys, so they need no reservation. Text predicate keys
(``jargon_high``, ``negated_term``, ``length_<band>``) contain no ``__`` and so can never
equal a metadata key.

Why this is injective: keys without a hash suffix are distinct readable slugs (a slug is
used bare only when it is unique in its set and does not look like a hash suffix); keys
with a suffix end with a digest of their raw string, and a clash of digests (never seen,
but checked) lengthens the digest of the clashing strings until they differ. A key read
back goes through the ``column`` and ``value`` recorded beside it in the metrics files
(``parts`` of every slice entry and finding), never through parsing the slug.

Stability: on data where no value collides (the bundled data), every key is the bare
slug, as before. A key gains a suffix only when this data holds a colliding spelling,
and then the suffix is a function of the raw string alone, so it is the same in every
run and in every file of the run.
"""

from __future__ import annotations

import hashlib
import re
from typing import Iterable

# Longest bare slug; a longer one is cut to CUT_SLUG and hashed (keys stay short enough to read).
MAX_SLUG = 48
CUT_SLUG = 40
HASH_CHARS = 8
# Value slugs that name a slice the stage builds itself, or the conjunction word.
RESERVED_VALUES = frozenset({"other", "missing", "and"})
# Column slugs that would read as the conjunction word or as a class finding's key.
RESERVED_COLUMNS = frozenset({"and", "class"})
# A bare slug that ends like a hash suffix could equal another string's hashed key.
_HASH_LIKE = re.compile(r"(?:^|_)h[0-9a-f]{8,64}$")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
# Every key part: snake-case ASCII words joined by single underscores.
KEY_PART = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")


def slugify(value) -> str:
    """Lower-case snake_case of a value: ``"Birth Control"`` -> ``"birth_control"``.

    Only ASCII letters and digits survive (``str.lower`` may map some non-ASCII letters to
    ASCII, e.g. the Kelvin sign to ``k``; they are kept, the hash of the raw string keeps the
    keys apart). May return ``""`` (emoji, punctuation only).
    """
    return _NOT_SLUG.sub("_", str(value).lower()).strip("_")


def digest(raw: str, chars: int = HASH_CHARS) -> str:
    """First ``chars`` hex digits of the SHA-256 of ``raw`` (UTF-8, lone surrogates passed through)."""
    return hashlib.sha256(str(raw).encode("utf-8", "surrogatepass")).hexdigest()[:chars]


def hashed_key(raw: str, slug: str | None = None, chars: int = HASH_CHARS) -> str:
    """``<slug cut to CUT_SLUG>_h<digest>``, or ``h<digest>`` for an empty slug."""
    slug = slugify(raw) if slug is None else slug
    cut = slug[:CUT_SLUG].strip("_")
    return f"{cut}_h{digest(raw, chars)}" if cut else f"h{digest(raw, chars)}"


def needs_hash(slug: str, reserved: Iterable[str] = ()) -> bool:
    """Whether a slug cannot stand alone even when no other string shares it."""
    return not slug or len(slug) > MAX_SLUG or slug in reserved or bool(_HASH_LIKE.search(slug))


def unique_keys(raws: Iterable[str], *, reserved: Iterable[str] = ()) -> dict[str, str]:
    """Injective key of every distinct raw string of a set (see the module docstring).

    Parameters
    ----------
    raws : iterable of str
        The set's raw strings (repeats are fine).
    reserved : iterable of str
        Slugs that may not be used bare (:data:`RESERVED_VALUES` or :data:`RESERVED_COLUMNS`).

    Returns
    -------
    dict
        Raw string -> key, a one-to-one map; every key matches :data:`KEY_PART`.
    """
    reserved = frozenset(reserved)
    slugs = {str(r): slugify(r) for r in raws}
    owners: dict[str, int] = {}
    for slug in slugs.values():
        owners[slug] = owners.get(slug, 0) + 1
    keys = {raw: slug if owners[slug] == 1 and not needs_hash(slug, reserved) else hashed_key(raw, slug)
            for raw, slug in slugs.items()}
    chars = HASH_CHARS
    while len(set(keys.values())) < len(keys):  # a digest clash: lengthen the clashing digests
        chars *= 2
        if chars > 64:
            raise AssertionError("two raw strings share a full SHA-256 digest")  # pragma: no cover
        seen: dict[str, list[str]] = {}
        for raw, key in keys.items():
            seen.setdefault(key, []).append(raw)
        for group in (g for g in seen.values() if len(g) > 1):
            for raw in group:
                keys[raw] = hashed_key(raw, slugs[raw], chars)
    return keys
