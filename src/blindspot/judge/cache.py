"""A persistent cache of judge replies, so a re-run never repeats a backend call.

Where it lives and why
----------------------
``data/judge_cache/cache.jsonl`` (:data:`blindspot.paths.JUDGE_CACHE`), declared in
``dvc.yaml`` as an out of the judge stage with ``persist: true`` (DVC does not delete it
before re-running the stage) and ``cache: false`` (git tracks it). A fresh clone
therefore carries every answer already paid for: ``dvc repro`` there makes no call, and
an LLM run can be reproduced by someone with no access to the model.

What it holds
-------------
One JSON object a line, sorted by key: ``key``, ``backend``, ``model``,
``prompt_version``, ``text_sha256``, ``label`` and the raw ``reply`` (content, refusal,
finish_reason, token usage). Never an API key (the HTTP client discards, whole, any
response that carries the key in any encoding: :mod:`blindspot.judge.secrets`) and never
timing or per-run data, so the file is a function of what was asked. Parsing happens on read, so a parser fix applies to cached
replies. Transport failures (timeouts, HTTP errors, credential echoes) are not cached: the next
run retries.

The key is ``sha256`` of ``[backend, model, prompt_version, sha256(text), label]``. The
gold label is part of it because the prompt shows the label (the judge is asked whether
it looks wrong); a relabelled review is a new question.

Offline entries are free to recompute, so a run of the offline judge keeps only the
offline entries it used (a rule change would otherwise pile stale verdicts into a
git-tracked file, and the file stays a function of the inputs). Entries of any other
backend were paid for and are never dropped automatically.

Writes: each new reply is appended and flushed as soon as it arrives (an interrupted
run keeps what it paid for); :meth:`JudgeCache.save` then rewrites the file sorted and
deduplicated, atomically. A line that does not parse (a torn write) is counted and
dropped on that rewrite.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Optional

from blindspot.judge.protocol import Reply


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_key(backend: str, model: str, prompt_version: str, text: str, label: str) -> str:
    """The cache key of one question (see module docstring)."""
    payload = json.dumps([backend, model, prompt_version, text_sha256(text), label], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _line(entry: dict) -> str:
    return json.dumps(entry, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


class JudgeCache:
    """Replies by key, loaded from and written back to one JSON Lines file.

    Parameters
    ----------
    path : str or Path
        The cache file; created (with its directory) on the first write.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.entries: dict[str, dict] = {}
        self.bad_lines = 0
        self._dirty = False
        if self.path.exists():
            for raw in self.path.read_text(encoding="utf-8").splitlines():
                if not raw.strip():
                    continue
                try:
                    entry = json.loads(raw)
                    key = entry["key"]
                    Reply.from_dict(entry["reply"])
                except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
                    self.bad_lines += 1
                    self._dirty = True
                    continue
                self.entries[key] = entry

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def get(self, key: str) -> Optional[Reply]:
        entry = self.entries.get(key)
        return None if entry is None else Reply.from_dict(entry["reply"])

    def put(self, key: str, reply: Reply, *, backend: str, model: str, prompt_version: str, text: str, label: str) -> None:
        """Store a reply and append it to the file at once."""
        entry = {"key": key, "backend": backend, "model": model, "prompt_version": prompt_version,
                 "text_sha256": text_sha256(text), "label": label, "reply": reply.to_dict()}
        self.entries[key] = entry
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(_line(entry))
            fh.flush()
        self._dirty = True

    def retain(self, keep) -> int:
        """Drop entries for which ``keep(entry)`` is false; returns how many were dropped."""
        drop = [k for k, entry in self.entries.items() if not keep(entry)]
        for k in drop:
            del self.entries[k]
        if drop:
            self._dirty = True
        return len(drop)

    def save(self) -> None:
        """Rewrite the file sorted by key (deterministic bytes), atomically; no-op when unchanged."""
        if not self._dirty and self.path.exists():
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text("".join(_line(self.entries[k]) for k in sorted(self.entries)), encoding="utf-8")
        os.replace(tmp, self.path)
        self._dirty = False
