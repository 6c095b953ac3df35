"""One count table behind every count blindspot writes.

Almost every number of the audit is a function of counts of rows per *(group, cell)*:
a confusion matrix is (true class x predicted class), a slice's error and per-class
rates are (slice x (true class, correct)), the calibration bootstrap's totals are
(one group x (bin, bin, correct)), the confidently-incorrect counts are (group x
(confidence band, wrong)), the paired comparison is (one group x (true, baseline,
current, flags)). :class:`CountTable` holds such a table: counts, optional per-cell sums
of per-row values and their squared deviations, and the two operations every use needs:

- :meth:`CountTable.merge`: the table of two disjoint sets of rows is the sum of their
  tables. Counts are integers, so a table built on two halves of the rows and merged
  equals the table built on all of them exactly; float sums are added in a fixed order
  (``self`` then ``other``), so a merge is deterministic (equal to the one-pass sums up to
  rounding). This is what lets a table be built per partition and reduced.
- :meth:`CountTable.resample`: bootstrap replicates of the whole table, a multinomial
  draw of its cells (:func:`blindspot.stats.resample_counts`: the row bootstrap's
  distribution of the table) and, for the sums, the normal draw of
  :mod:`blindspot.calibration.bootstrap`. The caller may pass its own draw function, so
  every caller keeps its random draws exactly as they were.

A row belongs to one cell; it belongs to one group (:meth:`CountTable.from_codes`) or to
any number of them (:meth:`CountTable.from_membership`: overlapping slices).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

from blindspot.bits import BitColumns
from blindspot.stats import resample_counts

BLOCK_ROWS = 1 << 16  # rows per matrix product in from_membership: memory stays bounded at any size


def check_codes(name: str, codes: np.ndarray, size: int) -> None:
    """Raise ValueError naming ``name`` when ``codes`` hold a value outside ``[0, size)``."""
    if codes.size and (codes.min() < 0 or codes.max() >= size):
        raise ValueError(f"{name} holds codes outside [0, {size}): got min {codes.min()}, max {codes.max()}.")


@dataclass(frozen=True, eq=False)
class CountTable:
    """Rows counted per (group, cell), with optional per-cell sums of per-row values.

    Attributes
    ----------
    counts : ndarray of int64, shape (G, C)
        Rows in each (group, cell).
    sums : dict of str to ndarray of float64, shape (G, C)
        Per-cell totals of per-row values, in the order they were given.
    m2 : dict of str to ndarray of float64, shape (G, C)
        Per-cell sums of squared deviations from the cell's mean, for the names of
        ``sums`` whose spread is kept (``moments=True``); what :meth:`resample` needs to
        draw resampled sums.
    group_names, cell_names : sequence, optional
        Labels of the groups and cells. Cells labelled by integer keys
        (:meth:`from_keys`) merge by the union of their keys.
    """

    counts: np.ndarray
    sums: Mapping[str, np.ndarray] = field(default_factory=dict)
    m2: Mapping[str, np.ndarray] = field(default_factory=dict)
    group_names: Sequence | None = None
    cell_names: Sequence | None = None

    @classmethod
    def from_codes(cls, group, cell, n_groups: int, n_cells: int, *, sums: Mapping[str, np.ndarray] | None = None,
                   moments: bool = False, group_names=None, cell_names=None) -> "CountTable":
        """The table of rows with one group and one cell each (one ``bincount``).

        Parameters
        ----------
        group, cell : array_like of int, shape (n,)
            Group in ``[0, n_groups)`` and cell in ``[0, n_cells)`` of each row.
        n_groups, n_cells : int
        sums : mapping of str to array_like of float, shape (n,), optional
            Per-row values whose per-cell totals are kept.
        moments : bool
            Also keep each value's per-cell sum of squared deviations (two passes: the
            deviations from the cell's mean, which a sum of squares would lose to
            cancellation when the values of a cell are alike).
        group_names, cell_names : sequence, optional

        Returns
        -------
        CountTable

        Raises
        ------
        ValueError
            If the arrays differ in length or hold a code out of range.
        """
        group = np.asarray(group, dtype=np.int64)
        cell = np.asarray(cell, dtype=np.int64)
        if group.shape != cell.shape:
            raise ValueError(f"group and cell differ in shape: {group.shape} vs {cell.shape}.")
        check_codes("group", group, n_groups)
        check_codes("cell", cell, n_cells)
        flat = group * n_cells + cell
        size, shape = n_groups * n_cells, (n_groups, n_cells)
        counts = np.bincount(flat, minlength=size).reshape(shape)
        totals, m2 = {}, {}
        for name, v in (sums or {}).items():
            v = np.asarray(v, dtype=float)
            totals[name] = np.bincount(flat, v, minlength=size).reshape(shape)
            if moments:
                mu = _mean(totals[name], counts).ravel()
                m2[name] = np.bincount(flat, (v - mu[flat]) ** 2, minlength=size).reshape(shape)
        return cls(counts, totals, m2, group_names, cell_names)

    @classmethod
    def from_keys(cls, keys, *, sums: Mapping[str, np.ndarray] | None = None, moments: bool = False) -> "CountTable":
        """One group, one cell per distinct integer key (ascending): the occupied cells only.

        For tables whose dense form would be mostly empty (the paired comparison's
        ``4 K^3`` cells) or whose keys are any integers. ``cell_names`` holds the keys.

        Parameters
        ----------
        keys : array_like of int, shape (n,)
        sums, moments
            As in :meth:`from_codes`.

        Returns
        -------
        CountTable, shape (1, number of distinct keys)
        """
        keys = np.asarray(keys)
        codes, inverse = np.unique(keys, return_inverse=True)
        return cls.from_codes(np.zeros(keys.size, np.int64), inverse.ravel(), 1, codes.size, sums=sums,
                              moments=moments, cell_names=codes)

    @classmethod
    def from_membership(cls, matrix, cell, n_cells: int, *, parents=None, block_rows: int = BLOCK_ROWS,
                        group_names=None, cell_names=None) -> "CountTable":
        """The table of overlapping groups: a row counts in every group it is a member of.

        Rows are grouped by cell; within a cell the column sums of its rows count every
        group at once. With ``parents``, the groups are every (parent conjunction AND
        column) pair, counted by one matrix product ``P_c.T @ M_c`` per cell and block of
        its rows: ``n * n_parents * n_columns`` flops, in float32 (exact: a block's counts
        stay far below 2**24). A block is unpacked from a bit-packed matrix by its rows'
        positions, so the whole matrix never is. Counts are integers, so the order of the
        blocks is immaterial: this is the per-partition map and its merge, in one process.

        Parameters
        ----------
        matrix : array_like of bool, shape (n, P), or :class:`blindspot.bits.BitColumns`
            Membership of each row in each column.
        cell : array_like of int, shape (n,)
            Cell of each row, in ``[0, n_cells)``.
        n_cells : int
        parents : ndarray of int, shape (Q, d), optional
            Each row lists the columns of one parent conjunction; the groups are then the
            Q * P pairs, parent-major (group ``q * P + p``).
        block_rows : int
            Rows per matrix product.
        group_names, cell_names : sequence, optional

        Returns
        -------
        CountTable, shape (P, n_cells), or (Q * P, n_cells) with ``parents``
        """
        packed = isinstance(matrix, BitColumns)
        if not packed:
            matrix = np.asarray(matrix, dtype=bool)
        cell = np.asarray(cell)
        if cell.dtype.kind not in "iu":
            cell = cell.astype(np.int64)
        check_codes("cell", cell, n_cells)
        n, p = matrix.shape
        n_parents = 1 if parents is None else len(parents)
        out = np.zeros((n_parents, p, n_cells), dtype=np.int64)
        for c in range(n_cells):  # a loop over cells and blocks of their rows, one column sum or product each
            positions = np.flatnonzero(cell == c)
            for lo in range(0, positions.size, block_rows):
                at = positions[lo:lo + block_rows]
                rows = matrix.rows(at) if packed else matrix[at]
                if parents is None:
                    out[0, :, c] += rows.sum(axis=0)
                else:
                    pb = np.logical_and.reduce(rows[:, parents], axis=2).astype(np.float32)
                    out[:, :, c] += np.rint(pb.T @ rows.astype(np.float32)).astype(np.int64)
        return cls(out.reshape(-1, n_cells), {}, {}, group_names, cell_names)

    @property
    def shape(self) -> tuple[int, int]:
        """(G, C)."""
        return self.counts.shape

    @property
    def rows(self) -> np.ndarray:
        """Rows of each group, shape (G,), int64."""
        return self.counts.sum(axis=1)

    def rate(self, cells) -> np.ndarray:
        """Share of each group's rows that fall in ``cells`` (indices or a mask of C), shape (G,); NaN when empty."""
        hit = self.counts[:, cells].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return hit / self.rows

    def mean(self, name: str) -> np.ndarray:
        """Per-cell mean of a summed value, shape (G, C); 0 in an empty cell."""
        return _mean(self.sums[name], self.counts)

    def merge(self, other: "CountTable") -> "CountTable":
        """The table of the rows of both (disjoint rows, same groups and cells).

        Counts add exactly; sums add ``self + other``; squared deviations combine by the
        parallel-variance rule. Tables whose cells are integer keys (:meth:`from_keys`)
        are first spread over the union of their keys.

        Raises
        ------
        ValueError
            If the groups or cells do not match, or the two keep different sums.
        """
        a, b = _aligned(self, other)
        if a.counts.shape != b.counts.shape or not _same(a.group_names, b.group_names):
            raise ValueError(f"tables of different groups or cells cannot merge: {a.shape} vs {b.shape}.")
        if list(a.sums) != list(b.sums) or list(a.m2) != list(b.m2):
            raise ValueError(f"tables keep different sums: {list(a.sums)} vs {list(b.sums)}.")
        counts = a.counts + b.counts
        m2 = {}
        for name in a.m2:
            delta = a.mean(name) - b.mean(name)
            with np.errstate(invalid="ignore", divide="ignore"):
                cross = np.where(counts > 0, delta ** 2 * a.counts * b.counts / np.maximum(counts, 1), 0.0)
            m2[name] = a.m2[name] + b.m2[name] + cross
        return CountTable(counts, {k: a.sums[k] + b.sums[k] for k in a.sums}, m2, a.group_names, a.cell_names)

    def resample(self, rng: np.random.Generator, n_boot: int,
                 draw: Callable[[np.ndarray, int, np.random.Generator], np.ndarray] = resample_counts
                 ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Bootstrap replicates of the whole table.

        The counts are ``draw(counts, n_boot, rng)``, by default a multinomial draw of
        every cell of the table at once (:func:`blindspot.stats.resample_counts`, the row
        bootstrap's distribution of the table: each replicate keeps the total). Then, for
        each value with a spread (``m2``), in order, a cell's resampled total given its
        resampled count ``m*`` is drawn from the normal with the mean ``m* mu`` and the
        variance ``m* sigma^2`` of a sum of ``m*`` of its rows (one ``standard_normal``
        array of shape (n_boot, G * C) per value).

        Parameters
        ----------
        rng : numpy.random.Generator
        n_boot : int
        draw : callable, optional
            ``draw(counts (G, C), n_boot, rng) -> (n_boot, G, C)``.

        Returns
        -------
        counts : ndarray, shape (n_boot, G, C)
        sums : dict of str to ndarray of float, shape (n_boot, G, C)
            One entry per value of ``m2``.
        """
        reps = draw(self.counts, n_boot, rng)
        out = {}
        if self.m2:
            counts = reps.astype(float)
            for name in self.m2:
                mu, var = self.mean(name), _mean(self.m2[name], self.counts)
                z = rng.standard_normal((n_boot, self.counts.size)).reshape(counts.shape)
                out[name] = counts * mu + np.sqrt(counts * var) * z
        return reps, out


def _mean(total: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``total / counts`` per cell, 0 where a cell is empty."""
    return np.divide(total, counts, out=np.zeros(np.shape(total)), where=counts > 0)


def _same(x, y) -> bool:
    if x is None or y is None:
        return x is None and y is None
    return len(x) == len(y) and bool(np.all(np.asarray(x, dtype=object) == np.asarray(y, dtype=object)))


def _aligned(a: CountTable, b: CountTable) -> tuple[CountTable, CountTable]:
    """Both tables over the same cells: integer-keyed cells spread over the union of the keys."""
    if _same(a.cell_names, b.cell_names):
        return a, b
    keyed = all(t.cell_names is not None and np.asarray(t.cell_names).dtype.kind in "iu" for t in (a, b))
    if not keyed:
        raise ValueError("tables of different cells cannot merge (only integer-keyed cells are aligned).")
    union = np.union1d(a.cell_names, b.cell_names)
    return _spread(a, union), _spread(b, union)


def _spread(t: CountTable, keys: np.ndarray) -> CountTable:
    """``t`` over the cells ``keys`` (a superset of its own), zeros in the new cells."""
    where = np.searchsorted(keys, np.asarray(t.cell_names))

    def wide(x, dtype):
        out = np.zeros((x.shape[0], keys.size), dtype=dtype)
        out[:, where] = x
        return out

    return CountTable(wide(t.counts, np.int64), {k: wide(v, float) for k, v in t.sums.items()},
                      {k: wide(v, float) for k, v in t.m2.items()}, t.group_names, keys)


# --------------------------------------------------------------------------- exact sums of unit values

#: Fraction bits of :func:`unit_sums`' fixed point: a value in [0, 1] is kept to 2^-52, the spacing of
#: float64 at 1, so what is dropped is below the rounding any float sum of such values already makes.
UNIT_BITS = 52
HALF_BITS = UNIT_BITS // 2
UNIT_CHUNK = 1 << 26  # rows summed by one bincount: 2^26 halves of under 2^26 each stay exact in a float64


def unit_sums(values, groups, n_groups: int) -> np.ndarray:
    """Per-group sums of values in [0, 1] (probabilities, confidences), in fixed point: exact and mergeable.

    A float sum depends on the order of its terms, so a sum built per partition and merged
    differs in its last bits from the one-pass sum, and so does the sum of the same rows in
    another order. Here each value is truncated to a multiple of ``2^-52`` and split into
    two 26-bit integer halves; the halves are summed as integers, which is exact and
    associative: any partitioning, any row order and any merge order give the same table,
    bit for bit. Two int64 halves hold up to ``2^37`` rows a group.

    Parameters
    ----------
    values : array_like of float, shape (n,)
        Each in [0, 1] (checked).
    groups : array_like of int, shape (n,)
        Group of each row, in ``range(n_groups)``.
    n_groups : int

    Returns
    -------
    ndarray of int64, shape (n_groups, 2)
        Each group's sum of the high and of the low halves (add two tables to merge them;
        :func:`unit_means` reads them).
    """
    values = np.asarray(values, dtype=np.float64)
    groups = np.asarray(groups, dtype=np.int64)
    if values.size and not (np.all(values >= 0.0) and np.all(values <= 1.0)):
        raise ValueError("unit_sums takes values in [0, 1]; got values outside it (or NaN).")
    check_codes("groups", groups, n_groups)
    out = np.zeros((n_groups, 2), dtype=np.int64)
    for lo in range(0, values.size, UNIT_CHUNK):  # the halves of one chunk at a time
        out += UnitHalves(values[lo:lo + UNIT_CHUNK]).sums(groups[lo:lo + UNIT_CHUNK], n_groups)
    return out


class UnitHalves:
    """Values in [0, 1] in :func:`unit_sums`' fixed point, each split once into its two 26-bit halves.

    A caller that adds each row into several groups (the calibration cells: all rows, the row's
    class, its slices) splits every row once and gathers the halves for each group (``rows``).

    Parameters
    ----------
    values : array_like of float, shape (n,)
        Each in [0, 1] (not checked here: :func:`unit_sums` and its callers check).
    """

    def __init__(self, values):
        fixed = np.floor(np.asarray(values, dtype=np.float64) * 2.0 ** UNIT_BITS).astype(np.int64)  # a power of two
        self.high = (fixed >> HALF_BITS).astype(np.float64)
        self.low = (fixed & ((1 << HALF_BITS) - 1)).astype(np.float64)

    def sums(self, groups, n_groups: int, rows=None) -> np.ndarray:
        """Per group, the sums of the high and of the low halves, int64 shape (n_groups, 2), as :func:`unit_sums`.

        ``groups[i]`` is the group of row ``rows[i]`` (default: of row ``i``); a row may be given many times.
        """
        groups = np.asarray(groups, dtype=np.int64)
        out = np.zeros((n_groups, 2), dtype=np.int64)
        for lo in range(0, groups.size, UNIT_CHUNK):
            part = groups[lo:lo + UNIT_CHUNK]
            at = slice(lo, lo + UNIT_CHUNK) if rows is None else rows[lo:lo + UNIT_CHUNK]
            for half, v in ((0, self.high), (1, self.low)):
                # bincount adds in float64, exact while a group's total stays below 2^53 (a chunk's does)
                out[:, half] += np.bincount(part, weights=v[at], minlength=n_groups).astype(np.int64)
        return out


def unit_means(sums: np.ndarray, counts) -> np.ndarray:
    """Per-group means from :func:`unit_sums`, shape (n_groups,); NaN where a group has no row.

    The sum is rebuilt exactly as a Python integer and divided once, so the mean is the same
    float whatever the rows' order or partitioning.
    """
    counts = np.asarray(counts, dtype=np.int64)
    out = np.full(counts.shape[0], np.nan)
    for g, total in enumerate(unit_totals(sums)):
        if counts[g]:
            out[g] = total / (int(counts[g]) << UNIT_BITS)  # Python's int / int: one correctly rounded division
    return out


def unit_totals(sums: np.ndarray) -> list[int]:
    """Each group's fixed-point sum from :func:`unit_sums`, exactly, as a Python int in units of ``2^-52``."""
    return [(high << HALF_BITS) + low for high, low in np.asarray(sums, dtype=np.int64).tolist()]
