"""The persistent reply cache."""

from __future__ import annotations

import hashlib
import json

from blindspot.judge.cache import JudgeCache, cache_key
from blindspot.judge.protocol import Reply


def put(cache, text, content, label="negative", model="m"):
    key = cache_key("openai", model, "judge_v1@abc", text, label)
    cache.put(key, Reply(content=content, usage={"total_tokens": 3}), backend="openai", model=model,
              prompt_version="judge_v1@abc", text=text, label=label)
    return key


def test_key_is_sha256_of_backend_model_prompt_text_hash_and_label():
    text_hash = hashlib.sha256("héllo".encode()).hexdigest()
    expected = hashlib.sha256(json.dumps(["openai", "m", "v1", text_hash, "negative"], ensure_ascii=False).encode()).hexdigest()
    assert cache_key("openai", "m", "v1", "héllo", "negative") == expected
    variants = {cache_key(*args) for args in [("openai", "m", "v1", "t", "negative"), ("offline", "m", "v1", "t", "negative"),
                                              ("openai", "m2", "v1", "t", "negative"), ("openai", "m", "v2", "t", "negative"),
                                              ("openai", "m", "v1", "t2", "negative"), ("openai", "m", "v1", "t", "positive")]}
    assert len(variants) == 6


def test_round_trip_survives_a_new_process(tmp_path):
    path = tmp_path / "sub" / "cache.jsonl"
    cache = JudgeCache(path)
    key = put(cache, "a review", '{"x": 1}')
    assert path.exists()  # appended at once, before save()
    again = JudgeCache(path)
    assert key in again and again.get(key) == Reply(content='{"x": 1}', usage={"total_tokens": 3})
    entry = json.loads(path.read_text())
    assert entry["text_sha256"] == hashlib.sha256(b"a review").hexdigest() and "a review" not in path.read_text()


def test_save_is_sorted_and_deterministic(tmp_path):
    a, b = JudgeCache(tmp_path / "a.jsonl"), JudgeCache(tmp_path / "b.jsonl")
    for text in ("one", "two", "three"):
        put(a, text, text)
    for text in ("three", "one", "two"):
        put(b, text, text)
    a.save()
    b.save()
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    keys = [json.loads(line)["key"] for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert keys == sorted(keys)


def test_torn_line_is_counted_and_dropped_on_save(tmp_path):
    path = tmp_path / "cache.jsonl"
    cache = JudgeCache(path)
    key = put(cache, "ok", "fine")
    with path.open("a") as fh:
        fh.write('{"key": "half a li')
    loaded = JudgeCache(path)
    assert loaded.bad_lines == 1 and key in loaded
    loaded.save()
    assert JudgeCache(path).bad_lines == 0


def test_empty_cache_file_is_written_so_the_dvc_out_exists(tmp_path):
    JudgeCache(tmp_path / "cache.jsonl").save()
    assert (tmp_path / "cache.jsonl").read_text() == ""


def test_retain_drops_and_marks_dirty(tmp_path):
    cache = JudgeCache(tmp_path / "cache.jsonl")
    keep = put(cache, "keep", "a")
    put(cache, "drop", "b")
    assert cache.retain(lambda entry: entry["key"] == keep) == 1
    cache.save()
    assert list(JudgeCache(tmp_path / "cache.jsonl").entries) == [keep]
