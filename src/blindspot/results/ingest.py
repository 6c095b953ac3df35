"""``metrics/ingest.json``: the row accounting of validation (ingest stage, :mod:`blindspot.ingest`)."""

from __future__ import annotations

from blindspot.results.keys import LOWER, SCHEMA_VERSION, Key, ResultsFile

INGEST = ResultsFile(
    path="metrics/ingest.json",
    title="Ingest",
    about="Rows read, kept and rejected by the input contract, the rejections by reason, and what the reader "
          "noticed about the file as a whole. rows_in == rows_clean + rows_rejected always.",
    keys=(
        SCHEMA_VERSION,
        Key("rows_in", "count", "Records in the predictions file."),
        Key("rows_clean", "count", "Records that pass every check of the input contract (the rows audited)."),
        Key("rows_rejected", "count", "Records written to data/interim/rejected.jsonl with their reason.", LOWER),
        Key("rejected_share", "number", "rows_rejected over rows_in (0 for an empty file).", LOWER),
        Key("rejected_by_reason", "map:count",
            "Each rejection reason of the input contract and how many records it stopped, zeros included."),
        Key("has_probabilities", "count", "1 when the clean rows carry class probabilities, 0 for a confidence only."),
        Key("n_metadata_columns", "count", "Metadata fields (slice candidates) beside the contract's fields."),
        Key("bom_stripped", "count", "1 when a UTF-8 byte-order mark at the start of the file was skipped, else 0."),
    ),
)
