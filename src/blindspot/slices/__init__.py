"""Slices: where the model does worse than its global numbers say.

Modules
-------
keys       one readable, DVC-safe key per (column, value), never two for one (hash suffix where ambiguous)
features   predicates (metadata values and bins, text detectors), their rules and membership; skipped columns
columns    a metadata column's mergeable summary, the predicates it fixes, and their rows in any batch
valuecounts quantiles read off value counts (numpy's, to the bit)
metafile   a file's batches read with the whole columns' dtypes
batch      the rows kept a batch at a time where they were read; every count a sum over them
evaluate   counts by matrix products; one-sided Fisher tests, Wilson and Newcombe intervals
discovery  conjunctions up to a depth, the "explained by a parent" rule, ranking
watchlist  named slices followed across model versions
topics     topics learned from the texts alone (TF-IDF + NMF): text predicates
terms      error-associated words and bigrams, cross-fitted, from count tables
textpass   the passes over the texts a batch at a time (locally or on Dask workers)
textslices topics and terms made ready for the audit; reports/text_slices.json
audit      :func:`audit_slices`: everything the slice stage computes, from one :class:`SliceSettings`
"""

from blindspot.slices.audit import SliceAudit, SliceSettings, audit_slices

__all__ = ["SliceAudit", "SliceSettings", "audit_slices"]
