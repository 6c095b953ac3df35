"""The slice stage's text pass, run a batch at a time in threads, gives exactly the whole table's flags."""

import numpy as np
import pandas as pd
import pytest

from blindspot import text_features as tf
from blindspot.slices import features as F

TEXTS = ["I don't like it", "Oh great, now I can't sleep!", "Metformin 500 mg twice a day?", "", "WORKS GREAT",
         "the side effects were awful but it saved my life", "I don't like it", "no", "  ", "Ca va très bien",
         None, "NO RELIEF AT ALL from the lisinopril, none", "yeah right, \"miracle\" pill"]
DETECTORS = ["negated_term", "sarcasm_cue", "mixed_sentiment", "question", "exclamation"]
THRESHOLDS = {"jargon_high_density": 0.1, "caps_high_share": 0.3}


def whole_table_flags(texts: pd.Series, detectors) -> pd.DataFrame:
    """The flags as the stage computed them before batching: every detector on all texts at once."""
    feats = tf.text_features(texts)
    out = {"jargon_high": feats["jargon_density"].to_numpy() >= THRESHOLDS["jargon_high_density"]}
    for name in detectors:
        out[name] = feats[F.TEXT_DETECTORS[name][0]].to_numpy(dtype=bool)
    out["caps_high"] = feats["caps_intensity"].to_numpy() >= THRESHOLDS["caps_high_share"]
    out["n_words"] = feats["n_words"].to_numpy().astype(np.int32)
    return pd.DataFrame(out)


@pytest.mark.parametrize("batch_rows", [1, 2, 3, 7, 1000])
@pytest.mark.parametrize("workers", [1, 2, 3])
def test_batched_flags_equal_the_whole_table(batch_rows, workers):
    texts = pd.Series(TEXTS * 3, dtype=object, index=pd.RangeIndex(5, 5 + 3 * len(TEXTS)))
    got = F.text_flag_table(texts, detectors=DETECTORS, batch_rows=batch_rows, workers=workers, **THRESHOLDS)
    pd.testing.assert_frame_equal(got, whole_table_flags(texts, DETECTORS))


def test_batches_given_as_an_iterable_equal_one_series():
    texts = pd.Series(TEXTS * 2, dtype=object)
    batches = (texts.iloc[lo:lo + 4].reset_index(drop=True) for lo in range(0, len(texts), 4))
    got = F.text_flag_table(batches, detectors=["question", "negated_term"], workers=2, **THRESHOLDS)
    pd.testing.assert_frame_equal(got, whole_table_flags(texts, ["question", "negated_term"]))


def test_only_the_listed_detectors_run_and_no_float_is_kept():
    got = F.text_flags(pd.Series(TEXTS, dtype=object), detectors=["question"], **THRESHOLDS)
    assert list(got.columns) == ["jargon_high", "question", "caps_high", "n_words"]
    assert [str(d) for d in got.dtypes] == ["bool", "bool", "bool", "int32"]


def test_no_text_gives_an_empty_table_with_the_columns():
    got = F.text_flag_table(iter([]), detectors=DETECTORS, **THRESHOLDS)
    assert len(got) == 0 and list(got.columns) == ["jargon_high", *DETECTORS, "caps_high", "n_words"]


def test_at_most_one_batch_more_than_threads_is_in_flight(monkeypatch):
    """Memory stays a few batches': the reader is not drained ahead of the threads."""
    read, live = [], []
    original = F.text_flags

    def counting(batch, **kw):
        live.append(len(read) - len(live))  # batches read but not yet finished, this one included
        return original(batch, **kw)

    def batches():
        for i in range(12):
            read.append(i)
            yield pd.Series(TEXTS, dtype=object)

    monkeypatch.setattr(F, "text_flags", counting)
    F.text_flag_table(batches(), detectors=DETECTORS, workers=2, **THRESHOLDS)
    assert len(live) == 12 and max(live) <= 3


def test_texts_of_another_length_than_the_table_are_refused():
    frame = pd.DataFrame({"text": pd.Series(["a b", "c"], dtype=object)})
    with pytest.raises(ValueError, match="texts of 3 rows given for a table of 2 rows"):
        F.build_predicates(frame, texts=pd.Series(["a", "b", "c"]), text_detectors=["question"], max_levels=None,
                           jargon_high_density=0.1, caps_high_share=0.3, length_bands={}, n_quantiles=4)
