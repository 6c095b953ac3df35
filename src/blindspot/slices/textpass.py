"""The slice audit's passes over the review texts: flags, topics and term counts, never every text held.

The audit never holds every review text (a million of them take about 650 MiB). What
it needs of them is small and computed a batch at a time:

1. **The fitting sample** (:meth:`TextSource.sample`): the texts of at most
   ``text_sample_rows`` seeded rows (:func:`blindspot.slices.topics.fit_sample`), read
   once; the topics' TF-IDF vocabulary and NMF factors and the error terms' candidate
   vocabulary are fitted on them (:class:`TextModels`), then the sample is dropped.
2. **The text pass** (:func:`batch_pass`, one call per batch): the detector flags
   (:func:`blindspot.slices.features.text_flags`), each row's topic membership (its
   weights against the floor) and each topic's two strongest members of the batch (id
   and the first 300 characters), and the error terms' count table of the batch
   (:func:`blindspot.slices.terms.batch_counts`, the split by id). The flags and
   membership stay with the batch (:class:`blindspot.slices.batch.SliceBatch`); the examples
   are merged (:func:`merge_examples`) and the count tables added.
3. **Term membership** (:func:`term_hits`), only when some error term is significant:
   the terms are chosen from the summed counts, after the pass, so the rows holding
   them take one more pass (of at most ``2 * terms_top_k`` terms).

With ``engine: dask`` passes 2 and 3 run on the workers, one Parquet row group per task kept
there (:meth:`FileTexts.parts`); the fitted models (a few megabytes) are sent to the workers once.
With ``engine: local`` batches of :data:`TEXT_BATCH_ROWS` rows run in a few threads here. Flags and term counts depend on each row alone; a topic weight is
the solution of a small problem per row, solved to a tolerance measured over its batch,
so a weight can differ in its last digits between batchings (a membership only when
the weight sits that close to the floor).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from blindspot.io.schema import META_PREFIX
from blindspot.slices.evaluate import cells
from blindspot.slices.features import TEXT_BATCH_ROWS, text_flags
from blindspot.slices.terms import batch_counts, split_by_id, term_membership
from blindspot.slices.tokens import Lexicon, tokenize
from blindspot.slices.topics import TopicModel

EXAMPLE_CHARS = 300  # characters of an example review kept ("..." appended when cut)
N_EXAMPLES = 2
TOKEN_PIECE_ROWS = 2048  # rows tokenised at a time inside a batch: temporaries stay small, so few fresh pages
PASS_COLUMNS = ("id", "text", "y_true", "y_pred")


@dataclass(frozen=True)
class TextModels:
    """What every batch of the text pass is computed with (pickles: it travels to Dask workers).

    Attributes
    ----------
    detectors : tuple of str
    jargon_high_density, caps_high_share : float
        The detector flags' settings (:func:`blindspot.slices.features.text_flags`).
    topics : TopicModel or None
        None: no topics (off, or too little data).
    vocabulary : ndarray of str, shape (V,), or None
        The error terms' candidates proposed by the fitting sample; None: no terms.
    k : int
        Classes.
    seed : int
        Seeds the terms' split (:func:`blindspot.slices.terms.split_by_id`).
    """

    detectors: tuple
    jargon_high_density: float
    caps_high_share: float
    topics: TopicModel | None = None
    vocabulary: np.ndarray | None = None
    k: int = 2
    seed: int = 0


@dataclass
class BatchResult:
    """One batch's share of the text pass (a few bytes a row, and a count table).

    Attributes
    ----------
    flags : DataFrame, shape (m, ...)
        :func:`blindspot.slices.features.text_flags` of the batch.
    membership : ndarray of bool, shape (m, T)
        Row in topic (weight at least the floor).
    examples : list of list of (float, int, str, str), length T
        Each topic's (up to) two strongest members of the batch: weight, row in the batch, id, text.
    counts : ndarray of int64, shape (2, V + 1, 2K), or None
        :func:`blindspot.slices.terms.batch_counts` of the batch.
    """

    flags: pd.DataFrame
    membership: np.ndarray
    examples: list
    counts: np.ndarray | None


def _example_text(text) -> str:
    text = text if isinstance(text, str) else ""
    return text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS] + "..."


def batch_pass(frame: pd.DataFrame, *, models: TextModels) -> BatchResult:
    """Pass 2 on one batch of rows: detector flags, topic membership and examples, term counts.

    Parameters
    ----------
    frame : DataFrame, shape (m, ...)
        ``id``, ``text``, ``y_true``, ``y_pred`` of consecutive rows.
    models : TextModels

    Returns
    -------
    BatchResult
    """
    texts = frame["text"]
    flags = text_flags(texts, detectors=list(models.detectors), jargon_high_density=models.jargon_high_density,
                       caps_high_share=models.caps_high_share)
    m = len(frame)
    membership, examples = np.zeros((m, 0), bool), []
    # Tokenised once for both the topics and the terms (blindspot.slices.tokens' fast path), a piece of the
    # batch at a time: a piece's tokens and lookups take several times the bytes of its texts.
    tfidf, counts = [], None
    if models.vocabulary is not None:
        half_b = split_by_id(frame["id"].to_numpy(dtype=object), models.seed)
        cell = cells(frame["y_true"].to_numpy(np.int64), frame["y_pred"].to_numpy(np.int64), models.k)
        counts = np.zeros((2, len(models.vocabulary) + 1, 2 * models.k), np.int64)
        lexicon = Lexicon.of(models.vocabulary)  # the terms' vocabulary hashed once a batch
    if models.topics is not None or models.vocabulary is not None:
        for lo in range(0, m, TOKEN_PIECE_ROWS):
            tokens = tokenize(texts.iloc[lo:lo + TOKEN_PIECE_ROWS])
            if models.topics is not None:
                tfidf.append(models.topics.tfidf(tokens))
            if counts is not None:
                piece = slice(lo, lo + TOKEN_PIECE_ROWS)
                counts += batch_counts(tokens, half_b[piece], cell[piece], lexicon, models.k)
    if models.topics is not None:
        weights = models.topics.weights_of(sparse.vstack(tfidf, format="csr") if tfidf else
                                           models.topics.tfidf([]))  # the batch is one solver batch
        membership = weights >= models.topics.settings.weight_floor
        ids = frame["id"].astype("string").to_numpy(dtype=object)
        names = ids.astype(str)
        raw = texts.to_numpy(dtype=object)
        for j in range(models.topics.k):
            rows = np.flatnonzero(membership[:, j])
            top = rows[np.lexsort((rows, names[rows], -weights[rows, j]))][:N_EXAMPLES]
            examples.append([(float(weights[r, j]), int(r), str(ids[r]), _example_text(raw[r])) for r in top])
    return BatchResult(flags, membership, examples, counts)


def merge_examples(parts: Sequence[list], k: int) -> list:
    """Each topic's strongest members over every batch: ``parts`` holds each batch's
    :attr:`BatchResult.examples` with rows already counted from the table's first row.

    Strongest first, ties (a text repeated) by id, so the same rows in another order give the same examples.
    """
    top: list = [[] for _ in range(k)]
    for part in parts:
        for j in range(k):
            top[j] += part[j]
    return [sorted(c, key=lambda e: (-e[0], e[2], e[1]))[:N_EXAMPLES] for c in top]


def term_hits(frame: pd.DataFrame, *, terms: tuple) -> np.ndarray:
    """Pass 3 on one batch: which rows hold each term, ndarray of bool, shape (m, len(terms))."""
    return term_membership(frame["text"], list(terms))


class TextSource:
    """Where the audited rows come from: a sample of their texts, their ids, and their batches kept.

    Attributes
    ----------
    n : int
        Rows.
    metadata_names : list of str
        The raw names of the table's metadata columns (without ``meta__``), in its order.
    """

    n: int = 0
    metadata_names: list = []

    def sample(self, positions: np.ndarray) -> list:
        """Texts at ``positions`` (row positions, in any order), as a list of str in that order."""
        raise NotImplementedError

    def id_batches(self) -> Iterable:
        """The rows' ids, a batch of consecutive rows at a time (what the fitting sample is drawn by)."""
        raise NotImplementedError

    def parts(self, models: TextModels):
        """A context manager of the kept batches (:class:`blindspot.slices.batch.SliceBatch`), each made
        with its text pass, where they are read: :class:`blindspot.engine.batches.LocalParts` or ``DaskParts``."""
        raise NotImplementedError


class FrameTexts(TextSource):
    """The table and its texts held in memory (a library call, a test, the bench)."""

    def __init__(self, frame: pd.DataFrame, texts: pd.Series, batch_rows: int = TEXT_BATCH_ROWS):
        if len(texts) != len(frame):
            raise ValueError(f"texts of {len(texts)} rows given for a table of {len(frame)} rows.")
        meta = [c for c in frame.columns if str(c).startswith(META_PREFIX)]
        self.frame = pd.DataFrame({"id": frame["id"].to_numpy(), "text": texts.to_numpy(dtype=object),
                                   "y_true": frame["y_true"].to_numpy(), "y_pred": frame["y_pred"].to_numpy(),
                                   **{c: frame[c] for c in meta}})
        self.frame.index = pd.RangeIndex(len(frame))
        self.metadata_names = [c[len(META_PREFIX):] for c in meta]
        self.n = len(frame)
        self.batch_rows = max(1, int(batch_rows))

    def sample(self, positions):
        return [t if isinstance(t, str) else "" for t in self.frame["text"].to_numpy(dtype=object)[positions]]

    def id_batches(self):
        return [self.frame["id"].to_numpy(dtype=object)]

    def parts(self, models):
        from blindspot.slices.batch import frame_parts

        return frame_parts(self.frame, models, self.batch_rows)


class FileTexts(TextSource):
    """The validated table, read a batch at a time (the stage); with ``engine: dask`` each batch is a
    row group read, processed and kept on a worker."""

    def __init__(self, path: str | Path, n: int, *, engine: str = "local", dask=None):
        import pyarrow.parquet as pq

        self.path, self.n, self.engine, self.dask = Path(path), int(n), engine, dask
        self.metadata_names = [c[len(META_PREFIX):] for c in pq.read_schema(self.path).names
                               if c.startswith(META_PREFIX)]

    def sample(self, positions):
        from blindspot.io.readers import read_rows_at

        texts = read_rows_at(self.path, positions, ["text"])["text"]  # in the order asked
        return [t if isinstance(t, str) else "" for t in texts.to_numpy(dtype=object)]

    def id_batches(self):
        from blindspot.io.readers import predictions_batches

        return (batch["id"].to_numpy(dtype=object) for batch in predictions_batches(self.path, ["id"]))

    def parts(self, models):
        from blindspot.slices.batch import file_parts

        return file_parts(self.path, models, engine=self.engine, dask=self.dask)
