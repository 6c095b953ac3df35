"""LLM-as-a-judge where nuance matters: sarcasm, mixed sentiment, suspicious gold labels.

Modules: :mod:`~blindspot.judge.protocol` (backend protocol, typed verdict and failure),
:mod:`~blindspot.judge.offline` (deterministic rules, the default),
:mod:`~blindspot.judge.http` (OpenAI-compatible endpoint), :mod:`~blindspot.judge.prompt`
(versioned prompt files in ``prompts/``), :mod:`~blindspot.judge.parsing` (strict
verdict parser), :mod:`~blindspot.judge.cache` (persistent reply cache),
:mod:`~blindspot.judge.select` (candidate rules), :mod:`~blindspot.judge.run` (cache,
budget, concurrency), :mod:`~blindspot.judge.agreement` (kappa, confident learning),
:mod:`~blindspot.judge.pipeline` (the stage's library side), :mod:`~blindspot.judge.checks`
(configuration checks, :func:`check_config`), :mod:`~blindspot.judge.backends` (the backend
factory), :mod:`~blindspot.judge.injection` (injection cues), :mod:`~blindspot.judge.metrics`
(``metrics/judge.json``), :mod:`~blindspot.judge.secrets` (the credential screen).
"""

from blindspot.judge.checks import check_config
from blindspot.judge.protocol import FAILURE_KINDS, JudgeBackend, JudgeFailure, JudgeRequest, Reply, TransportError, Verdict

__all__ = ["FAILURE_KINDS", "JudgeBackend", "JudgeFailure", "JudgeRequest", "Reply", "TransportError", "Verdict",
           "check_config"]
