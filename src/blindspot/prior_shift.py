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
3. **What would a prior correction do?** (:func:`prior_correction_what_if`) Cross-fitted:
   the rows are dealt into k folds ranked by a seeded hash of their ids
   (:func:`fold_hashes`, :func:`prior_folds`); the prior applied to a fold's rows is
   estimated by EM on the *other* folds' rows only (taken in the order of their hashes),
   so no row's own probabilities decide its correction, and the what-if is the same for
   the rows in any order. A row's prediction changes only where the adjusted posteriors'
   argmax differs from the unadjusted argmax (elsewhere the file's own prediction is kept, so
   with no shift the what-if is the file itself). Accuracy and each class's recall are
   given before and after with Wilson intervals, and the paired change with an exact
   McNemar p value and a percentile interval from a bootstrap of the joint
   (true, before, after) count table (the row bootstrap, drawn over occupied cells).
   Each is an :class:`~blindspot.results.Estimate` naming its interval's method.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.special import chdtrc

from blindspot.metrics import WILSON
from blindspot.results import Estimate
from blindspot.samples import hash_folds, hash_order, row_hash
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
# Rows of (n, K) probabilities normalised or adjusted at a time: bounds those steps' temporaries.
ROW_CHUNK = 1 << 16


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


def _normalise(proba, out: np.ndarray | None = None) -> np.ndarray:
    """Rows scaled to sum to 1 (files round their probabilities); an all-zero row stays uniform.

    Parameters
    ----------
    proba : array_like of float, shape (n, K)
    out : ndarray of float, shape (n, K), optional
        Where the rows go (``proba`` itself normalises in place); when None, a new array laid out
        as ``proba`` (C or Fortran order).

    Returns
    -------
    ndarray of float, shape (n, K)
        Made :data:`ROW_CHUNK` rows at a time: each row's value depends on that row alone,
        so the chunks' results are the whole array's, and the temporaries are one chunk's.
    """
    p = np.asarray(proba, dtype=float)
    if p.ndim != 2:  # the whole-array expression, and its error, for other shapes
        total = p.sum(axis=1, keepdims=True)
        return np.where(total > 0, p / np.where(total > 0, total, 1.0), 1.0 / p.shape[1])
    # The whole-array expression's layout (numpy keeps the input's order): later sums over rows
    # (the mean, the EM's products) add in the order of that layout.
    out = np.empty_like(p) if out is None else out
    for start in range(0, p.shape[0], ROW_CHUNK):
        part = p[start:start + ROW_CHUNK]
        total = part.sum(axis=1, keepdims=True)
        out[start:start + ROW_CHUNK] = np.where(total > 0, part / np.where(total > 0, total, 1.0), 1.0 / p.shape[1])
    return out


def adjust_posteriors(proba, weights) -> np.ndarray:
    """``p'(y|x) = p(y|x) w_y / sum_j p(j|x) w_j``, shape (n, K); weights shape (K,)."""
    scaled = _normalise(proba) * np.asarray(weights, dtype=float)[None, :]
    total = scaled.sum(axis=1, keepdims=True)
    # A row whose mass sat only on classes now weighted 0 keeps its original posterior.
    return np.where(total > 0, scaled / np.where(total > 0, total, 1.0), _normalise(proba))


def _em_step(p: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``adjust_posteriors(p, weights).mean(axis=0)`` for rows that already sum to 1, shape (K,).

    One matrix-vector product per step instead of two (n, K) temporaries: the sum over rows
    of ``p w / (p . w)`` is ``w * (p.T @ (1 / (p . w)))``. A row whose mass sits only on
    classes weighted 0 keeps its own posterior, as in :func:`adjust_posteriors`.
    """
    mass = p @ weights
    ok = mass > 0
    # 1 / mass where positive, else 0, made in mass's own buffer (no (n,) temporaries).
    inverse = np.divide(1.0, mass, out=mass, where=ok)
    inverse[~ok] = 0.0
    total = weights * (inverse @ p)
    if not ok.all():
        total = total + p[~ok].sum(axis=0)
    return total / p.shape[0]


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
    return _em_fit(_normalise(proba), train_prior, tol=tol, max_iter=max_iter)


def _em_fit(p: np.ndarray, train_prior, *, tol: float = EM_TOL, max_iter: int = EM_MAX_ITER) -> dict:
    """:func:`em_prior` of probabilities already normalised (``p``, shape (n, K): :func:`_normalise`'s)."""
    pi_train = np.asarray(train_prior, dtype=float)
    pi_train = pi_train / pi_train.sum()
    if p.ndim != 2 or p.shape[1] != pi_train.size:
        raise ValueError(f"proba must have shape (n, {pi_train.size}). Got {p.shape} instead.")
    if np.any(pi_train <= 0):
        raise ValueError(f"every training prior must be positive. Got {pi_train.tolist()} instead.")
    if p.shape[0] == 0:
        return {"prior": pi_train.copy(), "weights": np.ones_like(pi_train), "n_iter": 0, "converged": True}
    pi_new = pi_train.copy()
    converged, it = False, 0
    for it in range(1, max_iter + 1):
        updated = _em_step(p, pi_new / pi_train)
        step = float(np.max(np.abs(updated - pi_new)))
        pi_new = updated
        if step <= tol:
            converged = True
            break
    return {"prior": pi_new, "weights": pi_new / pi_train, "n_iter": int(it), "converged": converged}


def fold_hashes(ids, seed: int) -> np.ndarray:
    """The hash the cross-fitting folds are ranked by, shape (n,), uint64.

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


def prior_folds(hashes, n_splits: int) -> np.ndarray:
    """Fold of each row, ndarray of intp, shape (n,): the rows ranked by ``hashes`` (uint64, shape (n,),
    :func:`fold_hashes`) dealt in turn (:func:`blindspot.samples.hash_folds`): sizes differ by at most
    one, and a row's fold follows its id, not its position."""
    return hash_folds(np.asarray(hashes, dtype=np.uint64), n_splits)


def cross_fitted_predictions(y_pred, proba, train_prior, *, hashes=None, n_splits: int = N_SPLITS,
                             seed: int = 0) -> dict:
    """Prior-corrected predictions, each fold corrected with the prior estimated on the other folds.

    Parameters
    ----------
    y_pred : array_like of int, shape (n,)
        The file's predictions (class indices).
    proba : array_like of float, shape (n, K)
    train_prior : array_like of float, shape (K,)
    hashes : array_like of uint64, shape (n,), optional
        :func:`fold_hashes` of the rows' ids: the folds are :func:`prior_folds` of them, so the
        result is the same for the rows in any order. Default: ``fold_hashes(range(n), seed)``,
        the row positions standing for the ids (the folds then follow the rows' order).
    n_splits : int
        Folds (at least 2, and at most n / 2).
    seed : int
        Of the default hashes only.

    Returns
    -------
    dict
        ``y_after`` (ndarray of int, shape (n,)), ``fold_priors`` (ndarray, shape
        (n_splits, K)), ``n_changed`` (rows whose prediction changes), ``converged``.
    """
    p = _normalise(proba)
    return _cross_fitted(y_pred, p, train_prior, hashes=_hashes_or_positions(hashes, p.shape[0], seed),
                         n_splits=n_splits)


def _hashes_or_positions(hashes, n: int, seed: int) -> np.ndarray:
    """``hashes`` as uint64, shape (n,); without them, the hashes of the row positions
    (:func:`cross_fitted_predictions`' default)."""
    hashes = fold_hashes(range(n), seed) if hashes is None else np.asarray(hashes, dtype=np.uint64)
    if hashes.shape != (n,):
        raise ValueError(f"one hash a row is needed: {hashes.shape} hashes for {n} rows.")
    return hashes


def _cross_fitted(y_pred, p: np.ndarray, train_prior, *, hashes: np.ndarray, n_splits: int) -> dict:
    """:func:`cross_fitted_predictions` of probabilities already normalised (``p``, shape (n, K)).

    The folds are :func:`prior_folds` of ``hashes`` (uint64, shape (n,)): the rows in hash
    order dealt in turn, so fold ``f`` is every ``n_splits``-th row of that order from the
    ``f``-th. The EM of a fold takes the other folds' rows in hash order, so it adds the same
    rows in the same order for the rows in any order (its prior is bitwise the same).
    Holds, besides ``p``, the other folds' rows (normalised again in their own buffer, as
    :func:`em_prior` would), the hash order and a few integers a row; a fold's own rows are
    adjusted a chunk at a time.
    """
    y_pred = np.asarray(y_pred)
    y_pred = y_pred if np.issubdtype(y_pred.dtype, np.integer) else y_pred.astype(np.int64)
    n = p.shape[0]
    if n_splits < 2 or n < 2 * n_splits:
        raise ValueError(f"cross-fitting {n_splits} folds needs at least {2 * max(n_splits, 2)} rows. Got {n} instead.")
    # Positions fit in 4 bytes below 2^31 rows: the order is held through every fold.
    order = hash_order(hashes).astype(np.int32 if n < 2 ** 31 else np.int64)
    y_after = y_pred.astype(np.int64)
    priors, converged = [], True
    for f in range(n_splits):
        test = np.sort(order[f::n_splits])  # position order: a fold's rows are corrected one by one
        rows = p[np.delete(order, np.s_[f::n_splits])]  # the other folds, in hash order
        fit = _em_fit(_normalise(rows, out=rows), train_prior)
        del rows
        priors.append(fit["prior"])
        converged &= fit["converged"]
        y_after[test] = _corrected(p[test], y_pred[test], fit["weights"])
    return {"y_after": y_after, "fold_priors": np.vstack(priors), "n_changed": int((y_after != y_pred).sum()),
            "converged": bool(converged)}


def _corrected(p: np.ndarray, y_pred: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Predictions of rows ``p`` (n, K) after :func:`adjust_posteriors` with ``weights``, shape (n,), int64.

    Only a row whose argmax the correction moves changes: elsewhere the file's own
    prediction stands (it may break ties or thresholds differently from the argmax).
    Adjusted :data:`ROW_CHUNK` rows at a time (each row's answer is its own).
    """
    out = np.empty(p.shape[0], dtype=np.int64)
    for start in range(0, p.shape[0], ROW_CHUNK):
        part = p[start:start + ROW_CHUNK]
        moved = adjust_posteriors(part, weights).argmax(axis=1)
        out[start:start + ROW_CHUNK] = np.where(moved != part.argmax(axis=1), moved, y_pred[start:start + ROW_CHUNK])
    return out


def _mcnemar(b: int, c: int) -> float:
    from blindspot.compare import mcnemar_exact  # the project's exact McNemar test

    return mcnemar_exact(b, c)


def _rate_entry(hits_before, hits_after, n, reps_before, reps_after, reps_n, level: float) -> dict:
    """Before/after rate with Wilson intervals, paired change with bootstrap interval and McNemar p."""
    hb, ha = int(hits_before.sum()), int(hits_after.sum())
    lo_b, hi_b = wilson_interval(hb, n, level)
    lo_a, hi_a = wilson_interval(ha, n, level)
    with np.errstate(invalid="ignore", divide="ignore"):
        reps = (reps_after - reps_before) / reps_n
    lo_d, hi_d = percentile_interval(reps, level)
    before = hb / n if n else float("nan")
    after = ha / n if n else float("nan")
    return {"n": int(n), "before": Estimate(float(before), float(lo_b), float(hi_b), WILSON).encode(),
            "after": Estimate(float(after), float(lo_a), float(hi_a), WILSON).encode(),
            "delta": Estimate(float(after - before), float(lo_d), float(hi_d), CHANGE_INTERVAL_METHOD).encode(),
            "lost": int((hits_before & ~hits_after).sum()), "gained": int((~hits_before & hits_after).sum()),
            "p_value": _mcnemar(int((hits_before & ~hits_after).sum()), int((~hits_before & hits_after).sum()))}


def _integers(values) -> np.ndarray:
    """``values`` as an integer array: kept in their own integer dtype (no int64 copy), else made int64."""
    arr = np.asarray(values)
    return arr if np.issubdtype(arr.dtype, np.integer) else arr.astype(np.int64)


def _triple_codes(t: np.ndarray, b: np.ndarray, a: np.ndarray, k: int) -> np.ndarray:
    """Each row's cell ``(t * k + b) * k + a`` of the (true, before, after) table, shape (n,), int64.

    Made :data:`ROW_CHUNK` rows at a time, so the int64 temporaries are one chunk's.
    """
    out = np.empty(t.size, dtype=np.int64)
    for start in range(0, t.size, ROW_CHUNK):
        end = start + ROW_CHUNK
        out[start:end] = (t[start:end].astype(np.int64) * k + b[start:end]) * k + a[start:end]
    return out


def what_if_metrics(y_true, y_before, y_after, classes: Sequence[str], *, n_boot: int, level: float,
                    rng: np.random.Generator) -> dict:
    """Accuracy and per-class recall before and after a change of predictions, paired.

    Parameters
    ----------
    y_true, y_before, y_after : array_like of int, shape (n,)
    classes : sequence of str, length K
    n_boot, level : int, float
    rng : numpy.random.Generator

    Returns
    -------
    dict
        ``accuracy`` and ``per_class`` (class -> ``{"recall": ...}``), each entry as
        :func:`_rate_entry` (``n`` is the rows the rate is computed on: all rows, or the
        rows of that class).
    """
    k = len(classes)
    t, b, a = (_integers(v) for v in (y_true, y_before, y_after))
    codes, counts = np.unique(_triple_codes(t, b, a, k), return_counts=True)
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
    out = {"accuracy": _rate_entry(b == t, a == t, t.size, acc_b, acc_a, np.full(acc_b.shape, n), level),
           "per_class": {}}
    for j, name in enumerate(classes):
        rows = t == j
        out["per_class"][name] = {"recall": _rate_entry((b == t)[rows], (a == t)[rows], int(rows.sum()),
                                                        rec_b[:, j], rec_a[:, j], rec_n[:, j], level)}
    return out


def _shares(counts, classes) -> dict:
    total = float(np.sum(counts))
    return {c: (float(v) / total if total else float("nan")) for c, v in zip(classes, counts)}


def _by_class(values, classes) -> dict:
    return {c: float(v) for c, v in zip(classes, values)}


def label_counts(y_true, n_classes: int) -> np.ndarray:
    """Rows of each class, shape (K,), int64."""
    return np.bincount(np.asarray(y_true, dtype=np.int64), minlength=n_classes)[:n_classes]


def prior_shift(y_true_baseline, y_true_current, y_pred_current, proba_current, classes: Sequence[str], *,
                baseline_name: str, alpha: float, n_boot: int, level: float, seed: int, hashes=None,
                n_splits: int = N_SPLITS, overwrite_proba: bool = False) -> dict:
    """The ``prior_shift`` block of ``metrics/compare.json``.

    Parameters
    ----------
    y_true_baseline : array_like of int, shape (n_b,)
        Gold labels of the baseline file (class indices).
    y_true_current, y_pred_current : array_like of int, shape (n,)
        Gold labels and predictions of the current file.
    proba_current : ndarray of float, shape (n, K), or None
        Current class probabilities; None when the file has none.
    classes : sequence of str, length K
    baseline_name : str
        Named as the source of the training prior.
    alpha, n_boot, level, seed : float, int, float, int
        Test level, bootstrap replicates, interval level, seed.
    hashes : array_like of uint64, shape (n,), optional
        :func:`fold_hashes` of the current rows' ids: the what-if's folds are ranked by them,
        so it is the same for the rows in any order. Without them the row positions stand for
        the ids (:func:`cross_fitted_predictions`' default): a caller with ids should pass them.
    n_splits : int
        Cross-fitting folds.
    overwrite_proba : bool
        Let the rows of ``proba_current`` (a writable float64 array) be normalised in place
        instead of in a copy: one (n, K) matrix held instead of two. Its values change.

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
    """
    classes = list(classes)
    k = len(classes)
    cb, cc = label_counts(y_true_baseline, k), label_counts(y_true_current, k)
    out = {"measured": 1, "reason": "", "classes": classes,
           "label_shift": _label_shift(cb, cc, classes, alpha=alpha, seed=seed)}
    reason = _unmeasurable(proba_current, cb, cc, classes, baseline_name=baseline_name, n_splits=n_splits)
    if reason:
        return {**out, "em": {"measured": 0, "reason": reason}, "what_if": {"measured": 0, "reason": reason}}
    train = cb / cb.sum()
    # Normalised once for the EM estimate, the mean and the cross-fitting (each normalised the same
    # rows alike): in the caller's own matrix when it allows it.
    p = _normalise(proba_current, out=proba_current if overwrite_proba and _writable_floats(proba_current) else None)
    del proba_current
    out["em"] = _em_block(p, train, cc, classes, baseline_name=baseline_name)
    hashes = _hashes_or_positions(hashes, p.shape[0], seed)
    cross = _cross_fitted(y_pred_current, p, train, hashes=hashes, n_splits=n_splits)
    del p
    rng = named_rng(seed, "prior_shift/what_if")
    metrics = what_if_metrics(y_true_current, y_pred_current, cross["y_after"], classes, n_boot=n_boot, level=level,
                              rng=rng)
    out["what_if"] = {"measured": 1, "reason": "", "method": WHAT_IF_METHOD, "n_splits": int(n_splits),
                      "n_boot": int(n_boot), "ci_level": float(level), "n": int(len(cross["y_after"])),
                      "n_changed": cross["n_changed"], "converged": int(cross["converged"]),
                      "fold_priors": [_by_class(row, classes) for row in cross["fold_priors"]], **metrics}
    return out


def _writable_floats(proba) -> bool:
    """Whether ``proba`` can take its own normalised rows: a writable float64 ndarray."""
    return isinstance(proba, np.ndarray) and proba.dtype == np.float64 and proba.flags.writeable


def _label_shift(cb: np.ndarray, cc: np.ndarray, classes: list, *, alpha: float, seed: int) -> dict:
    """``label_shift``: both files' label counts and shares, and :func:`label_shift_test`."""
    return {"n_baseline": int(cb.sum()), "n_current": int(cc.sum()),
            "counts_baseline": {c: int(v) for c, v in zip(classes, cb)},
            "counts_current": {c: int(v) for c, v in zip(classes, cc)},
            "shares_baseline": _shares(cb, classes), "shares_current": _shares(cc, classes),
            **label_shift_test(cb, cc, alpha=alpha, rng=named_rng(seed, "prior_shift/label_test"))}


def _unmeasurable(proba_current, cb: np.ndarray, cc: np.ndarray, classes: list, *, baseline_name: str,
                  n_splits: int) -> str:
    """Why the EM prior and the what-if cannot be measured (one sentence), or ""."""
    absent = [c for c, v in zip(classes, cb) if v == 0]
    if proba_current is None:
        return NO_PROBABILITIES_REASON
    if absent:
        return (f"not measurable: the class(es) {absent} have no row in the baseline {baseline_name}, so their "
                f"training prior is 0 and the correction weight undefined")
    if cc.sum() < 2 * n_splits:
        return f"not measurable: {int(cc.sum())} current rows, fewer than {2 * n_splits} for {n_splits} folds"
    return ""


def _em_block(p: np.ndarray, train: np.ndarray, cc: np.ndarray, classes: list, *, baseline_name: str) -> dict:
    """``em``: the training prior, the EM estimate of the current prior, and how far it lands from the labels.

    ``p`` (n, K): the current probabilities, normalised (:func:`_normalise`).
    """
    fit = _em_fit(p, train)
    return {"measured": 1, "reason": "", "method": EM_METHOD,
            "training_prior_source": f"gold-label shares of the baseline {baseline_name}",
            "training_prior": _by_class(train, classes), "estimated_prior": _by_class(fit["prior"], classes),
            "current_label_shares": _shares(cc, classes),
            "mean_predicted_probability": _by_class(p.mean(axis=0), classes),
            # The audit has the gold labels the EM does without: how far its estimate lands from them
            # (half the L1 distance) says whether the label-free estimate can be trusted on this model.
            "total_variation_to_current_labels": float(0.5 * np.abs(fit["prior"] - cc / cc.sum()).sum()),
            "n_iter": fit["n_iter"], "converged": int(fit["converged"]), "tol": f"{EM_TOL:g}"}


def not_measured(reason: str) -> dict:
    """The ``prior_shift`` block when nothing can be measured (no baseline, baseline unreadable)."""
    return {"measured": 0, "reason": reason}
