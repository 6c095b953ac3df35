"""Versioned prompt files and their rendering.

A prompt file (``prompts/<version>.txt``) has comment lines (``#``), then a
``=== system ===`` section and a ``=== user ===`` section. Its identity in the cache
key is the file name *and* the sha256 of its bytes, so an edited file can never reuse
answers given to the old text (and tests pin the hash of every released file).

The review is untrusted. It reaches the model only

- JSON-encoded (quotes, newlines and control characters escaped, so it cannot end
  its own string or forge a line of the prompt), and
- between two identical delimiter lines carrying a nonce derived from the review's
  own hash, which the review cannot contain,
- substituted in a single pass, so placeholders written inside a review stay text.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from blindspot.errors import ConfigError
from blindspot.judge.protocol import JudgeRequest

PROMPT_DIR = Path(__file__).resolve().parent / "prompts"
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_SECTION = re.compile(r"^=== (system|user) ===$", re.M)


@dataclass(frozen=True)
class Prompt:
    """A loaded prompt file.

    Attributes
    ----------
    name : str
        File stem, e.g. ``"judge_v1"``.
    sha256 : str
        Hash of the file's bytes.
    system, user : str
        The two message templates.
    """

    name: str
    sha256: str
    system: str
    user: str

    @property
    def version(self) -> str:
        """``<name>@<first 12 hex of sha256>``: the prompt's part of the cache key."""
        return f"{self.name}@{self.sha256[:12]}"

    def messages(self, request: JudgeRequest) -> list[dict]:
        """Chat messages for ``request``: a fixed system message and the data-carrying user message."""
        nonce = hashlib.sha256(request.text.encode("utf-8")).hexdigest()[:16]
        values = {
            "classes": ", ".join(json.dumps(c) for c in request.classes),
            "label": json.dumps(request.label, ensure_ascii=False),
            "delimiter": f"<<<REVIEW {nonce}>>>",
            "review_json": json.dumps(request.text, ensure_ascii=False),
        }
        return [
            {"role": "system", "content": _fill(self.system, values, self.name)},
            {"role": "user", "content": _fill(self.user, values, self.name)},
        ]


def _fill(template: str, values: dict, name: str) -> str:
    def sub(match):
        key = match.group(1)
        if key not in values:
            raise ConfigError(f"prompt {name!r}: unknown placeholder {{{{{key}}}}}; known: {sorted(values)}")
        return values[key]

    return _PLACEHOLDER.sub(sub, template)


def available_prompts() -> list[str]:
    return sorted(p.stem for p in PROMPT_DIR.glob("*.txt"))


@lru_cache(maxsize=None)
def load_prompt(name: str) -> Prompt:
    """Read ``prompts/<name>.txt``.

    Raises
    ------
    ConfigError
        If there is no such prompt, or the file lacks its two sections.
    """
    path = PROMPT_DIR / f"{name}.txt"
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or not path.is_file():
        raise ConfigError(f"judge.prompt_version: no prompt file named {name!r}; available: {available_prompts()}")
    data = path.read_bytes()
    text = data.decode("utf-8")
    parts = _SECTION.split(text)
    # parts = [preamble, "system", body, "user", body]
    if len(parts) != 5 or parts[1] != "system" or parts[3] != "user":
        raise ConfigError(f"{path}: expected a '=== system ===' section followed by a '=== user ===' section")
    return Prompt(name=name, sha256=hashlib.sha256(data).hexdigest(),
                  system=parts[2].strip("\n"), user=parts[4].strip("\n"))
