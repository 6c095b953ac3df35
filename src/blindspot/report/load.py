"""Everything the brief reads, loaded and named in one place.

The report never recomputes a number: it reads the files earlier stages wrote and
renders them. This module is the *only* place that knows their keys. Each
``parse_*`` function turns one file into a small typed view; when an upstream format
moves, the fix is here, usually one line.

A file that is absent (the judge did not run, no comparison) gives ``None`` and the
brief says so. A file that is present but lacks a key the report uses also gives
``None``, with the problem recorded in :attr:`Inputs.problems` (the brief shows it
and the stage logs it), so one upstream change cannot take the whole brief down.
``metrics/profile.json`` is the exception: without it there is nothing to report.
"""

from __future__ import annotations

import json
import math
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from blindspot import paths
from blindspot.errors import InputError

# --- the files, and the pictures the brief shows (paths relative to the repository root) ---

COMPARE = paths.COMPARE_METRICS
FIGURES = {
    "confusion": paths.PROFILE_PLOTS / "confusion_matrix.png",
    "class_distribution": paths.PROFILE_PLOTS / "class_distribution.png",
    "slice_confusion": paths.SLICE_PLOTS / "top_blind_spots_confusion.png",
    "forest": paths.SLICE_PLOTS / "gap_forest.png",
    "reliability": paths.CALIBRATION_PLOTS / "reliability.png",
    "reliability_slices": paths.CALIBRATION_PLOTS / "reliability_slices.png",
    "confidence_histogram": paths.CALIBRATION_PLOTS / "confidence_histogram.png",
    "recalibration": paths.CALIBRATION_PLOTS / "recalibration.png",
}
# The metrics files a baseline git revision is read from (report.baseline_rev).
REV_FILES = {"profile": paths.PROFILE_METRICS, "slices": paths.SLICE_METRICS,
             "calibration": paths.CALIBRATION_METRICS}


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class Estimate:
    """A number and its interval (``None`` bounds when none was reported)."""

    value: float
    ci_low: Optional[float] = None
    ci_high: Optional[float] = None

    @property
    def has_interval(self) -> bool:
        return self.ci_low is not None and self.ci_high is not None


def _num(x) -> Optional[float]:
    return None if x is None else float(x)


def nested(d: dict) -> Estimate:
    """``{value, ci_low, ci_high}``."""
    return Estimate(float(d["value"]), _num(d.get("ci_low")), _num(d.get("ci_high")))


def flat(d: dict, name: str) -> Estimate:
    """``name`` with ``name_ci_low`` / ``name_ci_high`` siblings."""
    return Estimate(float(d[name]), _num(d.get(f"{name}_ci_low")), _num(d.get(f"{name}_ci_high")))


@dataclass(frozen=True)
class ClassRow:
    name: str
    support: int
    share: float
    predicted: int
    predicted_share: float
    recall: Estimate
    precision: Estimate
    f1: Estimate


@dataclass(frozen=True)
class Profile:
    model: str
    n_rows: int
    ci_level: float
    accuracy: Estimate
    balanced_accuracy: Estimate
    f1_macro: Estimate
    mcc: Estimate
    cohen_kappa: Estimate
    majority_class: str
    majority_baseline: float
    lift: Estimate  # accuracy minus the majority baseline
    imbalance_ratio: float
    classes: tuple  # of ClassRow, in config order
    confusion: dict  # true -> predicted -> count
    interval_method: str

    def cls(self, name: str) -> ClassRow:
        return next(c for c in self.classes if c.name == name)


def parse_profile(m: dict) -> Profile:
    classes = []
    for name in m["classes"]:  # {class: index}, in config order
        pc, lab, pred = m["per_class"][name], m["label_distribution"][name], m["prediction_distribution"][name]
        classes.append(ClassRow(name, int(pc["support"]), float(lab["share"]), int(pred["n"]), float(pred["share"]),
                                nested(pc["recall"]), nested(pc["precision"]), nested(pc["f1"])))
    return Profile(
        model=str(m.get("model", "")), n_rows=int(m["n_rows"]), ci_level=float(m["ci_level"]),
        accuracy=nested(m["accuracy"]), balanced_accuracy=nested(m["balanced_accuracy"]),
        f1_macro=nested(m["f1_macro"]), mcc=nested(m["mcc"]), cohen_kappa=nested(m["cohen_kappa"]),
        majority_class=str(m["majority_class"]), majority_baseline=float(m["majority_baseline_accuracy"]),
        lift=nested(m["accuracy_over_baseline"]), imbalance_ratio=float(m["imbalance_ratio"]),
        classes=tuple(classes), confusion=m["confusion_matrix"], interval_method=str(m["interval_method"]))


@dataclass(frozen=True)
class Finding:
    """One (slice, metric) test of the slice stage (``reports/findings.json``)."""

    id: str
    source: str  # class | watchlist | discovered
    key: str
    description: str
    n: int  # rows behind the metric
    slice_n: int
    metric: str  # error_rate | recall_<class> | recall (class findings)
    higher_is_better: bool
    value: Estimate
    rest_value: float
    gap: Estimate
    p_value: Optional[float]
    q_value: Optional[float]
    significant: bool
    excess: float
    excess_given_class_mix: Optional[float]
    rank: Optional[int]
    explained_by_parent: bool
    label: Optional[str]  # the class, for class findings


def parse_finding(f: dict) -> Finding:
    return Finding(
        id=str(f["id"]), source=str(f["source"]), key=str(f["key"]), description=str(f["description"]),
        n=int(f["n"]), slice_n=int(f["slice_n"]), metric=str(f["metric"]),
        higher_is_better=bool(f["higher_is_better"]), value=Estimate(float(f["value"]), _num(f["ci_low"]),
                                                                   _num(f["ci_high"])),
        rest_value=float(f["rest_value"]), gap=Estimate(float(f["gap"]), _num(f["gap_ci_low"]), _num(f["gap_ci_high"])),
        p_value=_num(f.get("p_value")), q_value=_num(f.get("q_value")), significant=bool(f["significant"]),
        excess=float(f["excess"]), excess_given_class_mix=_num(f.get("excess_given_class_mix")),
        rank=None if f.get("rank") is None else int(f["rank"]), explained_by_parent=bool(f["explained_by_parent"]),
        label=(f.get("slice") or {}).get("label") if f["source"] == "class" else None)


@dataclass(frozen=True)
class WatchSlice:
    key: str
    n: int
    share: Optional[float]
    tested: bool
    reason: str
    error_rate: Optional[Estimate]
    rest_error_rate: Optional[float]
    q_value: Optional[float]
    significant: bool


@dataclass(frozen=True)
class Slices:
    n_rows: int
    fdr_alpha: float
    ci_level: float
    test: str
    gap_interval_method: str
    n_tests: int
    n_slices_tested: int
    n_blind_spots: int
    findings: tuple  # of Finding, in the file's order
    watchlist: tuple  # of WatchSlice, in the file's (key) order

    @property
    def class_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.source == "class"]

    @property
    def blind_spots(self) -> list[Finding]:
        """Significant slice findings the slice stage ranked, best first."""
        ranked = [f for f in self.findings if f.source != "class" and f.significant and f.rank is not None]
        return sorted(ranked, key=lambda f: f.rank)

    def on_watchlist(self, key: str) -> bool:
        return any(w.key == key for w in self.watchlist)


def parse_slices(m: dict, findings: list) -> Slices:
    settings, family = m["settings"], m["family"]
    watch = []
    for key, w in m["watchlist"].items():
        err = w.get("error_rate")
        watch.append(WatchSlice(
            key=key, n=int(w["n"]), share=_num(w.get("share")), tested=bool(w.get("tested", False)),
            reason=str(w.get("reason", "")),
            error_rate=None if err is None else Estimate(float(err["value"]), _num(err.get("ci_low")),
                                                          _num(err.get("ci_high"))),
            rest_error_rate=None if err is None else _num(err.get("rest_value")),
            q_value=None if err is None else _num(err.get("q_value")),
            significant=bool(err.get("significant", False)) if err else False))
    return Slices(n_rows=int(m["n_rows"]), fdr_alpha=float(settings["fdr_alpha"]), ci_level=float(settings["ci_level"]),
                  test=str(settings["test"]), gap_interval_method=str(settings["gap_interval_method"]),
                  n_tests=int(family["n_tests"]), n_slices_tested=int(family["n_slices_tested"]),
                  n_blind_spots=int(family["n_blind_spots"]), findings=tuple(parse_finding(f) for f in findings),
                  watchlist=tuple(watch))


@dataclass(frozen=True)
class ConfidentRate:
    """Wrong with confidence >= threshold, among a set of rows."""

    threshold: float
    count: int
    rate: Estimate  # of all rows in the set
    n_confident: int
    share_of_errors: float


def _band_key(threshold: float) -> str:
    # calibration writes one entry per threshold: conf_ge_80 for 0.8
    return f"conf_ge_{round(threshold * 100):02d}"


def _confident(block: dict, threshold: float) -> Optional[ConfidentRate]:
    d = block.get(_band_key(threshold))
    if d is None:
        return None
    return ConfidentRate(float(d["threshold"]), int(d["count"]), flat(d, "rate"), int(d["n_confident"]),
                         float(d["share_of_errors"]))


@dataclass(frozen=True)
class Calibration:
    n: int
    threshold: float  # the band the report uses
    thresholds: tuple
    ece: Estimate
    ece_p_value: Optional[float]
    ece_noise_floor: Optional[float]
    overconfidence: Estimate  # mean confidence minus accuracy
    mean_confidence: float
    accuracy: float
    confidence_auroc: Optional[float]
    brier: Optional[Estimate]
    confident: ConfidentRate
    by_class: dict  # class -> ConfidentRate (rows of that true class)
    by_slice: dict  # slice key -> ConfidentRate (evaluated slices)
    recal_status: str
    recal_best: Optional[str]
    recal_ece_before: Optional[float]
    recal_ece_after: Optional[float]
    interval_method: str


def parse_calibration(m: dict, threshold: float) -> Calibration:
    thresholds = tuple(float(t) for t in m["confident_thresholds"])
    # The configured band if calibration reports it, else the closest one (the brief names it).
    used = min(thresholds, key=lambda t: (abs(t - threshold), t))
    o = m["overall"]
    by_class = {c: _confident(v["confidently_incorrect"], used) for c, v in m["by_class"].items()}
    by_slice = {k: _confident(v["confidently_incorrect"], used) for k, v in m["slices"].items()
                if v.get("status") == "ok" and "confidently_incorrect" in v}
    r = m["recalibration"]
    best = r.get("best_method") if r.get("status") == "ok" else None
    return Calibration(
        n=int(m["n"]), threshold=used, thresholds=thresholds, ece=flat(o, "ece"),
        ece_p_value=_num(o.get("ece_p_value")),
        ece_noise_floor=_num(o.get("ece_noise_floor")), overconfidence=flat(o, "overconfidence"),
        mean_confidence=float(o["mean_confidence"]), accuracy=float(o["accuracy"]),
        confidence_auroc=_num(o.get("confidence_auroc")), brier=flat(o, "brier") if "brier" in o else None,
        confident=_confident(m["confidently_incorrect"], used), by_class=by_class, by_slice=by_slice,
        recal_status=str(r.get("status")), recal_best=best,
        recal_ece_before=_num(r["none"]["ece"]) if best else None,
        recal_ece_after=_num(r[best]["ece"]) if best else None, interval_method=str(m["interval_method"]))


@dataclass(frozen=True)
class Judge:
    backend: str
    model: str
    prompt_version: str
    n_candidates: int
    n_random: int
    n_targeted: int
    judged: int
    coverage: float
    failures: dict  # kind -> count, with "total"
    kappa_gold: Estimate  # on the random sample
    agreement_gold: Estimate  # on the random sample
    n_agreement: int
    kappa_model: Estimate
    sarcasm: int
    mixed: int
    technical: int
    gold_wrong: int
    gold_wrong_random: int
    gold_wrong_random_n: int
    gold_wrong_random_rate: Estimate
    ci_n: int
    ci_with_gold: int
    ci_with_model: int
    ci_with_neither: int
    cl_available: bool
    cl_suspected: Optional[int]
    cl_rate: Optional[Estimate]
    cl_flag_kappa: Optional[Estimate]
    injection_suspected: int
    interval_method: str


def parse_judge(m: dict) -> Judge:
    rnd = m["agreement"]["random_sample"]
    gw = m["verdicts"]["gold_label_wrong_random_sample"]
    sides, li = m["confidently_incorrect_sides"], m["label_issues"]
    cl = li.get("confident_learning") if li.get("available") else None
    flags = li.get("judged", {}).get("flag_agreement") if li.get("available") else None
    return Judge(
        backend=str(m["backend"]), model=str(m["model"]), prompt_version=str(m["prompt_version"]),
        n_candidates=int(m["candidates"]["n"]), n_random=int(m["candidates"]["random_sample"]),
        n_targeted=int(m["candidates"]["targeted"]), judged=int(m["judged"]), coverage=float(m["coverage"]),
        failures={k: int(v) for k, v in m["failures"].items()},
        kappa_gold=flat(rnd["gold"], "kappa"), agreement_gold=flat(rnd["gold"], "agreement_rate"),
        n_agreement=int(rnd["gold"]["n"]), kappa_model=flat(rnd["model"], "kappa"),
        sarcasm=int(m["verdicts"]["sarcasm"]), mixed=int(m["verdicts"]["mixed_sentiment"]),
        technical=int(m["verdicts"]["technical_register"]), gold_wrong=int(m["verdicts"]["gold_label_wrong"]),
        gold_wrong_random=int(gw["count"]), gold_wrong_random_n=int(gw["n"]), gold_wrong_random_rate=flat(gw, "rate"),
        ci_n=int(sides["n"]), ci_with_gold=int(sides["with_gold"]), ci_with_model=int(sides["with_model"]),
        ci_with_neither=int(sides["with_neither"]), cl_available=cl is not None,
        cl_suspected=int(cl["suspected"]) if cl else None, cl_rate=flat(cl, "rate") if cl else None,
        cl_flag_kappa=flat(flags, "kappa") if flags else None, injection_suspected=int(m["injection_suspected"]),
        interval_method=str(m["interval_method"]))


@dataclass(frozen=True)
class JudgeRead:
    """The judge's reading of one review (``data/interim/judgments.jsonl``)."""

    sentiment: Optional[str]
    gold_label_wrong: bool
    sarcasm: bool
    mixed: bool
    status: str


def parse_judgment(row: dict) -> JudgeRead:
    v = row.get("verdict") or {}
    return JudgeRead(sentiment=v.get("sentiment"), gold_label_wrong=bool(v.get("gold_label_wrong", False)),
                     sarcasm=bool(v.get("sarcasm", False)), mixed=bool(v.get("mixed_sentiment", False)),
                     status=str(row.get("status", "")))


@dataclass(frozen=True)
class Example:
    """One confidently-incorrect review (``data/interim/confident_errors.jsonl``)."""

    rank: int
    id: str
    text: str
    label: str
    prediction: str
    confidence: float
    probability_of_label: Optional[float]
    slices: tuple


def parse_example(row: dict) -> Example:
    return Example(rank=int(row["rank"]), id=str(row["id"]), text=str(row["text"]), label=str(row["label"]),
                   prediction=str(row["prediction"]), confidence=float(row["confidence"]),
                   probability_of_label=_num(row.get("probability_of_label")), slices=tuple(row.get("slices") or ()))


@dataclass(frozen=True)
class Delta:
    """One paired comparison of ``metrics/compare.json``."""

    metric: str
    baseline: Optional[float]
    current: Optional[float]
    delta: Optional[Estimate]
    n: int
    test: str
    tested: bool
    reason: str
    p_value: Optional[float]
    q_value: Optional[float]
    higher_is_better: Optional[bool]
    changed: bool
    direction: str
    baseline_only: Optional[int]
    current_only: Optional[int]


def parse_delta(metric: str, e: dict) -> Delta:
    tested = bool(e["tested"])
    has = "delta" in e
    return Delta(metric=metric, baseline=_num(e.get("baseline")), current=_num(e.get("current")),
                 delta=flat(e, "delta") if has else None, n=int(e["n"]), test=str(e.get("test", "")), tested=tested,
                 reason=str(e.get("reason", "")), p_value=_num(e.get("p_value")), q_value=_num(e.get("q_value")),
                 higher_is_better=e.get("higher_is_better"), changed=bool(e.get("changed", False)),
                 direction=str(e.get("direction", "unchanged")),
                 baseline_only=e.get("baseline_only"), current_only=e.get("current_only"))


@dataclass(frozen=True)
class Comparison:
    status: str  # compared | no_baseline | no_overlap
    reason: str
    current_name: str
    baseline_name: str
    baseline_path: Optional[str]
    baseline_is_current: bool
    n_current: int
    n_baseline: int
    n_paired: int
    label_mismatch: int
    n_tests: int
    n_changed: int
    n_improved: int
    n_worsened: int
    fdr_alpha: float
    ci_level: float
    confident_threshold: float
    test: str
    global_deltas: tuple  # of Delta (accuracy first)
    class_deltas: dict  # class -> tuple of Delta (recall, precision, f1)
    slice_deltas: dict  # watchlist key -> (n, tuple of Delta)


GLOBAL_ORDER = ("accuracy", "balanced_accuracy", "f1_macro", "f1_weighted", "mcc", "cohen_kappa",
                "confidently_incorrect_rate", "brier", "brier_top_label", "log_loss")


def parse_compare(m: dict) -> Comparison:
    status = str(m["status"])
    pairing, settings, family = m.get("pairing", {}), m.get("settings", {}), m.get("family", {})
    glob = m.get("global", {})
    rest = sorted(k for k in glob if k not in GLOBAL_ORDER and k != "per_class")
    order = [k for k in GLOBAL_ORDER if k in glob] + rest
    per_class = {c: tuple(parse_delta(k, e[k]) for k in ("recall", "precision", "f1") if k in e)
                 for c, e in glob.get("per_class", {}).items()}
    slices = {}
    for key, e in m.get("watchlist", {}).items():
        names = [k for k in e if k != "n"]
        names = [k for k in GLOBAL_ORDER if k in names] + sorted(k for k in names if k not in GLOBAL_ORDER)
        slices[key] = (int(e["n"]), tuple(parse_delta(k, e[k]) for k in names))
    return Comparison(
        status=status, reason=str(m.get("reason", "")), current_name=str(m["current"]["name"]),
        baseline_name=str(m["baseline"]["name"]), baseline_path=m["baseline"].get("path"),
        baseline_is_current=bool(m.get("baseline_is_current", 0)), n_current=int(pairing.get("n_current", 0)),
        n_baseline=int(pairing.get("n_baseline", 0)), n_paired=int(pairing.get("n_paired", 0)),
        label_mismatch=int(pairing.get("label_mismatch", 0)), n_tests=int(family.get("n_tests", 0)),
        n_changed=int(family.get("n_changed", 0)), n_improved=int(family.get("n_improved", 0)),
        n_worsened=int(family.get("n_worsened", 0)), fdr_alpha=float(settings.get("fdr_alpha", math.nan)),
        ci_level=float(settings.get("ci_level", math.nan)),
        confident_threshold=float(settings.get("confident_threshold", math.nan)), test=str(settings.get("test", "")),
        global_deltas=tuple(parse_delta(k, glob[k]) for k in order), class_deltas=per_class, slice_deltas=slices)


# --------------------------------------------------------------------------- headline values


@dataclass(frozen=True)
class Headline:
    """A metric followed across versions: its label, ``dvc metrics diff`` key and direction."""

    label: str
    file: str
    key: str
    direction: str  # a METRIC_DIRECTION name
    value: float


def headlines(profile: Optional[Profile], slices: Optional[Slices], calibration: Optional[Calibration]) -> list:
    """The metrics whose deltas the report shows for ``report.baseline_rev``."""
    out = []
    if profile:
        f = str(paths.PROFILE_METRICS)
        for name, label in (("accuracy", "accuracy"), ("balanced_accuracy", "balanced accuracy"),
                            ("f1_macro", "macro F1"), ("mcc", "MCC"), ("cohen_kappa", "Cohen's kappa")):
            out.append(Headline(label, f, f"{name}.value", name, getattr(profile, name).value))
        for c in profile.classes:
            out.append(Headline(f"recall '{c.name}'", f, f"per_class.{c.name}.recall.value", "recall", c.recall.value))
    if calibration:
        f = str(paths.CALIBRATION_METRICS)
        out.append(Headline("ECE", f, "overall.ece", "ece", calibration.ece.value))
        if calibration.brier:
            out.append(Headline("Brier score", f, "overall.brier", "brier", calibration.brier.value))
        if calibration.confident:
            out.append(Headline(f"confidently incorrect (>= {calibration.threshold:g})", f,
                                f"confidently_incorrect.{_band_key(calibration.threshold)}.rate",
                                "confidently_incorrect_rate", calibration.confident.rate.value))
    if slices:
        f = str(paths.SLICE_METRICS)
        for w in slices.watchlist:
            if w.error_rate is not None:
                out.append(Headline(f"error rate in {w.key}", f, f"watchlist.{w.key}.error_rate.value", "error_rate",
                                    w.error_rate.value))
    return out


# --------------------------------------------------------------------------- loading


@dataclass
class Inputs:
    """Everything the brief renders; ``None`` where a file is absent or unreadable."""

    profile: Profile
    slices: Optional[Slices] = None
    calibration: Optional[Calibration] = None
    judge: Optional[Judge] = None
    comparison: Optional[Comparison] = None
    examples: list = field(default_factory=list)  # of Example, by rank
    judgments: dict = field(default_factory=dict)  # id -> JudgeRead
    figures: dict = field(default_factory=dict)  # name -> repository-relative POSIX path (existing files only)
    rev: Optional[str] = None  # report.baseline_rev
    rev_headlines: Optional[list] = None  # Headline list of that revision
    rev_problem: str = ""
    problems: list = field(default_factory=list)  # "file: what is wrong"
    missing: list = field(default_factory=list)  # files that do not exist


def _read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def _read_jsonl(path: Path) -> list:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _guard(inputs: Inputs, name: str, fn: Callable[[], Any]):
    try:
        return fn()
    except (KeyError, TypeError, ValueError, StopIteration, AttributeError) as exc:
        detail = f"missing key {exc}" if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}"
        inputs.problems.append(f"{name}: cannot be read for the brief ({detail})")
        return None


def git_show(rev: str, path: str, root: Path) -> str:
    """The content of ``path`` at git revision ``rev`` (raises OSError or CalledProcessError)."""
    return subprocess.run(["git", "show", f"{rev}:{path}"], cwd=root, capture_output=True, text=True,
                          check=True, timeout=30).stdout


def load_inputs(root: str | Path = ".", *, confident_threshold: float = 0.8, baseline_rev: Optional[str] = None
                ) -> Inputs:
    """Read every file the brief uses, relative to ``root``.

    Raises
    ------
    InputError
        When ``metrics/profile.json`` is absent or lacks a key the brief needs.
    """
    root = Path(root)
    ppath = root / paths.PROFILE_METRICS
    if not ppath.is_file():
        raise InputError(str(paths.PROFILE_METRICS), "not found: the brief starts from the profile stage's metrics.",
                         hint="run `python -m stages.profile` (or `dvc repro`) first.")
    try:
        profile = parse_profile(_read_json(ppath))
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(str(paths.PROFILE_METRICS), f"cannot be read for the brief: missing or malformed {exc}.",
                         expected="the profile stage's metrics (accuracy, per_class, ...)") from None
    inputs = Inputs(profile=profile)

    def present(rel: Path) -> Optional[Path]:
        p = root / rel
        if p.is_file():
            return p
        inputs.missing.append(str(rel))
        return None

    sp, fp = present(paths.SLICE_METRICS), present(paths.FINDINGS)
    if sp and fp:
        inputs.slices = _guard(inputs, f"{paths.SLICE_METRICS} / {paths.FINDINGS}",
                               lambda: parse_slices(_read_json(sp), _read_json(fp)))
    cp = present(paths.CALIBRATION_METRICS)
    if cp:
        inputs.calibration = _guard(inputs, str(paths.CALIBRATION_METRICS),
                                    lambda: parse_calibration(_read_json(cp), confident_threshold))
    jp = present(paths.JUDGE_METRICS)
    if jp:
        inputs.judge = _guard(inputs, str(paths.JUDGE_METRICS), lambda: parse_judge(_read_json(jp)))
    jr = present(paths.JUDGMENTS)
    if jr:
        inputs.judgments = _guard(inputs, str(paths.JUDGMENTS),
                                  lambda: {str(r["id"]): parse_judgment(r) for r in _read_jsonl(jr)}) or {}
    ep = present(paths.CONFIDENT_ERRORS)
    if ep:
        rows = _guard(inputs, str(paths.CONFIDENT_ERRORS), lambda: [parse_example(r) for r in _read_jsonl(ep)]) or []
        inputs.examples = sorted(rows, key=lambda e: e.rank)
    mp = present(COMPARE)
    if mp:
        inputs.comparison = _guard(inputs, str(COMPARE), lambda: parse_compare(_read_json(mp)))
    for name, rel in FIGURES.items():
        if (root / rel).is_file():
            inputs.figures[name] = rel.as_posix()
        else:
            inputs.missing.append(rel.as_posix())
    if baseline_rev:
        inputs.rev = baseline_rev
        inputs.rev_headlines, inputs.rev_problem = _load_rev(root, baseline_rev, confident_threshold)
    return inputs


def _load_rev(root: Path, rev: str, confident_threshold: float) -> tuple[Optional[list], str]:
    """Headline metrics of the committed metrics files at ``rev``, or why they are unavailable."""
    texts = {}
    for name, rel in REV_FILES.items():
        try:
            texts[name] = json.loads(git_show(rev, rel.as_posix(), root))
        except FileNotFoundError:
            return None, "git is not installed"
        except subprocess.CalledProcessError as exc:
            if name == "profile":
                first = (exc.stderr or "").strip().splitlines()
                return None, f"`git show {rev}:{rel.as_posix()}` failed: {first[0] if first else 'no output'}"
        except (subprocess.TimeoutExpired, json.JSONDecodeError, OSError) as exc:
            return None, f"{rel.as_posix()} at {rev} could not be read ({type(exc).__name__})"
    try:
        profile = parse_profile(texts["profile"])
        slices = parse_slices(texts["slices"], []) if "slices" in texts else None
        calibration = parse_calibration(texts["calibration"], confident_threshold) if "calibration" in texts else None
    except (KeyError, TypeError, ValueError) as exc:
        return None, f"the metrics at {rev} have another layout (missing {exc})"
    return headlines(profile, slices, calibration), ""
