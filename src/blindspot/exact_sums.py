"""Exact, mergeable sums of float64 columns (:class:`ExactSums`).

The compare stage sums per-row losses (Brier, log loss and their paired differences)
partition by partition, on Dask workers or over batches, and merges the partial sums.
A float sum depends on the order of its terms: partial sums merged in another order
differ from a one-pass sum in their last bits, and the local and Dask engines must write
byte-identical metrics. An exact sum has no order: it is associative and commutative, so
any split merged in any order gives the same result, rounded once at the end.

Representation: every finite double is an integer multiple of ``2**-1074`` (the smallest
subnormal), so a sum of doubles is an integer number of those units, held exactly as a
Python int per column (``units``, with ``scale = 1074``: the value is
``units / 2**scale``). Squares of doubles are integer multiples of ``2**-2148``, so
:func:`exact_square_sums` keeps ``scale = 2148``; the exact square of a value below about
``2**-537`` is not a multiple of ``2**-1074``.

How the sum is built without a Python loop over rows: a double is ``K * 2**s`` units with
an integer ``|K| < 2**53`` and a shift ``s`` read from its bits. ``K`` is cut into limbs of
27 bits; :func:`numpy.bincount` adds the limbs into one bin per (column, power of two),
in float64, exactly while every bin's running total stays below ``2**53`` (the chunking
bounds it); each bin's integer total is then shifted into place as a Python int.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import ArrayLike

SCALE = 1074  # a sum's unit is 2**-SCALE, the smallest subnormal double
SQUARE_SCALE = 2 * SCALE  # a square's unit: the square of the smallest subnormal
_LIMB_BITS = 27
_LIMB_MASK = (1 << _LIMB_BITS) - 1
_MANTISSA_BITS = 52
_MANTISSA_MASK = (1 << _MANTISSA_BITS) - 1
_EXPONENT_MASK = 0x7FF
# Cells (rows x columns) read per chunk: bounds the temporaries (a few arrays of 2 MB; at 2^20 cells a
# million-row sum took about 90 MiB more, no faster) and keeps every bincount total exact (see _chunk_rows).
_CHUNK_CELLS = 1 << 18


@dataclass(frozen=True)
class ExactSums:
    """The exact sums of some float64 columns, one Python int per column.

    Parameters
    ----------
    units : tuple of int, length m
        Each column's sum counted in units of ``2**-scale``.
    scale : int
        The unit's exponent: column ``j`` sums to ``units[j] / 2**scale`` exactly.
        :data:`SCALE` for sums of values, :data:`SQUARE_SCALE` for sums of squares.
    """

    units: tuple[int, ...]
    scale: int = SCALE

    @classmethod
    def zeros(cls, m: int, scale: int = SCALE) -> "ExactSums":
        """The sums of no rows over ``m`` columns: the identity of ``+``."""
        return cls((0,) * m, scale)

    def __add__(self, other: "ExactSums") -> "ExactSums":
        """The exact sums of both parts' rows, column by column (the merge).

        Raises
        ------
        ValueError
            When the two parts do not have the same number of columns.
        """
        if not isinstance(other, ExactSums):
            return NotImplemented
        if len(self.units) != len(other.units):
            raise ValueError(f"cannot merge sums of {len(self.units)} columns with sums of {len(other.units)}")
        scale = max(self.scale, other.scale)
        # a finer unit holds the coarser exactly: multiply by the power of two between them
        a, b = self.scale_to(scale), other.scale_to(scale)
        return ExactSums(tuple(x + y for x, y in zip(a, b)), scale)

    def scale_to(self, scale: int) -> tuple[int, ...]:
        """The units counted in ``2**-scale`` instead, for ``scale >= self.scale``."""
        if scale < self.scale:
            raise ValueError(f"units of 2**-{self.scale} are not whole multiples of 2**-{scale}")
        return tuple(u << (scale - self.scale) for u in self.units)

    def fraction(self, j: int) -> Fraction:
        """The exact value of column ``j``'s sum."""
        return Fraction(self.units[j], 1 << self.scale)

    def floats(self) -> np.ndarray:
        """Each column's sum correctly rounded to the nearest double, shape (m,) float64.

        Rounding is to nearest, ties to even (CPython's int true division); a sum beyond
        the largest double rounds to an infinity of its sign, as IEEE 754 rounds. An exact
        zero is ``+0.0``.
        """
        return np.array([_round(u, self.scale) for u in self.units], dtype=np.float64)


def _round(units: int, scale: int) -> float:
    """``units / 2**scale`` correctly rounded to a double (infinite past the largest)."""
    try:
        return units / (1 << scale)
    except OverflowError:
        return math.inf if units > 0 else -math.inf


def _columns(values: ArrayLike, what: str) -> np.ndarray:
    """``values`` as a float64 (n, m) array, a 1-D input as one column; non-finite refused."""
    x = np.asarray(values, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"{what}: values of shape (n,) or (n, m) expected, got shape {x.shape}")
    bad = x.size - int(np.count_nonzero(np.isfinite(x)))
    if bad:
        raise ValueError(f"{what}: {bad} of {x.size} values are not finite (NaN or infinite); "
                         "only finite values have an exact sum")
    return np.ascontiguousarray(x)


def _integer_parts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each double as ``sign * M * 2**s`` units of ``2**-1074``, from its bits.

    Parameters
    ----------
    x : ndarray, float64, any shape, finite

    Returns
    -------
    sign : ndarray, int64, shape of x
        0 for a positive value (or +0.0), -1 for a negative one (or -0.0).
    mantissa : ndarray, int64, shape of x
        ``M``, ``0 <= M < 2**53``: the fraction bits, with the implicit leading bit of a
        normal double.
    shift : ndarray, int64, shape of x
        ``s``, ``0 <= s <= 2045``: the biased exponent minus one for a normal double, 0 for
        a subnormal (whose biased exponent 0 stands for the same power as 1).
    """
    bits = x.view(np.int64)
    sign = bits >> 63
    biased = (bits >> _MANTISSA_BITS) & _EXPONENT_MASK
    normal = (biased != 0).astype(np.int64)
    mantissa = (bits & _MANTISSA_MASK) | (normal << _MANTISSA_BITS)
    return sign, mantissa, biased - normal


def _chunk_rows(m: int, pieces: int) -> int:
    """Rows per chunk for ``m`` columns, each row adding ``pieces`` integers below 2**54.

    An integer below ``2**54`` in magnitude is two limbs below ``2**27`` each, and a bin
    (a column and a power of two) takes at most ``2 * pieces`` limbs from a row (the low
    limb of one piece and high limbs shifted onto the same power). bincount adds in
    float64, exact while every running total is an integer below ``2**53``:
    ``rows * 2 * pieces * 2**27 <= 2**53``, i.e. ``rows <= 2**25 / pieces``. The memory
    bound (:data:`_CHUNK_CELLS`) is tighter for any number of pieces used here.
    """
    exact_bound = (1 << (53 - 1 - _LIMB_BITS)) // pieces
    return max(1, min(exact_bound, _CHUNK_CELLS // max(m, 1)))


def _sum_pieces(pieces: list[tuple[np.ndarray, np.ndarray]]) -> list[int]:
    """Per column, the exact sum of ``K * 2**s`` over rows and pieces, as Python ints.

    Parameters
    ----------
    pieces : list of (K, s)
        ``K``: int64, shape (r, m), ``|K| < 2**54``; ``s``: int64, shape (r, m), ``s >= 0``.

    Returns
    -------
    list of int, length m
    """
    m = pieces[0][0].shape[1]
    low = min(int(s.min()) for _, s in pieces)
    width = max(int(s.max()) for _, s in pieces) - low + _LIMB_BITS + 1  # bins of one column
    offsets = np.arange(m, dtype=np.int64) * width
    totals = np.zeros(m * width)
    for k, s in pieces:
        where = (s - low + offsets).ravel()
        # K = high * 2**27 + low limb, the low limb in [0, 2**27) and |high| < 2**27
        totals += np.bincount(where, weights=(k & _LIMB_MASK).ravel(), minlength=m * width)
        totals += np.bincount(where + _LIMB_BITS, weights=(k >> _LIMB_BITS).ravel(), minlength=m * width)
    exact = totals.astype(np.int64).reshape(m, width)
    sums = []
    for column in exact:
        (powers,) = np.nonzero(column)
        sums.append(sum(int(column[p]) << int(p + low) for p in powers))
    return sums


def _chunked(x: np.ndarray, pieces_of, n_pieces: int, scale: int) -> ExactSums:
    """The exact sums of ``x``'s columns, adding ``pieces_of(chunk)`` chunk by chunk."""
    n, m = x.shape
    if x.size == 0:
        return ExactSums.zeros(m, scale)
    total = [0] * m
    step = _chunk_rows(m, n_pieces)
    for start in range(0, n, step):
        total = [t + c for t, c in zip(total, _sum_pieces(pieces_of(x[start:start + step])))]
    return ExactSums(tuple(total), scale)


def _value_pieces(x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """A chunk of values as one piece: the signed mantissa ``K = ±M`` at shift ``s``."""
    sign, mantissa, shift = _integer_parts(x)
    return [((mantissa ^ sign) - sign, shift)]  # two's complement negation where sign == -1


def _square_pieces(x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """A chunk of values as three pieces adding up to the exact squares, in units of 2**-2148.

    ``x = M * 2**(s - 1074)``, so ``x**2 = M**2 * 2**(2 s - 2148)``. ``M**2`` has up to 106
    bits; with ``M = a * 2**27 + b`` (``a < 2**26``, ``b < 2**27``) it is
    ``a**2 * 2**54 + 2 a b * 2**27 + b**2``, three int64 products below ``2**54``.
    """
    _, mantissa, shift = _integer_parts(x)
    a, b = mantissa >> _LIMB_BITS, mantissa & _LIMB_MASK
    twice = 2 * shift
    return [(a * a, twice + 2 * _LIMB_BITS), (2 * a * b, twice + _LIMB_BITS), (b * b, twice)]


def exact_sums(values: ArrayLike) -> ExactSums:
    """The exact sum of each column of finite doubles.

    Parameters
    ----------
    values : array_like, float, shape (n,) or (n, m)
        One column, or ``m`` columns; every value finite. ``n`` may be 0.

    Returns
    -------
    ExactSums
        ``m`` sums (1 for a 1-D input) in units of ``2**-1074``; the same whatever the
        order of the rows or how they are split and merged.

    Raises
    ------
    ValueError
        When a value is NaN or infinite (saying how many), or the shape is not 1-D or 2-D.
    """
    x = _columns(values, "exact_sums")
    return _chunked(x, _value_pieces, 1, SCALE)


def exact_square_sums(values: ArrayLike) -> ExactSums:
    """The exact sum of each column's squares (the exact ``x**2``, not the rounded ``x * x``).

    For the paired t test's variance, where ``sum x**2 - (sum x)**2 / n`` cancels and any
    rounding would show.

    Parameters
    ----------
    values : array_like, float, shape (n,) or (n, m)
        Finite values whose square is a finite double (``|x|`` below about ``1.34e154``).

    Returns
    -------
    ExactSums
        ``m`` sums in units of ``2**-2148`` (``scale`` :data:`SQUARE_SCALE`), exact even
        for subnormal values.

    Raises
    ------
    ValueError
        When a value is NaN or infinite, or its square overflows a double.
    """
    x = _columns(values, "exact_square_sums")
    with np.errstate(over="ignore"):
        overflow = int(np.count_nonzero(np.isinf(x * x)))  # rounding is monotone: inf iff the exact square overflows
    if overflow:
        raise ValueError(f"exact_square_sums: {overflow} of {x.size} values have a square beyond the largest "
                         "double (|x| > 1.34e154)")
    return _chunked(x, _square_pieces, 3, SQUARE_SCALE)
