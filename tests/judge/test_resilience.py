"""The judge never stops or hangs the pipeline: every misbehaviour is a recorded row, the stage exits 0.

- a server that drips one byte a second is cut at ``judge.http.timeout_s`` in total;
- a run killed with SIGKILL keeps every answer already received, and a resume re-sends none;
- garbage, bad JSON and HTML error pages are parse failures with their raw text, never a stop;
- an open circuit breaker records the remaining rows as skipped with the reason;
- class names the offline rules cannot read (0/1, emoji, 32 classes) make it abstain per row,
  and ``judge.offline.polarity`` maps any of them from the command line;
- when no row has a verdict, ``metrics/judge.json`` says why next to every null.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from blindspot import paths
from blindspot.config import JudgeHttpConfig
from blindspot.io.writers import write_parquet
from blindspot.judge.http import OpenAIJudge
from blindspot.judge.prompt import load_prompt
from blindspot.judge.protocol import JudgeRequest, TransportError
from blindspot.results import undeclared
from blindspot.results.judge import JUDGE
from blindspot.stages import judge as judge_stage

from judge.helpers import CLASSES, canonical_frame
from judge.hostile import HostileServer, Response, ok_verdict

from _paths import ROOT

REQUEST = JudgeRequest(text="It did not work at all.", label="negative", classes=CLASSES)
THIRTY_TWO = [f"c{i:02d}" for i in range(32)]


def stage_env() -> dict:
    return {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}


def run_stage_process(work: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "blindspot.stages.judge"], cwd=work, env=stage_env(), capture_output=True,
                          text=True, timeout=timeout)


def write_frame(work: Path, n: int, classes=CLASSES, label_of=None) -> None:
    texts = [f"Review {i}: it works great, I love it." if i % 2 else f"Review {i}: awful, it did not work."
             for i in range(n)]
    labels = [label_of(i) if label_of else classes[i % len(classes)] for i in range(n)]
    write_parquet(work / paths.PREDICTIONS, canonical_frame(texts, labels, labels, [0.9] * n, classes=classes))


def openai_params(url: str, n: int, **http) -> dict:
    return {"judge.backend": "openai", "judge.max_candidates": n, "judge.random_sample_size": n, "stats.n_boot": 100,
            "judge.http.base_url": url, "judge.http.model": "m", "judge.http.max_retries": 0,
            "judge.http.backoff_s": 0.0, "judge.http.timeout_s": 5.0, "judge.http.concurrency": 1, **http}


def metrics(work: Path) -> dict:
    return json.loads((work / paths.JUDGE_METRICS).read_text())


def judgments(work: Path) -> list[dict]:
    return [json.loads(line) for line in (work / paths.JUDGMENTS).read_text().splitlines()]


def in_asked_order(rows: list[dict], server: HostileServer) -> list[dict]:
    """The judgments in the order the server was asked about their texts, the unasked ones last.

    The judge asks in the order the rules chose the rows (by a hash of their ids), not in the
    table's order; the texts of these tables are distinct.
    """
    turn = {review: k for k, review in enumerate(r["review"] for r in server.requests)}
    return sorted(rows, key=lambda r: turn.get(r["text"], len(turn)))


# ------------------------------------------------------------------------------------ total deadline

@pytest.mark.parametrize("drip", ["head", "body"])
def test_a_dripping_server_is_cut_at_timeout_s_in_total(drip):
    with HostileServer(lambda review, auth, n: Response(body=ok_verdict().body, drip=drip)) as server:
        judge = OpenAIJudge(JudgeHttpConfig(base_url=server.url, model="m", timeout_s=1.5, max_retries=1, backoff_s=0.0),
                            load_prompt("judge_v1"), sleep=lambda s: None)
        start = time.monotonic()
        with pytest.raises(TransportError) as caught:
            judge.complete(REQUEST)
        elapsed = time.monotonic() - start
    # 1.5 s for the whole call, retries included; bytes kept arriving every second, so a per-read
    # timeout would never have fired.
    assert 1.4 <= elapsed < 2.5
    assert caught.value.failure.kind == "timeout" and caught.value.failure.raw is None
    assert caught.value.failure.detail.endswith("within 1.5 s (after 1 attempt)")


# ------------------------------------------------------------------------------------ killed and resumed

def test_a_killed_run_keeps_every_answer_and_a_resume_resends_none(params_for, tmp_path):
    n, answered = 10, 4
    state = {"hang": True}

    def behaviour(review, auth, k):
        if state["hang"] and k > answered:
            return Response(hang=True)  # the run is killed while this call waits
        return ok_verdict("positive" if "great" in (review or "") else "negative")

    with HostileServer(behaviour) as server:
        work = params_for(openai_params(server.url, n, **{"judge.http.timeout_s": 30.0}))
        write_frame(work, n)
        process = subprocess.Popen([sys.executable, "-m", "blindspot.stages.judge"], cwd=work, env=stage_env(),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while len(server.requests) <= answered and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(server.requests) == answered + 1  # four answered, the fifth in flight
            time.sleep(0.3)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        kept = [json.loads(line) for line in (work / paths.JUDGE_CACHE).read_text().splitlines()]
        assert len(kept) == answered

        state["hang"] = False
        before = len(server.requests)
        resumed = run_stage_process(work)
        assert resumed.returncode == 0, resumed.stderr
        assert len(server.requests) - before == n - answered  # none of the paid answers is asked again
        assert metrics(work)["judged"] == n
        interrupted = (work / paths.JUDGE_CACHE).read_bytes()

        # The file ends in canonical form: the same bytes as a run that was never interrupted.
        clean = tmp_path / "clean"
        clean.mkdir()
        (clean / "params.yaml").write_bytes((work / "params.yaml").read_bytes())
        (clean / "data/interim").mkdir(parents=True)
        (clean / paths.PREDICTIONS).write_bytes((work / paths.PREDICTIONS).read_bytes())
        assert run_stage_process(clean).returncode == 0
        assert (clean / paths.JUDGE_CACHE).read_bytes() == interrupted
        assert (clean / paths.JUDGE_METRICS).read_bytes() == (work / paths.JUDGE_METRICS).read_bytes()


# ------------------------------------------------------------------------------------ garbage replies

GARBAGE = [b'{"choices": [ not json', b"\x00\xff\xfe garbage \x81", b"<html><body><h1>502 Bad Gateway</h1></body></html>",
           b"", b"[1, 2, 3]", b'{"choices": []}', b'{"choices": [{"message": {"content": 42}}]}', b"null"]


def test_garbage_replies_are_parse_failures_and_never_stop_the_stage(params_for):
    n = len(GARBAGE) + 2
    with HostileServer(lambda review, auth, k: Response(body=GARBAGE[k - 1]) if k <= len(GARBAGE) else ok_verdict()) \
            as server:
        work = params_for(openai_params(server.url, n))
        write_frame(work, n)
        done = run_stage_process(work)
    assert done.returncode == 0, done.stderr
    rows = in_asked_order(judgments(work), server)
    assert [r["failure"]["kind"] for r in rows[:len(GARBAGE)]] == ["parse_error"] * len(GARBAGE)
    assert rows[0]["failure"]["raw"] == '{"choices": [ not json'
    assert rows[2]["failure"]["raw"] == GARBAGE[2].decode()
    assert all(r["status"] == "ok" for r in rows[len(GARBAGE):])
    m = metrics(work)
    assert m["failures"]["parse_error"] == len(GARBAGE) and m["status"]["skipped"] == 0 and m["status"]["breaker"] is None


# ------------------------------------------------------------------------------------ circuit breaker

def test_an_open_breaker_skips_the_rest_with_the_reason_and_the_stage_exits_0(params_for):
    n = 12
    with HostileServer(lambda review, auth, k: ok_verdict() if k <= 2 else Response(status=503, reason="Down",
                                                                                      body=b"{}")) as server:
        work = params_for(openai_params(server.url, n))
        write_frame(work, n)
        done = run_stage_process(work)
        sent = len(server.requests)
        rows = in_asked_order(judgments(work), server)
    assert done.returncode == 0, done.stderr
    assert sent == 2 + 5  # two answers, five failures in a row, then nothing more is sent (one call at a time)
    m = metrics(work)
    assert m["status"]["judged"] == 2 and m["status"]["failed"] == 5 and m["status"]["skipped"] == 5
    assert m["status"]["breaker"].startswith("the circuit breaker opened after 5 consecutive failed calls to the "
                                             "openai backend (m), the last: http_error: HTTP 503 Down")
    assert m["status"]["reason"] == f"5 of 12 candidates skipped: {m['status']['breaker']}; 2 judged before it opened"
    assert [r["failure"]["kind"] for r in rows[7:]] == ["skipped"] * 5
    assert rows[-1]["failure"]["detail"] == f"not sent: {m['status']['breaker']}"
    assert "circuit breaker opened" in done.stderr


def test_when_every_call_fails_each_null_has_its_reason(params_for):
    n = 8
    with HostileServer(lambda review, auth, k: Response(status=503, reason="Down", body=b"{}")) as server:
        work = params_for(openai_params(server.url, n))
        write_frame(work, n)
        assert run_stage_process(work).returncode == 0
    m = metrics(work)
    assert m["judged"] == 0 and m["status"]["skipped"] == 3
    reason = m["status"]["reason"]
    assert reason.startswith("3 of 8 candidates skipped: the circuit breaker opened")
    no_verdicts = "no verdicts: all 8 candidates failed (http error 5, skipped 3), e.g. HTTP 503 Down from"
    for subset in ("random_sample", "targeted", "all_judged"):
        for ref in ("gold", "model"):
            for name in ("kappa", "agreement_rate"):
                estimate = m["agreement"][subset][ref][name]
                assert estimate["value"] is None, (subset, ref, name)
                assert estimate["reason"].startswith(no_verdicts), (subset, ref, name, estimate)
    rate = m["verdicts"]["gold_label_wrong_random_sample"]["rate"]
    assert rate["value"] is None and rate["reason"].startswith(no_verdicts)
    assert m["label_issues"]["judged"]["flag_agreement"]["kappa"]["reason"].startswith(no_verdicts)
    assert undeclared(m, JUDGE) == []  # every null and its reason where the declarations say


# ------------------------------------------------------------------------------------ class names

@pytest.mark.parametrize("classes", [["0", "1"], ["\U0001f600", "\U0001f61e"], THIRTY_TWO])
def test_the_offline_judge_abstains_on_classes_without_polarity_and_the_stage_goes_on(params_for, classes):
    n = 40
    work = params_for({"ingest.classes": classes, "judge.max_candidates": n, "judge.random_sample_size": n,
                       "stats.n_boot": 100})
    write_frame(work, n, classes)
    done = run_stage_process(work)
    assert done.returncode == 0, done.stderr
    rows = judgments(work)
    assert len(rows) == n and all(r["failure"]["kind"] == "abstained" for r in rows)
    assert rows[0]["failure"]["detail"] == f"class {rows[0]['label']!r} has no polarity; set judge.offline.polarity"
    m = metrics(work)
    assert m["failures"]["abstained"] == n and m["judged"] == 0
    assert m["agreement"]["random_sample"]["gold"]["kappa"]["reason"] == (
        f"no verdicts: all {n} candidates failed (abstained {n}), e.g. class {rows[0]['label']!r} has no polarity; "
        f"set judge.offline.polarity")
    assert m["status"]["reason"] == m["agreement"]["random_sample"]["gold"]["kappa"]["reason"]


@pytest.mark.parametrize("classes, polarity", [(["0", "1"], ["negative", "positive"]),
                                               (["\U0001f600", "\U0001f61e"], ["positive", "negative"])])
def test_a_polarity_list_maps_any_class_names(params_for, classes, polarity):
    n = 20
    work = params_for({"ingest.classes": classes, "judge.offline.polarity": polarity, "judge.max_candidates": n,
                       "judge.random_sample_size": n, "stats.n_boot": 100})
    negative = classes[polarity.index("negative")]
    positive = classes[polarity.index("positive")]
    write_frame(work, n, classes, label_of=lambda i: positive if i % 2 else negative)
    judge_stage.main(logging.getLogger("judge"))
    m = metrics(work)
    assert m["judged"] == n and m["agreement"]["all_judged"]["gold"]["agreement_rate"]["value"] == 1.0


def test_a_polarity_list_of_the_wrong_length_exits_2_with_one_sentence(params_for):
    work = params_for({"ingest.classes": ["0", "1"], "judge.offline.polarity": ["negative"]})
    write_frame(work, 4, ["0", "1"])
    done = run_stage_process(work)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "judge: error: judge.offline.polarity has 1 entries but ingest.classes has 2 (['0', '1']); give one "
        "polarity per class, in that order")
    assert not (work / paths.JUDGE_METRICS).exists()


def test_an_undefined_kappa_has_its_reason(params_for):
    n = 10
    work = params_for({"ingest.classes": ["negative", "positive"], "judge.max_candidates": n,
                       "judge.random_sample_size": n, "stats.n_boot": 100})
    texts = ["It works great, I love it."] * n  # gold, model and judge all say positive: chance agreement 1
    write_parquet(work / paths.PREDICTIONS, canonical_frame(texts, ["positive"] * n, ["positive"] * n, [0.9] * n,
                                                            classes=["negative", "positive"]))
    line = judge_stage.main(logging.getLogger("judge"))
    gold = metrics(work)["agreement"]["random_sample"]["gold"]
    assert gold["kappa"]["value"] is None and gold["agreement_rate"]["value"] == 1.0
    assert gold["kappa"]["reason"] == ("kappa is undefined on these 10 rows: both readings put every row in the same "
                                       "class, so chance agreement is 1")
    assert "reason" not in gold["agreement_rate"]
    assert "kappa vs gold on the random sample not measurable" in line
