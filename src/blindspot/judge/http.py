"""OpenAI-compatible chat-completions backend (standard library only).

Works with anything that speaks ``POST {base_url}/chat/completions``: a local Ollama
(``http://localhost:11434/v1``), vLLM, a llama.cpp server, or a hosted API.

- Temperature 0 and, with ``json_mode``, ``response_format: {"type": "json_object"}``.
- Timeouts: ``timeout_s`` per socket operation (connect, each read).
- Retries with exponential backoff (``backoff_s * 2**attempt``, capped at
  ``max_backoff_s``; a numeric ``Retry-After`` header is honoured up to the cap) on
  timeouts, connection failures, 429 and 5xx. Other 4xx (bad model name, bad key)
  fail at once: repeating them cannot help.
- Concurrency is the caller's: :attr:`OpenAIJudge.concurrency` threads may call
  :meth:`OpenAIJudge.complete` at once (the judge runs a ThreadPoolExecutor of that size).
- A loopback ``base_url`` bypasses any ``http_proxy`` from the environment: a local
  server must never be reached through a proxy.

The API key is read from the environment variable named by ``api_key_env`` at call
time and lives only in the request headers: it is not an attribute of this object, it
is not logged, and it is redacted from any text a server sends back (a hostile or
buggy server echoing the Authorization header cannot push it into the cache, the
judgments or the logs).
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Callable, Optional

from blindspot.config import JudgeHttpConfig
from blindspot.errors import ConfigError
from blindspot.judge.prompt import Prompt
from blindspot.judge.protocol import JudgeRequest, Reply, TransportError

REDACTED = "[REDACTED]"
RAW_LIMIT = 20_000  # characters of an error body kept as the failure's raw response
_RETRY_STATUS = {408, 409, 429}


def is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redact(text: Optional[str], secret: Optional[str]) -> Optional[str]:
    """``text`` with every occurrence of ``secret`` replaced (no-op without a secret)."""
    if text is None or not secret:
        return text
    return text.replace(secret, REDACTED)


class OpenAIJudge:
    """A judge backed by an OpenAI-compatible chat-completions endpoint.

    Parameters
    ----------
    settings : JudgeHttpConfig
        The ``judge.http`` section (``conf/judge/openai.yaml``): endpoint, model, the
        name of the API key's environment variable, timeouts, retries, concurrency.
    prompt : Prompt
        The versioned prompt (see :mod:`blindspot.judge.prompt`).
    sleep : callable
        ``time.sleep``; injectable so tests need not wait.

    Raises
    ------
    ConfigError
        For a URL that is not http(s), impossible limits, or a named key variable that
        is not set: before any work is done.
    """

    name = "openai"

    def __init__(self, settings: JudgeHttpConfig, prompt: Prompt, *, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.prompt = prompt
        self.sleep = sleep
        if urllib.parse.urlsplit(settings.base_url).scheme not in ("http", "https"):
            raise ConfigError(f"judge.http.base_url must be an http(s) URL, got {settings.base_url!r}")
        if settings.concurrency < 1 or settings.max_retries < 0 or settings.timeout_s <= 0:
            raise ConfigError(f"judge.http: concurrency >= 1, max_retries >= 0 and timeout_s > 0 are required; got "
                              f"concurrency={settings.concurrency}, max_retries={settings.max_retries}, "
                              f"timeout_s={settings.timeout_s}")
        self._api_key()  # fail before any work when the variable is missing
        handlers = [urllib.request.ProxyHandler({})] if is_loopback(settings.base_url) else []
        self._opener = urllib.request.build_opener(*handlers)
        self._lock = threading.Lock()
        self.attempts_made = 0  # HTTP requests sent, retries included (read by the run stats)
        self.url = settings.base_url.rstrip("/") + "/chat/completions"

    def __repr__(self) -> str:
        return f"OpenAIJudge(url={self.url!r}, model={self.model!r}, prompt={self.prompt_version!r})"

    @property
    def model(self) -> str:
        return self.settings.model

    @property
    def concurrency(self) -> int:
        return self.settings.concurrency

    @property
    def prompt_version(self) -> str:
        return self.prompt.version

    def _api_key(self) -> Optional[str]:
        if not self.settings.api_key_env:
            return None
        key = os.environ.get(self.settings.api_key_env)
        if not key:
            raise ConfigError(f"judge.http.api_key_env names the environment variable {self.settings.api_key_env!r}, "
                              f"but it is not set (or empty). Export it, or set judge.http.api_key_env=null "
                              f"for a server without authentication.")
        return key

    def body(self, request: JudgeRequest) -> dict:
        """The JSON request body (no secret in it)."""
        body = {"model": self.settings.model, "messages": self.prompt.messages(request), "temperature": 0,
                "max_tokens": self.settings.max_tokens, "stream": False}
        if self.settings.json_mode:
            body["response_format"] = {"type": "json_object"}
        return body

    def _wait(self, attempt: int, retry_after: Optional[str]) -> None:
        delay = min(self.settings.backoff_s * (2 ** attempt), self.settings.max_backoff_s)
        if retry_after is not None:
            try:
                delay = min(max(float(retry_after), 0.0), self.settings.max_backoff_s)
            except ValueError:
                pass  # an HTTP date: keep our own backoff
        if delay > 0:
            self.sleep(delay)

    def complete(self, request: JudgeRequest) -> Reply:
        """POST one request; retry what may pass on a retry; raise :class:`TransportError` otherwise."""
        data = json.dumps(self.body(request), ensure_ascii=False).encode("utf-8")
        last: Optional[TransportError] = None
        attempts = self.settings.max_retries + 1
        for attempt in range(attempts):
            key = self._api_key()
            headers = {"Content-Type": "application/json", "Accept": "application/json",
                       "User-Agent": "blindspot-judge"}
            if key:
                headers["Authorization"] = f"Bearer {key}"
            http_request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
            retry_after = None
            with self._lock:
                self.attempts_made += 1
            try:
                with self._opener.open(http_request, timeout=self.settings.timeout_s) as response:
                    raw = response.read().decode("utf-8", errors="replace")
                return self._reply(redact(raw, key), attempt + 1)
            except urllib.error.HTTPError as exc:
                body = redact(_read_error_body(exc), key)
                error = TransportError("http_error", f"HTTP {exc.code} {exc.reason} from {self.url}",
                                       body, attempts=attempt + 1)
                if exc.code not in _RETRY_STATUS and exc.code < 500:
                    raise error from None
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
                last = error
            except (TimeoutError, socket.timeout):
                last = TransportError("timeout", f"no reply from {self.url} within {self.settings.timeout_s:g} s",
                                      None, attempts=attempt + 1)
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, (TimeoutError, socket.timeout)):
                    last = TransportError("timeout", f"no connection to {self.url} within {self.settings.timeout_s:g} s",
                                          None, attempts=attempt + 1)
                else:
                    last = TransportError("http_error", f"cannot reach {self.url}: {redact(str(exc.reason), key)}",
                                          None, attempts=attempt + 1)
            except (OSError, http.client.HTTPException) as exc:
                last = TransportError("http_error", f"connection to {self.url} failed: "
                                      f"{type(exc).__name__}: {redact(str(exc), key)}", None, attempts=attempt + 1)
            if attempt + 1 < attempts:
                self._wait(attempt, retry_after)
        assert last is not None
        last.failure = type(last.failure)(last.failure.kind, last.failure.detail + f" (after {attempts} attempts)",
                                          last.failure.raw)
        raise last

    def _reply(self, raw: str, attempts: int) -> Reply:
        """The assistant message of a chat-completions body, or a ``parse_error`` transport failure."""
        try:
            envelope = json.loads(raw)
            choice = envelope["choices"][0]
            message = choice["message"]
            content = message.get("content")
            refusal = message.get("refusal")
            if content is not None and not isinstance(content, str):
                raise TypeError("message.content is not a string")
            if refusal is not None and not isinstance(refusal, str):
                raise TypeError("message.refusal is not a string")
        except (json.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise TransportError("parse_error", f"the response body is not a chat-completions object "
                                 f"({type(exc).__name__}: {exc})", raw[:RAW_LIMIT], attempts=attempts) from None
        usage = envelope.get("usage") if isinstance(envelope, dict) else None
        usage = {k: int(v) for k, v in (usage or {}).items()
                 if k in ("prompt_tokens", "completion_tokens", "total_tokens") and isinstance(v, int)}
        finish = choice.get("finish_reason")
        return Reply(content=content, refusal=refusal, finish_reason=finish if isinstance(finish, str) else None,
                     usage=usage)


def _read_error_body(exc: urllib.error.HTTPError) -> Optional[str]:
    try:
        return exc.read().decode("utf-8", errors="replace")[:RAW_LIMIT]
    except Exception:  # the body of an error is best effort: the status already says what happened
        return None
