"""``reports/lifecycle.json``: each blind spot against the previous audited version (lifecycle stage,
:mod:`blindspot.lifecycle`), and ``metrics/gate.json``: the release gate's rules (gate stage, :mod:`blindspot.gate`)."""

from __future__ import annotations

from blindspot.results.keys import LOWER, NEITHER, SCHEMA_VERSION, Key, ResultsFile

_STATUS = "new, reopened, persisting or closed against the previous version; open when nothing is tracked"

LIFECYCLE = ResultsFile(
    path="reports/lifecycle.json",
    title="Lifecycle",
    about=("Every blind spot of its own and every weak class of this version or the previous audited one (the "
           "record of `blindspot baseline`, baseline/), identified by key and metric, with its status; the blind "
           "spots closed before and still closed are carried forward, so a return is a reopening."),
    keys=(
        SCHEMA_VERSION,
        Key("status", "text", "tracked; no_baseline (no previous audit recorded); not_tracked (see reason)."),
        Key("reason", "text", "Why nothing is tracked (empty when tracked)."),
        Key("current", "text", "This version's model name."),
        Key("previous", "object", "The previous audited version (null when none is recorded)."),
        Key("previous.name", "text", "Its model name."),
        Key("previous.rev", "text", "The git revision `blindspot baseline` was given."),
        Key("previous.commit", "text", "The commit it named."),
        Key("previous.committed", "text", "The commit's date (ISO 8601)."),
        Key("previous.subject", "text", "The commit's subject line."),
        Key("counts.open", "count", "Blind spots of this version (of their own, and weak classes).", LOWER),
        *(Key(f"counts.{s}", "count", f"Blind spots {s} against the previous version.", d)
          for s, d in (("new", LOWER), ("reopened", LOWER), ("persisting", NEITHER), ("closed", NEITHER))),
        *(Key(f"counts.persisting_{t}", "count", f"Persisting ones whose paired test says {t}.", NEITHER)
          for t in ("better", "worse", "unchanged")),
        Key("blind_spots", "list", "One entry per blind spot of this or the previous version, in key order."),
        Key("blind_spots[].key", "text", "The slice key, or class__<class>."),
        Key("blind_spots[].metric", "text", "error_rate, recall_<class>, or recall (a weak class)."),
        Key("blind_spots[].kind", "text", "slice (a blind spot of its own) or class (a weak class)."),
        Key("blind_spots[].label", "text", "The slice in words, or the class."),
        Key("blind_spots[].status", "text", f"{_STATUS}."),
        Key("blind_spots[].trend", "text", "Persisting only: better, worse or unchanged by the compare stage's paired "
                                           "test after false-discovery control."),
        Key("blind_spots[].value", "number", "The metric in this version (null when closed).", NEITHER),
        Key("blind_spots[].previous_value", "number", "The metric in the previous version (null when new).", NEITHER),
        Key("blind_spots[].q_value", "number", "Its q value in this version's slice family.", NEITHER),
        Key("blind_spots[].first_seen", "text", "The model name of the version where it was first a blind spot, as "
                                                "far as the records go."),
        Key("closed_earlier", "list", "Blind spots closed at an earlier version and not back."),
        Key("closed_earlier[].key", "text", "The slice key, or class__<class>."),
        Key("closed_earlier[].metric", "text", "Its metric."),
        Key("closed_earlier[].kind", "text", "slice or class."),
        Key("closed_earlier[].label", "text", "The slice in words, or the class."),
        Key("closed_earlier[].closed_in", "text", "The model name of the version that closed it."),
    ),
)

GATE = ResultsFile(
    path="metrics/gate.json",
    title="Gate",
    about=("The release gate's rules of conf/gate/ checked against this audit: the lifecycle, the paired comparison "
           "and the headline floors. `blindspot gate` exits 1 when passed is 0. The same result is in "
           "reports/gate.md (for people) and reports/gate.junit.xml (for CI systems)."),
    keys=(
        SCHEMA_VERSION,
        Key("passed", "count", "1 when every rule passed, else 0."),
        Key("n_rules", "count", "Rules checked."),
        Key("n_failed", "count", "Rules that failed.", LOWER),
        Key("baseline", "text", "What the rules compared against, in words."),
        Key("rules.<rule>.passed", "count", "1 when the rule passed."),
        Key("rules.<rule>.summary", "text", "The rule's numbers in one line."),
        Key("rules.<rule>.failures", "list", "What broke it, one line each."),
        Key("rules.<rule>.failures[]", "text", "One item that broke the rule."),
    ),
)
