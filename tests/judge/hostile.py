"""A hostile chat-completions server for the judge's secret, deadline and resume tests (127.0.0.1 only).

Unlike :class:`judge.helpers.ChatServer` it writes raw HTTP by hand, so it can send what a
well-behaved server never would: a reason phrase of its choice, a body dripped one byte a
second, a status line that never ends, a redirect, any header.

``behaviour(review, authorization, n) -> Response`` decides each answer; ``n`` counts
requests from 1. Every request is recorded (path, headers, review).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Optional

from judge.helpers import envelope, review_of, verdict


@dataclass
class Response:
    """What to send: status and reason phrase, extra headers, a body, and whether to drip it."""

    status: int = 200
    reason: Optional[str] = None
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    drip: Optional[str] = None  # "head": the status line, one byte a second; "body": the body likewise
    drip_for: float = 10.0  # then the connection is closed (so a client without a deadline fails, not hangs)
    hang: bool = False  # read the request, then answer nothing until the server stops


def ok_verdict(sentiment: str = "negative") -> Response:
    return Response(body=json.dumps(envelope(json.dumps(verdict(sentiment=sentiment)))).encode())


class HostileServer:
    def __init__(self, behaviour: Callable[[str, Optional[str], int], Response] | None = None):
        self.behaviour = behaviour or (lambda review, auth, n: ok_verdict())
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length", 0) or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    review = review_of(json.loads(raw))
                except (ValueError, KeyError, IndexError, TypeError):
                    review = None
                auth = self.headers.get("Authorization")
                with server.lock:
                    server.requests.append({"path": self.path, "method": self.command,
                                            "headers": dict(self.headers.items()), "review": review})
                    n = len(server.requests)
                answer = server.behaviour(review, auth, n)
                try:
                    self._send(answer)
                except (BrokenPipeError, ConnectionResetError, OSError):
                    pass  # the client gave up (a deadline): nothing more to send
                self.close_connection = True

            def _send(self, answer: Response):
                if answer.hang:
                    server.stopping.wait(60)
                    return
                reason = answer.reason if answer.reason is not None else "OK"
                head = f"HTTP/1.1 {answer.status} {reason}\r\n".encode("latin-1", errors="replace")
                headers = {"Content-Type": "application/json", "Connection": "close", **answer.headers}
                if answer.drip != "body":
                    headers["Content-Length"] = str(len(answer.body))
                head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode("latin-1", errors="replace") + b"\r\n"
                until = time.monotonic() + answer.drip_for
                if answer.drip == "head":
                    for byte in head * 1000:  # never completes within any sane deadline
                        if server.stopping.wait(1.0) or time.monotonic() > until:
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    return
                self.wfile.write(head)
                self.wfile.flush()
                if answer.drip == "body":
                    for byte in answer.body * 1000:
                        if server.stopping.wait(1.0) or time.monotonic() > until:
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    return
                self.wfile.write(answer.body)
                self.wfile.flush()

            do_POST = _handle
            do_GET = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> "HostileServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
