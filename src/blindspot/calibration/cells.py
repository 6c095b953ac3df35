"""Calibration cells of groups of rows: the additive table a block of calibration numbers reads.

Every number of a calibration block but the confidence AUROC (:mod:`blindspot.calibration.auroc`)
is a function of per-cell totals, a cell being (equal-width bin, equal-mass bin, correct or not)
of one group of rows (all rows, a predicted class, a slice): the reliability bins of both binnings
(:meth:`CalibrationCells.bins`), the mean losses (:meth:`CalibrationCells.mean`) and the cell
bootstrap, which draws each cell's resampled total from its count, mean and spread
(:meth:`CalibrationCells.count_table`, the :class:`~blindspot.counts.CountTable` that
:func:`blindspot.calibration.bootstrap.cell_bootstrap` builds from the rows).

:class:`CalibrationCells` holds, per (group, cell), the count and integer sums of each per-row
value and of its square, so two batches' cells add up (``+``) to the cells of their rows together,
the same bits for any batches in any order. The sums are fixed point (:func:`blindspot.counts.
unit_sums`): each value has a known bound ``2^e`` (:data:`BOUNDS`: 1 for the confidence (and ``after``, a confidence after a recalibration map), the top-label
Brier score and the class probabilities, 2 for the Brier score, 64 for the log loss, which the
clipping of probabilities at machine epsilon keeps below 37), is truncated to a multiple of
``2^(e - 52)`` and summed as an integer; a square is the float square of the value, truncated to a
multiple of ``2^(2e - 52)``. Every float read from the cells is an exact integer total divided once;
the spread of a cell is ``sum x^2 - (sum x)^2 / n`` in exact rationals (clipped at 0: the truncated
square can sit a unit below the square of the truncated value). So numbers read here differ from the
one-batch code's float sums by the truncation (at most ``2^(e - 52)`` a row) and the summation order,
in their last bits (tested).

The equal-mass edges of each group come from all rows (:mod:`blindspot.calibration.quantiles`), so
they are known before any batch's cells are made: a pass for the edges, then a pass for the cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Mapping, Sequence

import numpy as np

from blindspot.calibration.binning import ReliabilityBins, assign_bins
from blindspot.calibration.bootstrap import pair_codes
from blindspot.calibration.summary import BlockTotals
from blindspot.counts import UNIT_BITS, CountTable, UnitHalves, unit_totals
from blindspot.exact_sums import ExactSums

# Each value's bound 2^e (the exponent): values are summed in fixed point as multiples of 2^(e - 52).
BOUNDS = {"confidence": 0, "brier_top_label": 0, "brier": 1, "log_loss": 6, "proba": 0, "after": 0}


@dataclass(frozen=True, eq=False)
class FixedSums:
    """Per code, a fixed-point sum in units of ``2^-scale``, held as :func:`blindspot.counts.unit_sums`' two
    int64 halves: batches merge by adding the arrays (exact while a code holds fewer than ``2^37``
    rows), and only the codes read become Python integers (:meth:`units`).

    Attributes
    ----------
    halves : ndarray of int64, shape (n_codes, 2)
    scale : int
    """

    halves: np.ndarray
    scale: int

    def __add__(self, other: "FixedSums") -> "FixedSums":
        if not isinstance(other, FixedSums) or other.scale != self.scale or other.halves.shape != self.halves.shape:
            return NotImplemented
        return FixedSums(self.halves + other.halves, self.scale)

    def __eq__(self, other) -> bool:  # the same halves are the same sums: each half is the sum of its rows'
        return (isinstance(other, FixedSums) and other.scale == self.scale
                and np.array_equal(other.halves, self.halves))

    __hash__ = None

    def units(self, codes: slice = slice(None)) -> tuple[int, ...]:
        """The exact sums of ``codes``, as Python integers in units of ``2^-scale``."""
        return tuple(unit_totals(self.halves[codes]))


class RowHalves:
    """Each row's value in fixed point (:class:`blindspot.counts.UnitHalves`, scaled by ``2^-exponent``), so that
    a row counted in many groups (all rows, its class, its slices) is scaled and split once, not once a group.

    :meth:`sums` of the rows at some positions equals :func:`blindspot.counts.unit_sums` of their values
    (scaled by ``2^-exponent``), bit for bit.

    Parameters
    ----------
    values : array_like of float, shape (n,)
        Each in ``[0, 2^exponent]``.
    exponent : int
    """

    def __init__(self, values, exponent: int):
        scaled = np.asarray(values, dtype=float) * 2.0 ** -exponent  # a power of two: exact
        if scaled.size and not (np.all(scaled >= 0.0) and np.all(scaled <= 1.0)):
            raise ValueError(f"values must lie in [0, 2^{exponent}]; got values outside it (or NaN).")
        self.halves = UnitHalves(scaled)
        self.scale = UNIT_BITS - exponent

    def sums(self, rows: np.ndarray, codes: np.ndarray, n_codes: int) -> FixedSums:
        """The fixed-point sum per code of the rows at ``rows`` (``codes[i]`` the code of ``rows[i]``)."""
        return FixedSums(self.halves.sums(codes, n_codes, rows), self.scale)


def _bound(name: str) -> int:
    if name not in BOUNDS:
        raise ValueError(f"no known bound for the value {name!r}: one of {sorted(BOUNDS)} expected")
    return BOUNDS[name]


@dataclass(frozen=True)
class CalibrationCells:
    """Counts and integer (fixed-point) sums per (group, cell) of some rows.

    Cell ``c`` of a group is ``(w * n_mass + m) * 2 + correct`` (:func:`~blindspot.calibration.
    bootstrap.pair_codes`), ``w`` the equal-width bin and ``m`` the group's equal-mass bin; column
    ``g * n_cells + c`` of the sums is cell ``c`` of group ``g``.

    Attributes
    ----------
    edges_width : ndarray of float, shape (n_width + 1,)
    edges_mass : tuple of ndarray of float, each shape (n_mass + 1,)
        Per group.
    counts : ndarray of int64, shape (G, n_cells)
    sums, squares : dict name -> FixedSums of G * n_cells codes
        Each value's fixed-point sum and sum of squares per cell (``"confidence"`` first; module docstring).
    class_counts : ndarray of int64, shape (G, K, n_width, 2), or None
        With probabilities: per group, class ``k`` and equal-width bin of ``p_k``, the rows
        whose true class is not ``k`` (``[..., 0]``) and is ``k`` (``[..., 1]``).
    class_sums : FixedSums of G * K * n_width codes, or None
        The fixed-point sum of ``p_k`` per (group, class, bin).
    """

    edges_width: np.ndarray
    edges_mass: tuple
    counts: np.ndarray
    sums: dict
    squares: dict
    class_counts: np.ndarray | None = None
    class_sums: FixedSums | None = None

    @property
    def n_width(self) -> int:
        return len(self.edges_width) - 1

    @property
    def n_mass(self) -> int:
        return len(self.edges_mass[0]) - 1

    @property
    def n_cells(self) -> int:
        return self.n_width * self.n_mass * 2

    @classmethod
    def of(cls, correct, confidence, values: Mapping[str, np.ndarray], members: Sequence[np.ndarray],
           edges_width, edges_mass: Sequence[np.ndarray], *, y_true=None, proba=None,
           mass_values=None) -> "CalibrationCells":
        """The cells of one batch of rows.

        Parameters
        ----------
        correct : array_like of bool, shape (n,)
        confidence : array_like of float in [0, 1], shape (n,)
        values : mapping name -> array of float, shape (n,)
            Per-row values summed per cell besides the confidence: the losses named in :data:`BOUNDS`.
        members : sequence of ndarray of bool, each shape (n,)
            Group ``g``'s rows.
        edges_width : array_like of float, shape (n_width + 1,)
        edges_mass : sequence of array_like of float, each shape (n_mass + 1,)
            Group ``g``'s equal-mass edges (of all its rows, not of this batch's).
        y_true : array_like of int, shape (n,), optional
        proba : array_like of float, shape (n, K), optional
            With both, the classwise bins are counted too (:meth:`classwise_bins`).
        mass_values : array_like of float, shape (n,), optional
            The values binned by ``edges_mass`` instead of the confidence: the recalibration
            what-if pairs the bin of the confidence before a map with the bin of the one after
            (``values["after"]``) in the same cells.
        """
        correct = np.asarray(correct, dtype=bool)
        confidence = np.asarray(confidence, dtype=float)
        edges_width = np.asarray(edges_width, dtype=float)
        edges_mass = tuple(np.asarray(e, dtype=float) for e in edges_mass)
        if not members or len(edges_mass) != len(members):
            raise ValueError(f"{len(members)} groups (at least one) but {len(edges_mass)} sets of equal-mass edges")
        n_width, n_mass = len(edges_width) - 1, len(edges_mass[0]) - 1
        n_cells = n_width * n_mass * 2
        bw = assign_bins(confidence, edges_width)
        by_mass = confidence if mass_values is None else np.asarray(mass_values, dtype=float)
        rows, codes = [], []
        for g, member in enumerate(members):
            at = np.flatnonzero(np.asarray(member, dtype=bool))
            bm = assign_bins(by_mass[at], edges_mass[g])
            codes.append(pair_codes(bw[at], bm, n_mass, correct[at]) + g * n_cells)
            rows.append(at)
        rows, codes = np.concatenate(rows), np.concatenate(codes)
        size = len(members) * n_cells
        counts = np.bincount(codes, minlength=size).astype(np.int64).reshape(len(members), n_cells)
        named = {"confidence": confidence, **values}
        sums, squares = {}, {}
        for name, v in named.items():
            v = np.asarray(v, dtype=float)
            sums[name] = RowHalves(v, _bound(name)).sums(rows, codes, size)
            squares[name] = RowHalves(v * v, 2 * _bound(name)).sums(rows, codes, size)
        if proba is None:
            return cls(edges_width, edges_mass, counts, sums, squares)
        class_counts, class_sums = _classwise(np.asarray(y_true), np.asarray(proba, dtype=float), members, edges_width)
        return cls(edges_width, edges_mass, counts, sums, squares, class_counts, class_sums)

    def __add__(self, other: "CalibrationCells") -> "CalibrationCells":
        """The cells of both batches' rows (the merge); both must share their edges."""
        if not isinstance(other, CalibrationCells):
            return NotImplemented
        same = (np.array_equal(self.edges_width, other.edges_width) and len(self.edges_mass) == len(other.edges_mass)
                and all(np.array_equal(a, b) for a, b in zip(self.edges_mass, other.edges_mass)))
        if not same or list(self.sums) != list(other.sums):
            raise ValueError("cannot merge calibration cells of other edges or other values")
        if (self.class_counts is None) != (other.class_counts is None):
            raise ValueError("cannot merge calibration cells with classwise bins and without")
        classes = {} if self.class_counts is None else {"class_counts": self.class_counts + other.class_counts,
                                                        "class_sums": self.class_sums + other.class_sums}
        return CalibrationCells(self.edges_width, self.edges_mass, self.counts + other.counts,
                                {k: self.sums[k] + other.sums[k] for k in self.sums},
                                {k: self.squares[k] + other.squares[k] for k in self.squares}, **classes)

    def _cells(self, g: int) -> slice:
        return slice(g * self.n_cells, (g + 1) * self.n_cells)

    def n(self, g: int) -> int:
        """Rows of group ``g``."""
        return int(self.counts[g].sum())

    def mean(self, g: int, name: str) -> float:
        """Group ``g``'s mean of ``name``: its exact total over its rows, rounded once; NaN without rows."""
        n = self.n(g)
        if not n:
            return float("nan")
        total = sum(self.sums[name].units(self._cells(g)))
        return float(Fraction(total, (1 << self.sums[name].scale) * n))

    def bins(self, g: int) -> tuple[ReliabilityBins, ReliabilityBins]:
        """Group ``g``'s equal-width and equal-mass reliability bins (:func:`~blindspot.calibration.binning.
        reliability_bins` of its rows, sums rounded once)."""
        count = self.counts[g].reshape(self.n_width, self.n_mass, 2)
        sums = self.sums["confidence"]
        # Python ints in an object array: summed over a binning's other axis and correctness, exactly
        conf = np.array(sums.units(self._cells(g)), dtype=object).reshape(self.n_width, self.n_mass, 2)
        out = []
        for axis, edges, strategy in ((1, self.edges_width, "uniform"), (0, self.edges_mass[g], "quantile")):
            sum_conf = ExactSums(tuple(conf.sum(axis=(axis, 2))), sums.scale).floats()
            n_bin = count.sum(axis=(axis, 2)).astype(float)
            right = count[..., 1].sum(axis=axis).astype(float)
            out.append(ReliabilityBins(edges=edges, count=n_bin, sum_confidence=sum_conf, sum_correct=right,
                                       strategy=strategy))
        return out[0], out[1]

    def classwise_bins(self, g: int) -> list[ReliabilityBins] | None:
        """Group ``g``'s classwise bins (:func:`~blindspot.calibration.metrics.classwise_bins`, equal width),
        sums rounded once; None without probabilities."""
        if self.class_counts is None:
            return None
        k_classes = self.class_counts.shape[1]
        out = []
        for k in range(k_classes):
            counts = self.class_counts[g, k]
            start = (g * k_classes + k) * self.n_width
            sums = ExactSums(self.class_sums.units(slice(start, start + self.n_width)), self.class_sums.scale).floats()
            out.append(ReliabilityBins(edges=self.edges_width, count=counts.sum(axis=1).astype(float),
                                       sum_confidence=sums, sum_correct=counts[:, 1].astype(float),
                                       strategy="uniform"))
        return out

    def totals(self, g: int, losses: Sequence[str], *, auroc: float = float("nan"),
               with_table: bool = True) -> BlockTotals:
        """Group ``g``'s :class:`~blindspot.calibration.summary.BlockTotals`: what
        :func:`~blindspot.calibration.summary.summary_of_totals` makes its block from.

        Parameters
        ----------
        g : int
        losses : sequence of str
            The loss names, in the block's order (``brier_top_label``, then ``brier`` and ``log_loss``).
        auroc : float
            The group's confidence AUROC (:mod:`blindspot.calibration.auroc`): not a function of cells.
        with_table : bool
            Whether the cell bootstrap's table is wanted (intervals are drawn).
        """
        n = self.n(g)
        width, mass = self.bins(g)
        right = int(self.counts[g].reshape(-1, 2)[:, 1].sum())
        table = self.count_table(g, ["confidence", *losses]) if with_table and n else None
        # right / n: two integers below 2^53, one correctly rounded division, as numpy's mean of a bool column
        return BlockTotals(n=n, accuracy=right / n if n else float("nan"), mean_confidence=self.mean(g, "confidence"),
                           bins=width, bins_equal_mass=mass, losses={name: self.mean(g, name) for name in losses},
                           classwise=self.classwise_bins(g), auroc=auroc, table=table)

    def count_table(self, g: int, names: Sequence[str]) -> CountTable:
        """Group ``g``'s occupied cells as the cell bootstrap's table: counts, totals and spreads of ``names``.

        The table :func:`~blindspot.calibration.bootstrap.cell_bootstrap` makes from the rows
        (occupied cells only, ``cell_names`` their codes), with each total and each spread
        ``sum x^2 - (sum x)^2 / n`` computed exactly from the integer sums and rounded once.
        """
        counts = self.counts[g]
        occupied = np.flatnonzero(counts)
        totals, m2 = {}, {}
        for name in names:
            s, q = self.sums[name], self.squares[name]
            units = s.units(self._cells(g))
            sq = q.units(self._cells(g))
            tot, spread = [], []
            for c in occupied:
                total = Fraction(units[c], 1 << s.scale)
                tot.append(float(total))
                spread.append(float(max(Fraction(sq[c], 1 << q.scale) - total * total / int(counts[c]), 0)))
            totals[name] = np.array(tot)[None, :]
            m2[name] = np.array(spread)[None, :]
        return CountTable(counts[occupied][None, :], totals, m2, None, occupied)


def _classwise(y_true: np.ndarray, proba: np.ndarray, members: Sequence[np.ndarray], edges_width: np.ndarray):
    """Per (group, class, equal-width bin of ``p_k``): rows by whether ``y == k``, and the sum of ``p_k``."""
    k_classes, n_width = proba.shape[1], len(edges_width) - 1
    size = len(members) * k_classes * n_width
    counts = np.zeros(size * 2, dtype=np.int64)
    # Each class's bins and fixed-point values once per row; each group then counts its rows' codes.
    bins = [assign_bins(proba[:, k], edges_width) for k in range(k_classes)]
    halves = [RowHalves(proba[:, k], BOUNDS["proba"]) for k in range(k_classes)]
    sums = FixedSums(np.zeros((size, 2), dtype=np.int64), halves[0].scale)
    for g, member in enumerate(members):
        at = np.flatnonzero(np.asarray(member, dtype=bool))
        for k in range(k_classes):
            code = (g * k_classes + k) * n_width + bins[k][at]
            counts += np.bincount(code * 2 + (y_true[at] == k), minlength=size * 2)
            sums = sums + halves[k].sums(at, code, size)
    return counts.reshape(len(members), k_classes, n_width, 2), sums

