"""The judge's API key never reaches a stored byte, whatever the server sends back.

Unit level: :class:`blindspot.judge.secrets.SecretScreen` finds the key in every encoding
a server could use (hypothesis over keys, alignments and surrounding text) and passes
clean text. End to end: the judge stage runs for real under ``dvc repro`` (then ``dvc exp
run``, which commits an experiment to a git ref) in a scratch
git + DVC repository against a hostile server on 127.0.0.1 that echoes the key raw,
JSON-escaped, base64 (both alphabets, every alignment), hex, percent-encoded, split across
two fields, in its reason phrase, in error bodies, in response headers, and redirects to
a second server; then everything is committed and every byte left behind (working tree,
``.dvc/cache``, DVC's site cache, every git object decompressed, the console output) is
searched for the key in each of those encodings.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from blindspot import paths
from blindspot.io.writers import write_parquet
from blindspot.judge.secrets import CONTAMINATED, SecretScreen

from judge.helpers import canonical_frame, envelope, verdict
from judge.hostile import HostileServer, Response, ok_verdict

from _bundled import bundled_params
from _paths import ROOT

VENV_BIN = Path(sys.executable).parent

# ---------------------------------------------------------------------------------------- encodings


def _json_char(c: str, escape: bool) -> str:
    """One character inside a JSON string: a ``\\uXXXX`` escape, or as a JSON encoder writes it."""
    return f"\\u{ord(c):04x}" if escape else json.dumps(c)[1:-1]


def json_escaped(text: str, every: int = 1) -> str:
    """``text`` with every ``every``-th character written as a JSON ``\\uXXXX`` escape (1: all of them)."""
    return "".join(_json_char(c, i % every == 0) for i, c in enumerate(text))


def b64(data: bytes, *, prefix: int = 0, urlsafe: bool = False) -> str:
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    return encode(b"\x00\xff\x7f"[:prefix] + data).decode("ascii")


def encodings_of(key: str) -> dict[str, str]:
    """The key as a hostile server could send it, one string per encoding."""
    k = key.encode()
    out = {"raw": key, "upper": key.upper(), "json_all": json_escaped(key), "json_mixed": json_escaped(key, 2),
           "json_mixed_odd": json_escaped(key, 3), "hex": k.hex(), "HEX": k.hex().upper(),
           "hex_sep": ":".join(f"{b:02x}" for b in k), "py_hex": "".join(f"\\x{b:02x}" for b in k),
           "url": urllib.parse.quote(key, safe=""), "url_all": "".join(f"%{b:02X}" for b in k),
           "html": "".join(f"&#{ord(c)};" for c in key)}
    for prefix in range(3):
        out[f"b64_{prefix}"] = b64(k, prefix=prefix)
        out[f"b64url_{prefix}"] = b64(k, prefix=prefix, urlsafe=True)
    out["b64_glued"] = "token" + b64(k, prefix=1)  # a run that starts off the encoding's alignment
    out["b64_wrapped"] = "\n".join(re.findall(".{1,8}", b64(k, prefix=2)))
    out["json_of_url"] = json_escaped(urllib.parse.quote(key, safe=""), 2)
    return out


KEYS = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=16, max_size=64)
FILLER = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)


@settings(max_examples=60, deadline=None)
@given(key=KEYS, before=FILLER, after=FILLER)
def test_the_screen_finds_the_key_in_every_encoding(key, before, after):
    screen = SecretScreen(key)
    for name, encoded in encodings_of(key).items():
        assert screen.contaminated(before + encoded + after), name


@settings(max_examples=60, deadline=None)
@given(key=KEYS, mask=st.lists(st.booleans(), min_size=64, max_size=64), before=FILLER)
def test_the_screen_finds_any_mix_of_escaped_and_plain_characters(key, mask, before):
    mixed = "".join(_json_char(c, mask[i]) for i, c in enumerate(key))
    percent = "".join(f"%{ord(c):02X}" if mask[i] or c == "%" else c for i, c in enumerate(key))
    screen = SecretScreen(key)
    assert screen.contaminated(before + mixed) and screen.contaminated(before + percent)


@settings(max_examples=60, deadline=None)
@given(key=KEYS, cut=st.floats(0, 1), glue=FILLER)
def test_the_screen_finds_a_key_split_across_two_fields(key, cut, glue):
    at = int(cut * len(key))
    assert SecretScreen(key).contaminated(glue + key[:at], key[at:] + glue)


@settings(max_examples=60, deadline=None)
@given(key=st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=32, max_size=48))
def test_ordinary_replies_are_not_contaminated(key):
    screen = SecretScreen("sk-" + key)
    reply = json.dumps(envelope(json.dumps(verdict(rationale="It says the drug did not work; the worst side effects."))))
    assert not screen.contaminated(reply)
    assert not screen.contaminated("HTTP 503 Service Unavailable from http://127.0.0.1:8080/v1/chat/completions")


def test_no_secret_means_nothing_is_contaminated():
    assert not SecretScreen(None).contaminated("anything at all")
    assert not SecretScreen("").contaminated("anything at all")
    assert "sk-" not in repr(SecretScreen("sk-abcdefghijklmnop"))


# ---------------------------------------------------------------------------------------- end to end

def hostile_modes(key: str, elsewhere: int) -> dict:
    """Mode name -> (Response, the failure kind the judge must record, or None for a verdict)."""
    k = key.encode()
    half = len(key) // 2

    def body(obj) -> bytes:
        return json.dumps(obj).encode()

    def escaped_content(escaped: str) -> bytes:
        return body(envelope("@@")).replace(b'"@@"', b'"' + escaped.encode() + b'"')

    split = envelope(key[:half])
    split["choices"][0]["message"]["refusal"] = key[half:]
    split_finish = envelope(key[:half], finish_reason=key[half:])
    echo = "credential_echo"
    modes = {
        "raw_content": (Response(body=body(envelope("your key is " + key))), echo),
        "in_a_valid_verdict": (Response(body=body(envelope(json.dumps(verdict(rationale=f"key {key}."))))), echo),
        "json_escaped": (Response(body=escaped_content(json_escaped(key))), echo),
        "json_mixed": (Response(body=escaped_content(json_escaped(key, 2))), echo),
        "b64_std_0": (Response(body=body(envelope(b64(k)))), echo),
        "b64_std_1": (Response(body=body(envelope("data:" + b64(k, prefix=1)))), echo),
        "b64_url_2": (Response(body=body(envelope(b64(k, prefix=2, urlsafe=True)))), echo),
        "hex": (Response(body=body(envelope("0x" + k.hex()))), echo),
        "url_encoded": (Response(body=body(envelope("q=" + urllib.parse.quote(key, safe="")))), echo),
        "split_content_refusal": (Response(body=body(split)), echo),
        "split_content_finish_reason": (Response(body=body(split_finish)), echo),
        "error_body": (Response(status=500, reason="Internal Server Error",
                                body=body({"error": "bad key " + b64(k, prefix=1, urlsafe=True)})), echo),
        "reason_phrase": (Response(status=401, reason=key, body=b"{}"), echo),
        "garbage_body": (Response(body=b"oops <" + json_escaped(key, 2).encode() + b">"), echo),
        "html_error_page": (Response(status=502, reason="Bad Gateway",
                                     body=f"<html>{urllib.parse.quote(key)}</html>".encode()), echo),
        "redirect_key_host": (Response(status=302, reason="Found", headers={"Location": f"http://{key[:40]}.invalid/"}),
                              echo),
        # Not contaminating: headers are never kept; a redirect is never followed.
        "headers": (Response(body=ok_verdict().body, headers={"X-Echo": key, "Set-Cookie": f"s={b64(k)}",
                                                              "WWW-Authenticate": f"Bearer {k.hex()}"}), None),
        "redirect_302": (Response(status=302, reason="Found",
                                  headers={"Location": f"http://127.0.0.1:{elsewhere}/steal/{key}?k={key}"}),
                         "http_error"),
        "redirect_307": (Response(status=307, reason="Temporary Redirect",
                                  headers={"Location": f"http://127.0.0.1:{elsewhere}/steal?k={b64(k)}"}),
                         "http_error"),
    }
    return modes


def _unescape(data: bytes) -> bytes:
    """JSON/Python escapes and percent-encoding undone (an independent, byte-level reading)."""
    data = re.sub(rb"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)).encode("utf-8", "replace"), data)
    data = re.sub(rb"\\x([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]), data)
    return re.sub(rb"%([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]), data)


def leaks(blob: bytes, key: str) -> list[str]:
    """Which encodings of ``key`` occur in ``blob`` (any 10-character fragment counts for the plain forms)."""
    k = key.encode()
    found = []
    plain = [blob, _unescape(blob), _unescape(_unescape(blob))]
    fragments = {k[i:i + 10] for i in range(len(k) - 9)}
    for view in plain:
        low = view.lower()
        if any(f.lower() in low for f in fragments):
            found.append("raw or escaped fragment")
            break
        if k.hex().encode() in low:
            found.append("hex")
            break
    for prefix in range(3):
        for urlsafe in (False, True):
            stable = b64(k, prefix=prefix, urlsafe=urlsafe)[4:-4].encode()
            if stable in blob or stable in blob.replace(b"\n", b""):
                found.append(f"base64 (prefix {prefix}, urlsafe {urlsafe})")
    return found


def git(work: Path, *args, env=None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=work, env=env, check=True, capture_output=True, **kw)


@pytest.fixture
def scratch_repo(tmp_path):
    """A git + DVC repository holding the judge stage only, with predictions written directly."""
    work = tmp_path / "ws"
    work.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "src", work / "src", ignore=ignore)
    shutil.copy(ROOT / ".gitignore", work / ".gitignore")
    (work / "data/judge_cache").mkdir(parents=True)
    shutil.copy(ROOT / "data/judge_cache/.gitignore", work / "data/judge_cache/.gitignore")
    stage = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["judge"]
    (work / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"judge": stage}}, sort_keys=False))
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": f"{work / 'src'}{os.pathsep}{work}", "DVC_NO_ANALYTICS": "1",
           "DVC_SITE_CACHE_DIR": str(tmp_path / "dvc_site"), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_NOSYSTEM": "1"}
    git(work, "init", "-q", env=env)
    subprocess.run([str(VENV_BIN / "dvc"), "init", "-q"], cwd=work, env=env, check=True, capture_output=True)
    return work, env


def test_no_encoding_of_the_key_survives_a_hostile_server_dvc_and_git(scratch_repo, tmp_path):
    work, env = scratch_repo
    key = "sk-e2e-" + secrets.token_urlsafe(30)
    env["BLINDSPOT_E2E_JUDGE_KEY"] = key
    elsewhere = HostileServer().start()  # where redirects point: it must never see the key
    modes = hostile_modes(key, elsewhere.port)

    # One hostile row, then one good row, and so on: the breaker (5 failures in a row) never opens.
    texts, expected = [], []
    for i, (mode, (_, kind)) in enumerate(modes.items()):
        texts += [f"MODE {mode}: the pills did not work.", f"GOOD {i}: it works great, I love it."]
        expected += [kind, None]

    def behaviour(review, auth, n):
        assert auth == f"Bearer {key}"
        if review and review.startswith("MODE "):
            return modes[review[5:review.index(":")]][0]
        return ok_verdict()

    n = len(texts)
    labels = ["negative"] * n
    frame = canonical_frame(texts, labels, ["positive"] * n, [0.9] * n)
    (work / "data/interim").mkdir(parents=True)
    write_parquet(work / paths.PREDICTIONS, frame)
    params = bundled_params()
    with HostileServer(behaviour) as server:
        params["judge"].update({"backend": "openai", "max_candidates": n, "random_sample_size": n, "max_calls": 100})
        params["judge"]["http"].update({"base_url": server.url, "model": "hostile", "api_key_env": "BLINDSPOT_E2E_JUDGE_KEY",
                                        "max_retries": 0, "timeout_s": 10.0, "concurrency": 1, "backoff_s": 0.0})
        params["stats"]["n_boot"] = 100
        (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        git(work, "add", "-A", env=env)
        git(work, "commit", "-q", "-m", "before", env=env)
        run = subprocess.run([str(VENV_BIN / "dvc"), "repro", "judge"], cwd=work, env=env, capture_output=True)
        assert run.returncode == 0, run.stderr.decode()[-3000:]
        rows = [json.loads(line) for line in (work / paths.JUDGMENTS).read_text().splitlines()]
        metrics = json.loads((work / paths.JUDGE_METRICS).read_text())
        git(work, "add", "-A", env=env)
        git(work, "commit", "-q", "-m", "after", env=env)
        # An experiment as well: `dvc exp run` commits its outputs to a git ref of its own.
        experiment = subprocess.run([str(VENV_BIN / "dvc"), "exp", "run", "-S", "judge.max_calls=99", "judge"], cwd=work,
                                    env=env, capture_output=True)
        assert experiment.returncode == 0, experiment.stderr.decode()[-3000:]
    elsewhere.stop()
    assert git(work, "for-each-ref", "refs/exps", env=env).stdout  # the experiment commit exists

    # The run did what it should: every request carried the key, the echoes are failures, the rest verdicts.
    # The first run asked every row; the experiment asked again only what no cached reply answers,
    # all hostile rows in a row, so the circuit breaker opened after five of them.
    assert len(server.requests) == n + 5
    assert elsewhere.requests == []
    got = [None if r["status"] == "ok" else r["failure"]["kind"] for r in rows]
    assert got == expected
    for row in rows:
        if row["failure"] and row["failure"]["kind"] == "credential_echo":
            assert row["failure"] == {"kind": "credential_echo", "detail": CONTAMINATED, "raw": None}
    redirect = next(r for r in rows if r["text"].startswith("MODE redirect_302"))["failure"]["detail"]
    assert f"to http://127.0.0.1:{elsewhere.port}: not followed" in redirect and "steal" not in redirect
    assert metrics["failures"]["credential_echo"] == expected.count("credential_echo") == 16
    assert metrics["status"]["skipped"] == 0

    # Every byte the run left behind.
    blobs: dict[str, bytes] = {"dvc repro stdout": run.stdout, "dvc repro stderr": run.stderr,
                               "dvc exp run stdout": experiment.stdout, "dvc exp run stderr": experiment.stderr}
    for root in (work, tmp_path / "dvc_site"):
        for path in root.rglob("*"):
            if path.is_file():
                blobs[str(path.relative_to(tmp_path))] = path.read_bytes()
    objects = git(work, "cat-file", "--batch-all-objects", "--batch", env=env).stdout
    blobs["git objects (decompressed)"] = objects
    assert any(".dvc/cache" in name for name in blobs)  # judgments.jsonl went through the DVC cache
    assert b"It says the drug did not work." in objects  # server text reached git (the reply cache) ...
    assert any(b"MODE in_a_valid_verdict" in blob for name, blob in blobs.items() if ".dvc/cache" in name)  # ... and DVC

    found = {name: hits for name, blob in blobs.items() if (hits := leaks(blob, key))}
    assert found == {}
    # The leak search itself works: it sees every encoding a server sent.
    for mode, encoded in encodings_of(key).items():
        if mode not in ("upper", "html", "hex_sep"):
            assert leaks(b"x" + encoded.encode() + b"y", key), mode
