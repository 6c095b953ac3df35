"""Seeded synthetic consultation-app reviews with a simulated model, blind spots on demand.

:func:`generate` builds ``n`` realistic short reviews of a medical consultation app,
their sentiment labels, a *simulated* sentiment model's predictions and metadata, and
optionally plants blind spots (slices where the model errs more often, possibly with
high confidence). :func:`write` stores the result in the project's input contract
(JSON Lines, Parquet or CSV) next to a ``<stem>.truth.json`` describing what was
planted. Tests and benchmarks use it as data whose answer is known.

Everything is vectorised: texts are assembled by drawing, per row, one precomposed
fragment per slot (opener, core sentence, optional second sentence, optional mixed
sentence, detail, closer) with a numpy ``Generator`` and joining the slots with
``pyarrow.compute``; 1,000,000 rows take seconds.

The simulated model
-------------------
Null mode: confidence ``c`` is drawn per row from a Beta scaled onto ``(1/K, 1)``
with mean ``mean_confidence`` and the prediction is correct with probability ``c``,
so the model is perfectly calibrated in expectation and its errors are independent
of every text feature and metadata column. A wrong prediction is one of the other
classes, uniformly.

Planted mode: as null, plus slices (:class:`PlantedSlice`) defined by a predicate on
metadata columns and/or latent text attributes. Inside a slice, correct predictions
are flipped to wrong with probability ``error_gap / mean_confidence``, which raises
the error rate from ``1 - mean_confidence`` to exactly ``1 - mean_confidence +
error_gap`` in expectation; optionally the wrong predictions of the slice get
confidence near a given value (confidently incorrect). Slices are disjoint and the
predicate holds on a ``share`` of rows in expectation, outside as well as inside
(rows that would match a slice by chance are redrawn).

Probabilities are quantised to 1e-6 (integers of micro-units that sum to exactly
10**6), so what :func:`write` puts in a file with 6 decimals is exactly the frame.

Latent attributes
-----------------
``register`` (plain/jargon), ``negated``, ``sarcastic`` (negative reviews only) and
``mixed`` decide which fragments a review is made of; they are returned in
:attr:`SynthData.latent` as ground truth but are *not* metadata: an audit has to
recover them from the text.

Modules
-------
spec        public constants (classes, metadata, latent attributes), PlantedSlice, SynthData
lexicon     per-specialty vocabulary: conditions, drugs and doses, tests, side effects
fragments   the sentence templates of each slot, by polarity, register, negation, sarcasm, mix
library     every template filled with every specialty case, built once per process
compose     one review per row: a fragment per slot, joined (vectorised)
attributes  metadata and latent attributes drawn by polarity
planting    slice predicates, assignment of rows to slices, keeping slices disjoint
model       the simulated model: confidences, errors, class probabilities
truth       the JSON description of what was generated and planted
generator   :func:`generate`, the steps above in order
writers     :func:`write` (JSON Lines, Parquet, CSV) and :func:`truth_path`
cli         ``python -m blindspot.synth``
"""

from blindspot.synth.cli import main
from blindspot.synth.generator import generate
from blindspot.synth.spec import (
    DEFAULT_BINARY_SHARES,
    DEFAULT_CLASS_SHARES,
    DEFAULT_CLASSES,
    LATENT_COLUMNS,
    LATENT_VALUES,
    METADATA_COLUMNS,
    METADATA_SHARES,
    METADATA_VALUES,
    MODES,
    PlantedSlice,
    SynthData,
)
from blindspot.synth.writers import truth_path, write

__all__ = [
    "DEFAULT_BINARY_SHARES", "DEFAULT_CLASS_SHARES", "DEFAULT_CLASSES", "LATENT_COLUMNS", "LATENT_VALUES",
    "METADATA_COLUMNS", "METADATA_SHARES", "METADATA_VALUES", "MODES", "PlantedSlice", "SynthData", "generate",
    "main", "truth_path", "write",
]
