"""OpenAI-compatible chat-completions backend (standard library only).

Works with anything that speaks ``POST {base_url}/chat/completions``: a local Ollama
(``http://localhost:11434/v1``), vLLM, a llama.cpp server, or a hosted API.

- Temperature 0 and, with ``json_mode``, ``response_format: {"type": "json_object"}``.
- Deadline: ``timeout_s`` is the *total* time one call may take: every attempt (connect,
  send, status line, headers and body) and every backoff wait together. A watchdog shuts
  the socket down when it passes, so a server that drips one byte a second cannot hold a
  call open; a retry or a wait that would end past it is not started.
- Retries with exponential backoff (``backoff_s * 2**attempt``, capped at
  ``max_backoff_s``; a numeric ``Retry-After`` header is honoured up to the cap) on
  connection failures, 408, 409, 429 and 5xx, while the deadline allows. Other 4xx (bad
  model name, bad key) fail at once: repeating them cannot help. A timeout has spent the
  call's time: the next run asks again.
- Redirects are never followed: a 3xx is a failure naming the target's origin (scheme,
  host, port; no path or query), so the Authorization header never reaches another host.
- Concurrency is the caller's: :attr:`OpenAIJudge.concurrency` threads may call
  :meth:`OpenAIJudge.complete` at once (the judge runs a ThreadPoolExecutor of that size).
- A loopback ``base_url`` bypasses any ``http_proxy`` from the environment: a local
  server must never be reached through a proxy.
- A response body above :data:`MAX_BODY_BYTES` is not read further (a parse failure).

The API key is read from the environment variable named by ``api_key_env`` at call
time and lives only in the request headers: it is not an attribute of this object and
it is not logged. Everything a server sends back that could be stored (the body, the
reason phrase, error text, a redirect target) goes through
:class:`blindspot.judge.secrets.SecretScreen` first; text carrying the key in any
encoding is discarded whole: the call becomes a ``credential_echo`` failure with a
fixed reason and no raw response. Response headers are never kept.
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
from blindspot.judge.secrets import CONTAMINATED, SecretScreen

RAW_LIMIT = 20_000  # characters of a failed response kept as its raw text (screened whole before the cut)
MAX_BODY_BYTES = 1024 * 1024  # a chat completion is kilobytes; more is not read (nor screened)
_RETRY_STATUS = {408, 409, 429}


def is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL: what a redirect is reported as (no path, no query)."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "an unparseable location"
    if not parts.scheme or not host:
        return "an unparseable location"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def _redirect_origin(base: str, location: Optional[str]) -> str:
    if not location:
        return "no location"
    try:
        return origin_of(urllib.parse.urljoin(base, location))
    except ValueError:
        return "an unparseable location"


class _Watch:
    """The deadline of one HTTP attempt: at expiry the connection's socket is shut down.

    A blocked read then returns at once (EOF or an error); the caller checks
    :attr:`expired` after every step, because a body cut short by the shutdown can look
    complete.
    """

    def __init__(self):
        self.expired = False
        self._sock = None
        self._lock = threading.Lock()

    def connected(self, sock) -> None:
        # The socket itself, not the connection: urllib drops ``conn.sock`` once the
        # headers are in, while the response goes on reading the body from it.
        with self._lock:
            self._sock = sock
            if self.expired:
                self._shutdown()
                raise TimeoutError("deadline passed while connecting")

    def _shutdown(self) -> None:
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed

    def fire(self) -> None:
        with self._lock:
            self.expired = True
            self._shutdown()


def _watched(connection_class, req):
    """A factory of ``connection_class`` whose instances report to the request's watch."""
    watch = getattr(req, "blindspot_watch", None)

    def make(host, **kwargs):
        conn = connection_class(host, **kwargs)
        if watch is not None:
            connect = conn.connect

            def watched_connect():
                connect()
                watch.connected(conn.sock)

            conn.connect = watched_connect
        return conn

    return make


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_watched(http.client.HTTPConnection, req), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_watched(http.client.HTTPSConnection, req), req, context=self._context,
                            check_hostname=self._check_hostname)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Never follow: the 3xx surfaces as an HTTPError and is recorded (see module docstring).

    It replaces urllib's redirect handler outright, which would parse the target first
    (and may fail on it) and carries the Authorization header to wherever it points.
    """

    def http_error_302(self, req, fp, code, msg, headers):
        raise urllib.error.HTTPError(req.full_url, code, msg, headers, fp)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


def _strings(text: Optional[str]) -> list[str]:
    """Every string value of ``text`` read as JSON, in document order; [] when it is not JSON."""
    if not text:
        return []
    try:
        node = json.loads(text)
    except (ValueError, RecursionError):
        return []
    out: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return out


def _read_capped(response) -> tuple[Optional[bytes], bool]:
    """(body, too_large): at most MAX_BODY_BYTES are read."""
    data = response.read(MAX_BODY_BYTES + 1)
    if len(data) > MAX_BODY_BYTES:
        return None, True
    return data, False


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
        check_http_config(settings)
        self._api_key()  # fail before any work when the variable is missing
        handlers = [_HTTPHandler(), _HTTPSHandler(), _NoRedirect()]
        if is_loopback(settings.base_url):
            handlers.append(urllib.request.ProxyHandler({}))
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

    def contaminated(self, reply: Reply) -> bool:
        """Whether a stored reply carries the current key (a cache written before the screen existed)."""
        return SecretScreen(self._api_key()).contaminated(reply.content, reply.refusal, reply.finish_reason)

    def body(self, request: JudgeRequest) -> dict:
        """The JSON request body (no secret in it)."""
        body = {"model": self.settings.model, "messages": self.prompt.messages(request), "temperature": 0,
                "max_tokens": self.settings.max_tokens, "stream": False}
        if self.settings.json_mode:
            body["response_format"] = {"type": "json_object"}
        return body

    def _wait(self, attempt: int, retry_after: Optional[str], deadline: float) -> bool:
        """Back off before the next attempt; False (no wait) when the wait would pass the call's deadline."""
        delay = min(self.settings.backoff_s * (2 ** attempt), self.settings.max_backoff_s)
        if retry_after is not None:
            try:
                delay = min(max(float(retry_after), 0.0), self.settings.max_backoff_s)
            except ValueError:
                pass  # an HTTP date: keep our own backoff
        if delay != delay:  # NaN
            delay = 0.0
        if time.monotonic() + delay >= deadline:
            return False
        if delay > 0:
            self.sleep(delay)
        return True

    def complete(self, request: JudgeRequest) -> Reply:
        """POST one request; retry what may pass on a retry; raise :class:`TransportError` otherwise.

        The whole call, every attempt and every backoff wait included, ends within
        ``timeout_s``: a retry or a wait that would pass that deadline is not started.
        """
        data = json.dumps(self.body(request), ensure_ascii=False).encode("utf-8")
        attempts = self.settings.max_retries + 1
        deadline = time.monotonic() + self.settings.timeout_s
        last: Optional[TransportError] = None
        made = 0
        for attempt in range(attempts):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            key = self._api_key()
            screen = SecretScreen(key)
            made += 1
            try:
                outcome, retry, retry_after = self._attempt(data, key, screen, made, remaining)
            except Exception as exc:  # noqa: BLE001 - a server must not stop the run, even through a bug here
                # Only the exception's type: its message may quote what the server sent.
                outcome, retry, retry_after = TransportError(
                    "http_error", f"the response from {self.url} could not be handled ({type(exc).__name__})",
                    None, attempts=made), False, None
            if isinstance(outcome, Reply):
                return outcome
            last = outcome
            if not retry:
                raise outcome
            if attempt + 1 < attempts and not self._wait(attempt, retry_after, deadline):
                break
        assert last is not None
        plural = "s" if made != 1 else ""
        last.failure = type(last.failure)(last.failure.kind, last.failure.detail + f" (after {made} attempt{plural})",
                                          last.failure.raw)
        last.attempts = made
        raise last

    def _attempt(self, data: bytes, key: Optional[str], screen: SecretScreen, attempt: int,
                 remaining: float) -> tuple[Reply | TransportError, bool, Optional[str]]:
        """One HTTP exchange within ``remaining`` seconds: (reply or failure, retry it?, Retry-After)."""
        headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "blindspot-judge"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        http_request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
        watch = _Watch()
        http_request.blindspot_watch = watch
        timer = threading.Timer(remaining, watch.fire)
        timer.daemon = True
        with self._lock:
            self.attempts_made += 1

        def failure(kind, detail, raw=None, retry=False, retry_after=None):
            if watch.expired:
                kind, detail, raw, retry = "timeout", self._timeout_detail(), None, True
            elif screen.contaminated(detail, raw):
                kind, detail, raw, retry = "credential_echo", CONTAMINATED, None, False
            elif raw is not None:
                raw = raw[:RAW_LIMIT]
            return TransportError(kind, detail, raw, attempts=attempt), retry, retry_after

        timer.start()
        try:
            try:
                with self._opener.open(http_request, timeout=remaining) as response:
                    body, too_large = _read_capped(response)
            except urllib.error.HTTPError as exc:
                return self._http_error(exc, failure)  # still under the watchdog: it reads the error body
            except (TimeoutError, socket.timeout):
                return failure("timeout", self._timeout_detail(), retry=True)
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, (TimeoutError, socket.timeout)):
                    return failure("timeout", self._timeout_detail(), retry=True)
                return failure("http_error", f"cannot reach {self.url}: {exc.reason}", retry=True)
            except (OSError, http.client.HTTPException, ValueError) as exc:
                return failure("http_error", f"connection to {self.url} failed: {type(exc).__name__}: {exc}",
                               retry=True)
        finally:
            timer.cancel()
        if watch.expired:
            return failure("timeout", self._timeout_detail(), retry=True)
        return self._screened_reply(body, too_large, screen, attempt, failure)

    def _http_error(self, exc: urllib.error.HTTPError, failure: Callable) -> tuple[TransportError, bool, Optional[str]]:
        """An error status as ``failure(...)``: a redirect is never followed; 408, 409, 429 and 5xx are retried."""
        code = exc.code
        reason = str(exc.reason)
        if 300 <= code < 400:
            location = exc.headers.get("Location") if exc.headers else None
            target = _redirect_origin(self.url, location)
            return failure("http_error", f"HTTP {code} redirect from {origin_of(self.url)} to {target}: not "
                                         f"followed (credentials are never sent to another origin)")
        retry_after = exc.headers.get("Retry-After") if exc.headers else None
        try:
            error_body, _ = _read_capped(exc)  # cut at the cap either way: an error body is only shown
        except Exception:  # the body of an error is best effort: the status already says what happened
            error_body = None
        raw = None if error_body is None else error_body.decode("utf-8", errors="replace")
        retry = code in _RETRY_STATUS or code >= 500
        return failure("http_error", f"HTTP {code} {reason} from {self.url}", raw, retry, retry_after)

    def _screened_reply(self, body: Optional[bytes], too_large: bool, screen: SecretScreen, attempt: int,
                        failure: Callable) -> tuple[Reply | TransportError, bool, Optional[str]]:
        """The reply in a success body, or a failure: too large, not a chat completion, or carrying the key."""
        if too_large:
            return failure("parse_error", f"the response body exceeds {MAX_BODY_BYTES} bytes; not read")
        raw = body.decode("utf-8", errors="replace")
        if screen.contaminated(raw):
            return failure("credential_echo", CONTAMINATED)
        reply = self._reply(raw, attempt)
        if isinstance(reply, TransportError):
            return reply, False, None
        # The key cut into many short pieces over the fields of the body or of a JSON reply: joined again.
        pieces = [reply.content, reply.refusal, reply.finish_reason, "".join(_strings(raw)),
                  "".join(_strings(reply.content))]
        if screen.contaminated(*pieces):
            return failure("credential_echo", CONTAMINATED)
        return reply, False, None

    def _timeout_detail(self) -> str:
        return f"no complete reply from {self.url} within {self.settings.timeout_s:g} s"

    def _reply(self, raw: str, attempts: int) -> Reply | TransportError:
        """The assistant message of a chat-completions body, or a ``parse_error`` (raw already screened)."""
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
        except (json.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError, ValueError,
                RecursionError) as exc:
            return TransportError("parse_error", f"the response body is not a chat-completions object "
                                  f"({type(exc).__name__}: {str(exc)[:200]})", raw[:RAW_LIMIT], attempts=attempts)
        usage = envelope.get("usage") if isinstance(envelope, dict) else None
        usage = {k: int(v) for k, v in (usage if isinstance(usage, dict) else {}).items()
                 if k in ("prompt_tokens", "completion_tokens", "total_tokens") and isinstance(v, int)
                 and not isinstance(v, bool) and 0 <= v < 2 ** 53}
        finish = choice.get("finish_reason") if isinstance(choice, dict) else None
        return Reply(content=content, refusal=refusal, finish_reason=finish if isinstance(finish, str) else None,
                     usage=usage)


def check_http_config(settings: JudgeHttpConfig) -> None:
    """Validate ``judge.http`` without touching the network or the environment.

    Raises
    ------
    ConfigError
        A base URL that is not http(s) with a host, or impossible limits.
    """
    parts = urllib.parse.urlsplit(settings.base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"judge.http.base_url must be an http(s) URL, got {settings.base_url!r}")
    if settings.concurrency < 1 or settings.max_retries < 0 or not settings.timeout_s > 0:
        raise ConfigError(f"judge.http: concurrency >= 1, max_retries >= 0 and timeout_s > 0 are required; got "
                          f"concurrency={settings.concurrency}, max_retries={settings.max_retries}, "
                          f"timeout_s={settings.timeout_s}")
    if settings.backoff_s < 0 or settings.max_backoff_s < 0 or settings.max_tokens < 1:
        raise ConfigError(f"judge.http: backoff_s >= 0, max_backoff_s >= 0 and max_tokens >= 1 are required; got "
                          f"backoff_s={settings.backoff_s}, max_backoff_s={settings.max_backoff_s}, "
                          f"max_tokens={settings.max_tokens}")
