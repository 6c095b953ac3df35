"""One seeded random stream per named computation.

Every random draw over *counts* in the library (bootstrap replicates, resampled
tables) comes from a generator built here from the run's single ``seed`` and a name
saying what the draws are for (``"overall"``, ``"slice:jargon_high"``,
``"compare/global"``). Why a stream per name rather than one generator handed along:

- a block's numbers depend only on the seed, its name and its own data: adding a
  slice, a class or a new computation does not shift the draws of any other, so a
  slice's interval does not move because another slice appeared;
- reruns are byte-identical whatever order the blocks are computed in.

Draws over *rows* (samples, folds, orders) do not use a generator: they rank the rows by
:func:`blindspot.samples.row_hash` of their ids under the seed and a name, so they do not
depend on the rows' positions either.

The name is hashed with CRC-32 (stable across Python runs, unlike ``hash``) and the
pair ``[seed, crc]`` seeds NumPy's ``SeedSequence``, which spreads it over the PCG64
state. ``numpy.random.default_rng([seed, crc])`` and
``default_rng(SeedSequence([seed, crc]))`` are the same stream.
"""

from __future__ import annotations

import zlib

import numpy as np


def named_rng(seed: int, name: str) -> np.random.Generator:
    """The generator of the computation called ``name`` under ``seed``.

    Parameters
    ----------
    seed : int
        The run's seed (``seed`` in params.yaml).
    name : str
        What the draws are for; distinct names give independent streams.

    Returns
    -------
    numpy.random.Generator
        ``numpy.random.default_rng([seed, crc32(name as UTF-8)])``.
    """
    return np.random.default_rng([int(seed), zlib.crc32(name.encode("utf-8"))])
