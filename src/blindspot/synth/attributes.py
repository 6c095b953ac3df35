"""Drawing a review's attributes: metadata values and latent attributes, by polarity.

Every attribute has a table of value probabilities with one row per polarity
(negative, neutral, positive): metadata are independent of the label, latent
attributes are not (negative reviews negate more often; only they are sarcastic).
"""

from __future__ import annotations

import numpy as np

from blindspot.synth.spec import LATENT_TRUE_RATE, METADATA_COLUMNS, METADATA_SHARES, NEG, NEU, POS



def polarity(n_classes: int) -> np.ndarray:
    """Polarity code of each class: first negative, last positive, others neutral."""
    pol = np.full(n_classes, NEU, np.int64)
    pol[0], pol[-1] = NEG, POS
    return pol


def attribute_tables() -> dict[str, np.ndarray]:
    """Per attribute, value probabilities by polarity, shape (3, n_values)."""
    tables = {c: np.tile(np.asarray(METADATA_SHARES[c], float), (3, 1)) for c in METADATA_COLUMNS}
    for c, true_rate in LATENT_TRUE_RATE.items():
        t = np.asarray(true_rate, float)
        tables[c] = np.column_stack([1 - t, t])
    return tables


def sample_codes(table: np.ndarray, pol: np.ndarray, rng: np.random.Generator,
                  exclude: int | None = None) -> np.ndarray:
    """Draw one value code per row from its polarity's row of ``table``.

    Parameters
    ----------
    table : ndarray, shape (3, V)
    pol : ndarray of int, shape (n,)
    rng : Generator
    exclude : int, optional
        A value that must not be drawn (its probability is set to zero).

    Returns
    -------
    ndarray of int64, shape (n,)
        Codes; -1 where the polarity's row has no mass left.
    """
    u = rng.random(pol.size)
    codes = np.full(pol.size, -1, np.int64)
    for p in range(table.shape[0]):
        rows = pol == p
        probs = table[p].copy()
        if exclude is not None:
            probs[exclude] = 0.0
        total = probs.sum()
        if not rows.any() or total <= 0:
            continue
        cdf = np.cumsum(probs / total)
        cdf[-1] = 1.0
        codes[rows] = np.minimum(np.searchsorted(cdf, u[rows], side="right"), len(cdf) - 1)
    return codes


