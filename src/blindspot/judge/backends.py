"""The backend factory: the judge ``judge.backend`` names, built from its config section.

The HTTP backend and the prompt files are imported only when asked for, so an offline
run (the default) never loads the HTTP client.
"""

from __future__ import annotations

from typing import Sequence

from blindspot.errors import ConfigError
from blindspot.judge.checks import BACKENDS
from blindspot.judge.offline import OfflineJudge
from blindspot.judge.protocol import JudgeBackend


def make_backend(cfg, classes: Sequence[str]) -> JudgeBackend:
    """The backend ``cfg.backend`` names (``cfg``: :class:`blindspot.config.JudgeConfig`).

    Parameters
    ----------
    cfg : blindspot.config.JudgeConfig
    classes : sequence of str
        ``ingest.classes`` (the offline rules map their readings back to these).

    Raises
    ------
    ConfigError
        Unknown backend, unknown prompt, bad HTTP settings, or a key variable that is not set.
    """
    if cfg.backend == "offline":
        return OfflineJudge(classes, cfg.offline)
    if cfg.backend == "openai":
        from blindspot.judge.http import OpenAIJudge
        from blindspot.judge.prompt import load_prompt

        return OpenAIJudge(cfg.http, load_prompt(cfg.prompt_version))
    raise ConfigError(f"judge.backend must be one of {list(BACKENDS)}, got {cfg.backend!r}")
