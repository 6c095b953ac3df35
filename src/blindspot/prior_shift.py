"""Prior (label) shift between a baseline's data and the current data, and what a prior correction would do.

A model's probabilities ``p(y|x)`` carry the class mix of the data it was trained on. When
the deployment data hold the classes in other shares (prior shift: ``p(y)`` moves while
``p(x|y)`` stays), its posteriors are off by a factor per class, and a majority class of
training keeps "winning" reviews that now belong to another class. This module answers
three questions, each only when it can be measured:

1. **Did the class mix move?** (:func:`label_shift_test`) The gold-label counts of the
   baseline file and of the current file form a 2 x K table; a Pearson chi-square test of
   homogeneity (K - 1 degrees of freedom, classes absent from both files left out) says
   whether the shares differ beyond sampling noise. When the two files hold the same
   reviews (the bundled v1/v2 pair) the shares are identical, the statistic is 0 and
   p = 1: no shift. The test treats the two files as independent samples; for files
   sharing reviews it is conservative (the shared rows make the shares agree more than
   independent samples would).
2. **What is the deployment mix, without labels?** (:func:`em_prior`) The EM procedure of
   Saerens, Latinne and Decaestecker (2002, "Adjusting the outputs of a classifier to new
   a priori probabilities: a simple procedure", Neural Computation 14(1)): from the
   training prior ``pi_train``, repeat ``w = pi_new / pi_train``,
   ``p'(y|x) = p(y|x) w_y / sum_j p(j|x) w_j``, ``pi_new = mean_x p'(y|x)`` to a fixed
   point. Only the predicted probabilities of the current file are used.
   The training prior is **the baseline file's gold-label shares**: it stands for the
   data the model was fitted or validated on. The mean of the current predicted
   probabilities is *not* a training prior (it is the model's view of the deployment
   data, the very thing under test), so without a baseline nothing is estimated: "not
   measurable: no baseline to give the training class prior". The procedure assumes the
   probabilities are calibrated on the training data; a miscalibrated model biases the
   estimate, which is why the effect is judged by the what-if below, not taken on trust.
3. **What would a prior correction do?** (:func:`prior_shift_parts`) Cross-fitted:
   each row falls in one of k folds by a seeded hash of its id alone (:func:`fold_hashes`,
   :func:`hash_fold`: the hash's top 32 bits scaled to ``[0, k)``, so a row's fold follows
   its id, not its position nor the other rows; the folds are a multinomial split, equal
   only on average, and on tiny data a fold may be empty). The prior applied to a fold's
   rows is estimated by EM on the *other* folds' rows only, so no row's own probabilities
   decide its correction. A row's prediction changes only where the adjusted posteriors'
   argmax differs from the unadjusted argmax (elsewhere the file's own prediction is kept, so
   with no shift the what-if is the file itself). Accuracy and each class's recall are
   given before and after with Wilson intervals, and the paired change with an exact
   McNemar p value and a percentile interval from a bootstrap of the joint
   (true, before, after) count table (the row bootstrap, drawn over occupied cells).
   Each is an :class:`~blindspot.results.Estimate` naming its interval's method.

**Per batch, merged exactly.** No step holds a value per row of the whole file: the rows
come as batches (:func:`prior_part`: a batch's normalised probabilities, labels,
predictions and folds, made where the batch was read) and every step is one map over
them (:class:`blindspot.engine.batches.LocalParts`, or its Dask twin) whose results are
added. An EM step needs, per class, the sum over rows of the adjusted posteriors
``p_ij w_j / (p_i . w)``: each is in [0, 1] and is kept as the integer
``floor(q 2^40)`` (:data:`FIXED_BITS`), summed as integers, and the merged sum divided once.
Integer sums are exact and do not depend on the order of their terms, and each row's value
is its own (the products and sums over a row's classes are taken column by column, in class
order, whatever the memory layout), so the full-data EM and the k fold EMs, run in
lockstep, give the same priors bit for bit however the rows are split into batches and in
whatever order; the what-if's (true, before, after) table is a sum of per-batch counts.
Numbers moved once with this scheme (hash-fraction folds instead of folds dealt by a global
rank of the hashes; fixed-point sums instead of float sums): the truncation moves a mean by
less than ``2^-40`` (about 1e-12), far below the EM's tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.special import chdtrc

from blindspot.engine.batches import LocalParts
from blindspot.metrics import WILSON
from blindspot.results import Estimate
from blindspot.samples import row_hash
from blindspot.seeding import named_rng
from blindspot.stats import percentile_interval, wilson_interval

NO_BASELINE_REASON = "not measurable: no baseline to give the training class prior"
NO_PROBABILITIES_REASON = "not measurable: the current predictions have no class probabilities"
TEST_METHOD = ("Pearson chi-square test of homogeneity on the 2 x K table of gold-label counts "
               "(baseline file, current file), K - 1 degrees of freedom")
EM_METHOD = ("EM prior estimation of Saerens, Latinne and Decaestecker (2002) on the current predicted "
             "probabilities, from the baseline's gold-label shares as the training prior")
WHAT_IF_METHOD = ("cross-fitted prior correction: the prior applied to each fold is estimated on the other "
                  "folds; exact McNemar test of the change (each rate and change names its interval's method)")
# The change's interval method: blindspot.compare's name for a percentile bootstrap of a joint count table,
# here the (true, before, after) table (not imported: blindspot.compare is imported only when needed).
CHANGE_INTERVAL_METHOD = "paired_bootstrap_percentile_of_joint_counts"
N_SPLITS = 5
FOLDS_HASH = "prior_shift/folds"
EM_TOL = 1e-8
EM_MAX_ITER = 2_000  # bounds the time on large files; `converged` says when it was reached
CHUNK_CELLS = 1 << 20
# Rows a batch of :func:`prior_shift`'s own (the arrays cut into parts in this process): bounds the
# temporaries of a step to a few (K, ROW_CHUNK) arrays per EM.
ROW_CHUNK = 1 << 16
# Fixed point of the EM's sums: a value in [0, 1] counts as floor(value * 2^FIXED_BITS), an int64.
# A block of at most 2^FIXED_BLOCK_BITS rows sums to at most 2^(FIXED_BITS + FIXED_BLOCK_BITS) = 2^62
# < 2^63, so no int64 sum of a block overflows; blocks, folds and batches are then added as Python
# integers (unbounded). Truncation moves a mean by less than 2^-40 (about 9e-13), far below EM_TOL.
FIXED_BITS = 40
FIXED_BLOCK_BITS = 22


MC_DRAWS = 4_000


def _chi2(table: np.ndarray) -> np.ndarray:
    """Pearson statistic of 2 x K tables, shape (..., 2, K) -> (...), with the margins of each table."""
    expected = table.sum(axis=-1, keepdims=True) * table.sum(axis=-2, keepdims=True) / table.sum(axis=(-2, -1),
                                                                                                   keepdims=True)
    return ((table - expected) ** 2 / expected).sum(axis=(-2, -1))


def label_shift_test(counts_baseline, counts_current, *, alpha: float = 0.05,
                     rng: np.random.Generator | None = None) -> dict:
    """Chi-square test of homogeneity of two files' gold-label counts.

    With an expected cell count below 5 (a rare class) the chi-square approximation is
    rough; given ``rng``, the p value is then a Monte Carlo exact test instead: the
    statistic's distribution with both margins fixed (the baseline's rows drawn without
    replacement from the pooled labels, :data:`MC_DRAWS` draws),
    ``p = (1 + #{stat* >= stat}) / (draws + 1)``.

    Parameters
    ----------
    counts_baseline, counts_current : array_like of int, shape (K,)
        Rows of each class in each file.
    alpha : float
        Level at which the shares are called ``shifted``.

    Returns
    -------
    dict
        ``statistic``, ``dof``, ``p_value``, ``min_expected`` (smallest expected cell
        count, below 5 the chi-square approximation is rough), ``total_variation`` (half the
        L1 distance between the two share vectors), ``shifted`` (``p_value < alpha``),
        ``alpha`` and ``test`` (which names the Monte Carlo test when it was used).
        ``p_value`` is NaN (and ``shifted`` False) when fewer than two classes occur or a
        file is empty.
    """
    table = np.vstack([np.asarray(counts_baseline, dtype=float), np.asarray(counts_current, dtype=float)])
    n_side = table.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = table / n_side[:, None]
    tv = float(0.5 * np.abs(shares[0] - shares[1]).sum()) if np.all(n_side > 0) else float("nan")
    used = table[:, table.sum(axis=0) > 0]  # a class in neither file adds no information
    out = {"test": TEST_METHOD, "alpha": float(alpha), "total_variation": tv}
    if used.shape[1] < 2 or np.any(n_side == 0):
        return {**out, "statistic": float("nan"), "dof": 0, "p_value": float("nan"),
                "min_expected": float("nan"), "shifted": False}
    expected = np.outer(used.sum(axis=1), used.sum(axis=0)) / used.sum()
    stat = float(_chi2(used))
    dof = used.shape[1] - 1
    p = float(chdtrc(dof, stat))
    if expected.min() < 5 and rng is not None:
        pooled = used.sum(axis=0).astype(np.int64)
        first = rng.multivariate_hypergeometric(pooled, int(used[0].sum()), size=MC_DRAWS)
        draws = _chi2(np.stack([first, pooled[None, :] - first], axis=1).astype(float))
        p = float((1 + np.count_nonzero(draws >= stat - 1e-9)) / (MC_DRAWS + 1))
        out["test"] = (f"Monte Carlo exact test of homogeneity ({MC_DRAWS} draws with both margins fixed) of the "
                       f"Pearson chi-square statistic: an expected count is below 5")
    return {**out, "statistic": stat, "dof": int(dof), "p_value": p, "min_expected": float(expected.min()),
            "shifted": bool(p < alpha)}


# --------------------------------------------------------------------------- rows, one column per class


def _columns(proba) -> np.ndarray:
    """The rows scaled to sum to 1, one contiguous row per class, shape (K, n), float64.

    Files round their probabilities; an all-zero row stays uniform. A row's total is added in
    class order, one column at a time, so each row's values depend on that row alone, not on
    the layout of ``proba`` (C or Fortran order) nor on the other rows of its batch.

    Parameters
    ----------
    proba : array_like of float, shape (n, K)
        Finite and non-negative.

    Raises
    ------
    ValueError
        If ``proba`` is not two-dimensional, or holds a negative or non-finite value.
    """
    p = np.asarray(proba, dtype=float)
    if p.ndim != 2:
        raise ValueError(f"proba must have shape (n, K). Got {p.shape} instead.")
    cols = np.array(p.T, order="C")  # a copy of its own: the caller's matrix is left as it is
    if cols.size and not (np.isfinite(cols).all() and cols.min() >= 0.0):
        raise ValueError("probabilities must be finite and non-negative.")
    total = cols[0].copy() if cols.shape[0] else np.zeros(cols.shape[1])
    for row in cols[1:]:
        total += row
    ok = total > 0
    np.divide(cols, total, out=cols, where=ok[None, :])
    cols[:, ~ok] = 1.0 / cols.shape[0]
    return cols


def _adjusted(cols: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``p_ij w_j / sum_l p_il w_l`` of every row for each weight vector, shape (E, K, n).

    ``cols`` (K, n) from :func:`_columns`; ``weights`` (E, K), non-negative. A row whose mass
    sits only on classes weighted 0 keeps its own posterior. Each value is in [0, 1]: the
    row's total, a sum of the non-negative products in class order, rounds to no less than
    any of them (rounding is monotone), so every quotient is at most 1.
    """
    scaled = weights[:, :, None] * cols[None, :, :]
    total = scaled[:, 0].copy()
    for j in range(1, cols.shape[0]):
        total += scaled[:, j]
    ok = total > 0
    np.divide(scaled, total[:, None, :], out=scaled, where=ok[:, None, :])
    if not ok.all():
        e, i = np.nonzero(~ok)
        scaled[e, :, i] = cols[:, i].T
    return scaled


def adjust_posteriors(proba, weights) -> np.ndarray:
    """``p'(y|x) = p(y|x) w_y / sum_j p(j|x) w_j``, shape (n, K); ``proba`` (n, K), weights shape (K,).

    The rows are normalised first (:func:`_columns`); a row whose mass sat only on classes now
    weighted 0 keeps its original posterior.
    """
    return _adjusted(_columns(proba), np.asarray(weights, dtype=float)[None, :])[0].T


def _fixed_sums(values: np.ndarray) -> list:
    """Sums over the last axis of values in [0, 1], in :data:`FIXED_BITS` fixed point, as Python ints.

    Parameters
    ----------
    values : ndarray of float, shape (..., n)

    Returns
    -------
    nested list of int, shape (...)
        ``sum floor(v 2^FIXED_BITS)``: exact, so the same whatever the order or grouping of the
        terms. Summed in int64 blocks of at most ``2^FIXED_BLOCK_BITS`` values (no overflow, see
        :data:`FIXED_BITS`), the blocks added as Python integers.
    """
    scale, block = 2.0 ** FIXED_BITS, 1 << FIXED_BLOCK_BITS
    out = np.zeros(values.shape[:-1], dtype=object)
    for lo in range(0, values.shape[-1], block):
        # A power-of-two scale is exact; astype truncates, which is floor for values >= 0.
        part = (values[..., lo:lo + block] * scale).astype(np.int64).sum(axis=-1)
        out = out + np.asarray(part.tolist(), dtype=object).reshape(out.shape)
    return out.tolist()


def _fixed_means(sums, n: int) -> np.ndarray:
    """``sums`` (Python ints, shape (K,), from :func:`_fixed_sums`) over ``n`` rows, shape (K,):
    one correctly rounded division each (Python's int / int)."""
    return np.array([int(s) / (n << FIXED_BITS) for s in sums], dtype=float)


# --------------------------------------------------------------------------- folds and per-batch parts


def fold_hashes(ids, seed: int) -> np.ndarray:
    """The hash that puts each row in its cross-fitting fold, shape (n,), uint64.

    ``row_hash(seed, ids, "prior_shift/folds")`` (:func:`blindspot.samples.row_hash`),
    a row's hash depends on its id and the seed only.

    Parameters
    ----------
    ids : array_like, Series, pyarrow Array or ChunkedArray, or range, shape (n,)
        Row ids, hashed as strings. ``range(n)``: the row positions stand for the ids
        (the fallback of a caller without ids; the folds then follow the rows' order).
    seed : int

    Returns
    -------
    ndarray of uint64, shape (n,)
    """
    return row_hash(seed, ids, FOLDS_HASH)


def hash_fold(hashes, n_splits: int) -> np.ndarray:
    """Fold of each row from its own hash, shape (n,), uint8 (uint16 past 256 folds).

    ``((h >> 32) * n_splits) >> 32``: the hash's top 32 bits as a fraction of 2^32, scaled to
    ``[0, n_splits)`` (multiply-shift, no product above 2^64 for ``n_splits < 2^32``). Each fold
    takes ``1 / n_splits`` of the hash space up to one part in 2^32, so for well-mixed hashes the
    folds are uniform, and a row's fold depends on its hash alone: not on the other rows, their
    order or their batches.

    Parameters
    ----------
    hashes : array_like of uint64, shape (n,)
        :func:`fold_hashes` of the rows' ids.
    n_splits : int
        At least 1.
    """
    if not 1 <= n_splits < 1 << 16:
        raise ValueError(f"n_splits must be in [1, 65536). Got {n_splits} instead.")
    h = np.asarray(hashes, dtype=np.uint64)
    fold = ((h >> np.uint64(32)) * np.uint64(n_splits)) >> np.uint64(32)
    return fold.astype(np.uint8 if n_splits <= 256 else np.uint16)


def _codes(values, k: int) -> np.ndarray:
    """Class indices in the smallest unsigned dtype holding ``[0, k)``, shape (n,)."""
    return np.asarray(values).astype(np.min_scalar_type(max(k - 1, 0)))


@dataclass(frozen=True, eq=False)
class PriorPart:
    """One batch's rows as the EM and the what-if read them, grouped by fold.

    Attributes
    ----------
    cols : ndarray of float64, shape (K, n)
        The rows' probabilities normalised (:func:`_columns`), one row per class.
    y_true, y_pred : ndarray of unsigned int, shape (n,)
        Gold labels and predictions (class indices).
    bounds : ndarray of int64, shape (n_splits + 1,)
        Fold ``f``'s rows are ``[bounds[f], bounds[f + 1])``: the batch's rows are sorted by
        fold (stable), which no result depends on (every result is a sum over rows).
    """

    cols: np.ndarray
    y_true: np.ndarray
    y_pred: np.ndarray
    bounds: np.ndarray

    @property
    def n_splits(self) -> int:
        return self.bounds.size - 1


def prior_part(y_true, y_pred, proba, hashes, n_splits: int) -> PriorPart:
    """The state of one batch of rows (made where the batch is read: a worker, or this process).

    Parameters
    ----------
    y_true, y_pred : array_like of int, shape (n,)
        Gold labels and predictions of the batch's rows (class indices).
    proba : array_like of float, shape (n, K)
    hashes : array_like of uint64, shape (n,)
        :func:`fold_hashes` of the rows' ids.
    n_splits : int

    Returns
    -------
    PriorPart
    """
    cols = _columns(proba)
    k, n = cols.shape
    fold = hash_fold(hashes, n_splits)
    if not (np.shape(y_true) == np.shape(y_pred) == fold.shape == (n,)):
        raise ValueError(f"one label, prediction and hash a row is needed: {np.shape(y_true)}, "
                         f"{np.shape(y_pred)} and {fold.shape} for {n} rows.")
    order = np.argsort(fold, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(fold, minlength=n_splits))]).astype(np.int64)
    return PriorPart(np.ascontiguousarray(cols[:, order]), _codes(y_true, k)[order], _codes(y_pred, k)[order],
                     bounds)


def _part_summary(part: PriorPart) -> tuple:
    """A batch's gold-label counts (K,), rows per fold (n_splits,) and fixed-point probability sums (K,)."""
    k = part.cols.shape[0]
    return (np.bincount(part.y_true, minlength=k)[:k].astype(np.int64), np.diff(part.bounds),
            _fixed_sums(part.cols))


def _part_em_sums(part: PriorPart, weights: np.ndarray, active: np.ndarray) -> list:
    """One EM step's sums of a batch, for every active EM at once.

    EM 0 reads every row, EM ``1 + f`` the rows outside fold ``f``. Each fold's rows are
    adjusted once with the weights of every active EM that reads them.

    Parameters
    ----------
    part : PriorPart
    weights : ndarray of float, shape (1 + n_splits, K)
        Each EM's current ``prior / training prior``.
    active : ndarray of bool, shape (1 + n_splits,)
        The EMs still moving.

    Returns
    -------
    list, length 1 + n_splits
        Per EM, the fixed-point sums (:func:`_fixed_sums`, K Python ints) of the adjusted
        posteriors of its rows in this batch; None for an inactive EM.
    """
    k = part.cols.shape[0]
    out = [[0] * k if on else None for on in active.tolist()]
    for g in range(part.n_splits):
        lo, hi = int(part.bounds[g]), int(part.bounds[g + 1])
        ems = [e for e in range(1 + part.n_splits) if active[e] and e != 1 + g]
        if hi == lo or not ems:
            continue
        sums = _fixed_sums(_adjusted(part.cols[:, lo:hi], weights[ems]))
        for e, row in zip(ems, sums):
            out[e] = [a + b for a, b in zip(out[e], row)]
    return out


def _corrected(cols: np.ndarray, y_pred: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Predictions of rows ``cols`` (K, n) after the correction with ``weights`` (K,), shape (n,), int64.

    Only a row whose argmax the correction moves changes: elsewhere the file's own
    prediction stands (it may break ties or thresholds differently from the argmax).
    """
    moved = _adjusted(cols, weights[None, :])[0].argmax(axis=0)
    return np.where(moved != cols.argmax(axis=0), moved, y_pred).astype(np.int64)


def triple_counts(y_true, y_before, y_after, k: int) -> np.ndarray:
    """Rows per (true, before, after) cell, shape (K, K, K), int64.

    Parameters
    ----------
    y_true, y_before, y_after : array_like of int, shape (n,)
        Class indices in ``[0, k)``.
    k : int
    """
    t, b, a = (np.asarray(v, dtype=np.int64) for v in (y_true, y_before, y_after))
    return np.bincount((t * k + b) * k + a, minlength=k ** 3).reshape(k, k, k)


def _part_table(part: PriorPart, fold_weights: np.ndarray) -> tuple:
    """A batch's (true, before, after) counts (K, K, K) and rows changed, each fold's rows corrected
    with ``fold_weights[f]`` (shape (n_splits, K), the weights estimated without fold ``f``)."""
    k = part.cols.shape[0]
    table, changed = np.zeros((k, k, k), dtype=np.int64), 0
    for f in range(part.n_splits):
        lo, hi = int(part.bounds[f]), int(part.bounds[f + 1])
        if hi == lo:
            continue  # an empty fold: nothing to correct
        before = part.y_pred[lo:hi]
        after = _corrected(part.cols[:, lo:hi], before, fold_weights[f])
        table += triple_counts(part.y_true[lo:hi], before, after, k)
        changed += int(np.count_nonzero(after != before))
    return table, changed


# --------------------------------------------------------------------------- EM over the parts


def _em_fits(parts, train_prior, sizes, *, tol: float = EM_TOL, max_iter: int = EM_MAX_ITER) -> list:
    """The full-data EM and the fold EMs (Saerens et al. 2002) over ``parts``, in lockstep.

    Each step is one map over the parts (:func:`_part_em_sums`); the batches' integer sums
    are added and divided once, so a step's priors are the same for any batching. Each EM
    follows :func:`em_prior`'s rule on its own: from the training prior,
    ``pi <- mean adjusted posterior`` until no share moves more than ``tol`` (``n_iter`` the
    steps taken) or ``max_iter`` steps; a converged EM keeps its prior and is no longer
    computed. An EM of no row returns the training prior, converged after 0 steps.

    Parameters
    ----------
    parts : LocalParts or its Dask twin, of :class:`PriorPart`
    train_prior : array_like of float, shape (K,)
        Every entry positive.
    sizes : sequence of int, length 1 + n_splits
        Rows each EM reads: every row, then the rows outside each fold.

    Returns
    -------
    list of dict, length 1 + n_splits
        ``prior`` (ndarray, shape (K,)), ``weights``, ``n_iter``, ``converged``.
    """
    pi_train = np.asarray(train_prior, dtype=float)
    pi_train = pi_train / pi_train.sum()
    if np.any(pi_train <= 0):
        raise ValueError(f"every training prior must be positive. Got {pi_train.tolist()} instead.")
    sizes = [int(s) for s in sizes]
    priors = np.tile(pi_train, (len(sizes), 1))
    active = np.array([s > 0 for s in sizes])
    n_iter, converged = [0] * len(sizes), [s == 0 for s in sizes]
    for it in range(1, max_iter + 1):
        if not active.any():
            break
        results = parts.map(_part_em_sums, priors / pi_train, active)
        for e in np.flatnonzero(active):
            total = [sum(col) for col in zip(*(r[e] for r in results))]
            updated = _fixed_means(total, sizes[e])
            step = float(np.max(np.abs(updated - priors[e])))
            priors[e], n_iter[e] = updated, it
            if step <= tol:
                converged[e], active[e] = True, False
    return [{"prior": priors[e].copy(), "weights": priors[e] / pi_train, "n_iter": int(n_iter[e]),
             "converged": bool(converged[e])} for e in range(len(sizes))]


def _parts_of(y_true, y_pred, proba, hashes, n_splits: int, rows: int = ROW_CHUNK) -> LocalParts:
    """:class:`LocalParts` of :func:`prior_part` of the arrays, ``rows`` rows a batch."""
    n = np.shape(proba)[0]
    return LocalParts([prior_part(y_true[lo:lo + rows], y_pred[lo:lo + rows], proba[lo:lo + rows],
                                  hashes[lo:lo + rows], n_splits) for lo in range(0, n, rows)])


def em_prior(proba, train_prior, *, tol: float = EM_TOL, max_iter: int = EM_MAX_ITER) -> dict:
    """Label-free estimate of the deployment class prior (Saerens et al. 2002).

    Parameters
    ----------
    proba : array_like of float, shape (n, K)
        Predicted class probabilities on the deployment rows (rows renormalised to 1).
    train_prior : array_like of float, shape (K,)
        Class shares of the training data; every entry must be positive.
    tol : float
        Stop when no class's estimated share moves more than this in one step.
    max_iter : int

    Returns
    -------
    dict
        ``prior`` (ndarray, shape (K,), the estimated deployment prior), ``weights``
        (``prior / train_prior``), ``n_iter`` and ``converged``.

    Raises
    ------
    ValueError
        If ``train_prior`` has a zero or negative entry (the weight would be infinite), or
        the shapes disagree.
    """
    p = np.asarray(proba, dtype=float)
    k = np.size(train_prior)
    if p.ndim != 2 or p.shape[1] != k:
        raise ValueError(f"proba must have shape (n, {k}). Got {p.shape} instead.")
    zeros = np.zeros(p.shape[0], dtype=np.int64)
    # One fold holding every row: EM 0 is the estimate (EM 1, of the rows outside it, reads none).
    parts = _parts_of(zeros, zeros, p, zeros.astype(np.uint64), 1)
    return _em_fits(parts, train_prior, [p.shape[0], 0], tol=tol, max_iter=max_iter)[0]


def cross_fitted_predictions(y_pred, proba, train_prior, *, hashes=None, n_splits: int = N_SPLITS,
                             seed: int = 0) -> dict:
    """Prior-corrected predictions, each fold corrected with the prior estimated on the other folds.

    The row-by-row form of the what-if (:func:`prior_shift` keeps only its counts).

    Parameters
    ----------
    y_pred : array_like of int, shape (n,)
        The file's predictions (class indices).
    proba : array_like of float, shape (n, K)
    train_prior : array_like of float, shape (K,)
    hashes : array_like of uint64, shape (n,), optional
        :func:`fold_hashes` of the rows' ids: the folds are :func:`hash_fold` of them, so the
        result is the same for the rows in any order. Default: ``fold_hashes(range(n), seed)``,
        the row positions standing for the ids (the folds then follow the rows' order).
    n_splits : int
        Folds (at least 2, and at most n / 2).
    seed : int
        Of the default hashes only.

    Returns
    -------
    dict
        ``y_after`` (ndarray of int64, shape (n,)), ``fold_priors`` (ndarray, shape
        (n_splits, K)), ``n_changed`` (rows whose prediction changes), ``converged``.
    """
    y_pred = np.asarray(y_pred, dtype=np.int64)
    cols = _columns(proba)
    n = cols.shape[1]
    if n_splits < 2 or n < 2 * n_splits:
        raise ValueError(f"cross-fitting {n_splits} folds needs at least {2 * max(n_splits, 2)} rows. Got {n} instead.")
    hashes = _hashes_or_positions(hashes, n, seed)
    fold = hash_fold(hashes, n_splits)
    sizes = np.bincount(fold, minlength=n_splits)
    fits = _em_fits(_parts_of(y_pred, y_pred, proba, hashes, n_splits), train_prior, [n, *(n - sizes)])[1:]
    y_after = y_pred.copy()
    for f, fit in enumerate(fits):
        rows = fold == f
        y_after[rows] = _corrected(cols[:, rows], y_pred[rows], fit["weights"])
    return {"y_after": y_after, "fold_priors": np.vstack([fit["prior"] for fit in fits]),
            "n_changed": int((y_after != y_pred).sum()), "converged": all(fit["converged"] for fit in fits)}


def _hashes_or_positions(hashes, n: int, seed: int) -> np.ndarray:
    """``hashes`` as uint64, shape (n,); without them, the hashes of the row positions
    (:func:`cross_fitted_predictions`' default)."""
    hashes = fold_hashes(range(n), seed) if hashes is None else np.asarray(hashes, dtype=np.uint64)
    if hashes.shape != (n,):
        raise ValueError(f"one hash a row is needed: {hashes.shape} hashes for {n} rows.")
    return hashes


# --------------------------------------------------------------------------- the what-if's rates


def _mcnemar(b: int, c: int) -> float:
    from blindspot.compare import mcnemar_exact  # the project's exact McNemar test

    return mcnemar_exact(b, c)


def _rate_entry(table: np.ndarray, reps_before, reps_after, reps_n, level: float) -> dict:
    """Before/after rate with Wilson intervals, paired change with bootstrap interval and McNemar p.

    ``table`` (2, 2): rows (before wrong, before right) by (after wrong, after right) of the
    rows the rate is computed on.
    """
    n = int(table.sum())
    hb, ha = int(table[1].sum()), int(table[:, 1].sum())
    lost, gained = int(table[1, 0]), int(table[0, 1])
    lo_b, hi_b = wilson_interval(hb, n, level)
    lo_a, hi_a = wilson_interval(ha, n, level)
    with np.errstate(invalid="ignore", divide="ignore"):
        reps = (reps_after - reps_before) / reps_n
    lo_d, hi_d = percentile_interval(reps, level)
    before = hb / n if n else float("nan")
    after = ha / n if n else float("nan")
    return {"n": n, "before": Estimate(float(before), float(lo_b), float(hi_b), WILSON).encode(),
            "after": Estimate(float(after), float(lo_a), float(hi_a), WILSON).encode(),
            "delta": Estimate(float(after - before), float(lo_d), float(hi_d), CHANGE_INTERVAL_METHOD).encode(),
            "lost": lost, "gained": gained, "p_value": _mcnemar(lost, gained)}


def what_if_metrics(table, classes: Sequence[str], *, n_boot: int, level: float, rng: np.random.Generator) -> dict:
    """Accuracy and per-class recall before and after a change of predictions, paired, from their counts.

    Parameters
    ----------
    table : array_like of int, shape (K, K, K)
        Rows per (true, before, after) class (:func:`triple_counts`).
    classes : sequence of str, length K
    n_boot, level : int, float
    rng : numpy.random.Generator
        Drawn from as a bootstrap of the occupied cells in ascending (true, before, after) order.

    Returns
    -------
    dict
        ``accuracy`` and ``per_class`` (class -> ``{"recall": ...}``), each entry as
        :func:`_rate_entry` (``n`` is the rows the rate is computed on: all rows, or the
        rows of that class).
    """
    k = len(classes)
    table = np.asarray(table, dtype=np.int64).reshape(k, k, k)
    codes = np.flatnonzero(table.ravel())  # the occupied cells, ascending
    counts = table.ravel()[codes]
    ct, rest = np.divmod(codes, k * k)
    cb, ca = np.divmod(rest, k)
    n = int(counts.sum())
    # Bootstrap the occupied cells of the (true, before, after) table in chunks: memory stays bounded.
    per = max(1, CHUNK_CELLS // max(codes.size, 1))
    hit_b, hit_a = (cb == ct).astype(np.int64), (ca == ct).astype(np.int64)
    cls = (ct[:, None] == np.arange(k)[None, :]).astype(np.int64)  # (m, K)
    acc_b, acc_a, rec_b, rec_a, rec_n = [], [], [], [], []
    for start in range(0, n_boot, per):
        reps = rng.multinomial(n, counts / n, size=min(per, n_boot - start))
        acc_b.append(reps @ hit_b)
        acc_a.append(reps @ hit_a)
        rec_b.append(reps @ (cls * hit_b[:, None]))
        rec_a.append(reps @ (cls * hit_a[:, None]))
        rec_n.append(reps @ cls)
    acc_b, acc_a = np.concatenate(acc_b), np.concatenate(acc_a)
    rec_b, rec_a, rec_n = np.concatenate(rec_b), np.concatenate(rec_a), np.concatenate(rec_n)
    # Per true class, rows by (before right, after right).
    right = np.zeros((k, 2, 2), dtype=np.int64)
    np.add.at(right, (ct, hit_b, hit_a), counts)
    out = {"accuracy": _rate_entry(right.sum(axis=0), acc_b, acc_a, np.full(acc_b.shape, n), level),
           "per_class": {}}
    for j, name in enumerate(classes):
        out["per_class"][name] = {"recall": _rate_entry(right[j], rec_b[:, j], rec_a[:, j], rec_n[:, j], level)}
    return out


def _shares(counts, classes) -> dict:
    total = float(np.sum(counts))
    return {c: (float(v) / total if total else float("nan")) for c, v in zip(classes, counts)}


def _by_class(values, classes) -> dict:
    return {c: float(v) for c, v in zip(classes, values)}


def label_counts(y_true, n_classes: int) -> np.ndarray:
    """Rows of each class, shape (K,), int64."""
    return np.bincount(np.asarray(y_true, dtype=np.int64), minlength=n_classes)[:n_classes]


# --------------------------------------------------------------------------- the block


def prior_shift(y_true_baseline, y_true_current, y_pred_current, proba_current, classes: Sequence[str], *,
                baseline_name: str, alpha: float, n_boot: int, level: float, seed: int, hashes=None,
                n_splits: int = N_SPLITS) -> dict:
    """The ``prior_shift`` block of ``metrics/compare.json`` from arrays held in this process.

    The arrays are cut into batches of :data:`ROW_CHUNK` rows (:func:`prior_part`) and
    :func:`prior_shift_parts` measures them: the same numbers as any other batching.

    Parameters
    ----------
    y_true_baseline : array_like of int, shape (n_b,)
        Gold labels of the baseline file (class indices).
    y_true_current, y_pred_current : array_like of int, shape (n,)
        Gold labels and predictions of the current file.
    proba_current : array_like of float, shape (n, K), or None
        Current class probabilities; None when the file has none.
    classes : sequence of str, length K
    baseline_name : str
        Named as the source of the training prior.
    alpha, n_boot, level, seed : float, int, float, int
        Test level, bootstrap replicates, interval level, seed.
    hashes : array_like of uint64, shape (n,), optional
        :func:`fold_hashes` of the current rows' ids: the what-if's folds are :func:`hash_fold`
        of them, so it is the same for the rows in any order. Without them the row positions
        stand for the ids (:func:`cross_fitted_predictions`' default): a caller with ids should
        pass them.
    n_splits : int
        Cross-fitting folds.

    Returns
    -------
    dict
        As :func:`prior_shift_parts`.
    """
    k = len(classes)
    y_true = np.asarray(y_true_current)
    parts = None
    if proba_current is not None:
        y_pred = np.asarray(y_pred_current)
        parts = _parts_of(y_true, y_pred, proba_current, _hashes_or_positions(hashes, y_true.shape[0], seed),
                          n_splits)
    # The label counts too: the class-mix test of a file without probabilities (or rows) needs them.
    return prior_shift_parts(parts, label_counts(y_true_baseline, k), classes, baseline_name=baseline_name,
                             alpha=alpha, n_boot=n_boot, level=level, seed=seed, n_splits=n_splits,
                             counts_current=label_counts(y_true, k))


def prior_shift_parts(parts, counts_baseline, classes: Sequence[str], *, baseline_name: str, alpha: float,
                      n_boot: int, level: float, seed: int, n_splits: int = N_SPLITS, counts_current=None) -> dict:
    """The ``prior_shift`` block of ``metrics/compare.json`` from per-batch states.

    A few maps over ``parts``: one for the label counts, the rows per fold and the mean
    probability; one per EM step (all EMs at once); one for the what-if's count table. Only
    small per-batch results come back, and they merge exactly (integer sums), so the block is
    the same for any batching and order of the rows, on either engine.

    Parameters
    ----------
    parts : LocalParts or its Dask twin, of :class:`PriorPart`, or None
        The current file's batches (:func:`prior_part` with ``n_splits`` folds); None or empty
        when the file has no class probabilities.
    counts_baseline : array_like of int, shape (K,)
        Baseline rows of each gold class.
    classes : sequence of str, length K
    baseline_name : str
        Named as the source of the training prior.
    alpha, n_boot, level, seed : float, int, float, int
        Test level, bootstrap replicates, interval level, seed.
    n_splits : int
        Cross-fitting folds (the parts' own).
    counts_current : array_like of int, shape (K,), optional
        Current rows of each gold class, for the class-mix test when there are no parts (no
        probabilities). With parts the labels are counted from them (a bincount of each
        batch's labels, in the first map) and ``counts_current``, when given, must agree.

    Returns
    -------
    dict
        ``measured`` (1/0), ``reason``, ``classes``, ``label_shift`` (counts, shares and
        :func:`label_shift_test`), and, when the current file has probabilities and every
        class occurs in the baseline, ``em`` (training prior and its source, estimated
        prior, the current file's actual label shares and the estimate's total-variation
        distance to them, iterations) and ``what_if``
        (:func:`what_if_metrics` of the cross-fitted correction). Otherwise ``em`` and
        ``what_if`` are ``{"measured": 0, "reason": ...}``.

    Raises
    ------
    ValueError
        If neither parts nor ``counts_current`` are given, they disagree, or the parts hold
        another number of folds.
    """
    classes = list(classes)
    k = len(classes)
    cb = np.asarray(counts_baseline, dtype=np.int64)
    has_parts = parts is not None and len(parts) > 0
    if has_parts:
        summaries = parts.map(_part_summary)
        cc = np.sum([s[0] for s in summaries], axis=0)
        fold_rows = np.sum([s[1] for s in summaries], axis=0)
        proba_sums = [sum(col) for col in zip(*(s[2] for s in summaries))]
        if fold_rows.size != n_splits:
            raise ValueError(f"the parts hold {fold_rows.size} folds, not n_splits={n_splits}.")
        if counts_current is not None and not np.array_equal(cc, np.asarray(counts_current, dtype=np.int64)):
            raise ValueError(f"counts_current {list(counts_current)} disagree with the parts' labels {cc.tolist()}.")
    elif counts_current is None:
        raise ValueError("without parts, counts_current is needed for the class-mix test.")
    else:
        cc = np.asarray(counts_current, dtype=np.int64)
    out = {"measured": 1, "reason": "", "classes": classes,
           "label_shift": _label_shift(cb, cc, classes, alpha=alpha, seed=seed)}
    reason = _unmeasurable(has_parts, cb, cc, classes, baseline_name=baseline_name, n_splits=n_splits)
    if reason:
        return {**out, "em": {"measured": 0, "reason": reason}, "what_if": {"measured": 0, "reason": reason}}
    train = cb / cb.sum()
    n = int(cc.sum())
    fits = _em_fits(parts, train, [n, *(n - fold_rows)])
    out["em"] = _em_block(fits[0], _fixed_means(proba_sums, n), train, cc, classes, baseline_name=baseline_name)
    folds = fits[1:]
    tables = parts.map(_part_table, np.vstack([fit["weights"] for fit in folds]))
    table = np.sum([t for t, _ in tables], axis=0)
    rng = named_rng(seed, "prior_shift/what_if")
    metrics = what_if_metrics(table, classes, n_boot=n_boot, level=level, rng=rng)
    out["what_if"] = {"measured": 1, "reason": "", "method": WHAT_IF_METHOD, "n_splits": int(n_splits),
                      "n_boot": int(n_boot), "ci_level": float(level), "n": n,
                      "n_changed": int(sum(c for _, c in tables)),
                      "converged": int(all(fit["converged"] for fit in folds)),
                      "fold_priors": [_by_class(fit["prior"], classes) for fit in folds], **metrics}
    return out


def _label_shift(cb: np.ndarray, cc: np.ndarray, classes: list, *, alpha: float, seed: int) -> dict:
    """``label_shift``: both files' label counts and shares, and :func:`label_shift_test`."""
    return {"n_baseline": int(cb.sum()), "n_current": int(cc.sum()),
            "counts_baseline": {c: int(v) for c, v in zip(classes, cb)},
            "counts_current": {c: int(v) for c, v in zip(classes, cc)},
            "shares_baseline": _shares(cb, classes), "shares_current": _shares(cc, classes),
            **label_shift_test(cb, cc, alpha=alpha, rng=named_rng(seed, "prior_shift/label_test"))}


def _unmeasurable(has_proba: bool, cb: np.ndarray, cc: np.ndarray, classes: list, *, baseline_name: str,
                  n_splits: int) -> str:
    """Why the EM prior and the what-if cannot be measured (one sentence), or ""."""
    absent = [c for c, v in zip(classes, cb) if v == 0]
    if not has_proba:
        return NO_PROBABILITIES_REASON
    if absent:
        return (f"not measurable: the class(es) {absent} have no row in the baseline {baseline_name}, so their "
                f"training prior is 0 and the correction weight undefined")
    if cc.sum() < 2 * n_splits:
        return f"not measurable: {int(cc.sum())} current rows, fewer than {2 * n_splits} for {n_splits} folds"
    return ""


def _em_block(fit: dict, mean_proba: np.ndarray, train: np.ndarray, cc: np.ndarray, classes: list, *,
              baseline_name: str) -> dict:
    """``em``: the training prior, the EM estimate of the current prior, and how far it lands from the labels.

    ``fit``: the full-data EM (:func:`_em_fits`); ``mean_proba`` (K,): the mean normalised
    current probability.
    """
    return {"measured": 1, "reason": "", "method": EM_METHOD,
            "training_prior_source": f"gold-label shares of the baseline {baseline_name}",
            "training_prior": _by_class(train, classes), "estimated_prior": _by_class(fit["prior"], classes),
            "current_label_shares": _shares(cc, classes),
            "mean_predicted_probability": _by_class(mean_proba, classes),
            # The audit has the gold labels the EM does without: how far its estimate lands from them
            # (half the L1 distance) says whether the label-free estimate can be trusted on this model.
            "total_variation_to_current_labels": float(0.5 * np.abs(fit["prior"] - cc / cc.sum()).sum()),
            "n_iter": fit["n_iter"], "converged": int(fit["converged"]), "tol": f"{EM_TOL:g}"}


def not_measured(reason: str) -> dict:
    """The ``prior_shift`` block when nothing can be measured (no baseline, baseline unreadable)."""
    return {"measured": 0, "reason": reason}
