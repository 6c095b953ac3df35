"""Helpers of the judge tests: a real chat-completions server on 127.0.0.1 that misbehaves on
demand, verdict and envelope builders, a tiny canonical predictions table.

Only loopback: the server binds 127.0.0.1 on a free port; no test touches any other network.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pandas as pd

CLASSES = ("negative", "neutral", "positive")


def verdict(**overrides) -> dict:
    base = {"sentiment": "negative", "sarcasm": "no", "mixed_sentiment": "no", "register": "plain",
            "gold_label_wrong": "no", "gold_label_reason": "The label matches the text.", "confidence": 0.9,
            "rationale": "It says the drug did not work."}
    base.update(overrides)
    return base


def envelope(content, *, finish_reason="stop", refusal=None, usage=None) -> dict:
    message = {"role": "assistant", "content": content}
    if refusal is not None:
        message["refusal"] = refusal
    return {"id": "chatcmpl-test", "object": "chat.completion", "model": "test-model",
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
            "usage": usage or {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}


@dataclass
class Answer:
    """What the server sends back: status, a JSON-able body or raw bytes, a delay, headers."""

    status: int = 200
    body: object = None
    raw: bytes | None = None
    delay: float = 0.0
    headers: dict = field(default_factory=dict)


def review_of(body: dict) -> str:
    """The review the client sent, recovered from the user message's delimited JSON string."""
    user = body["messages"][1]["content"]
    lines = user.split("\n")
    marks = [i for i, line in enumerate(lines) if line.startswith("<<<REVIEW ")]
    return json.loads("\n".join(lines[marks[0] + 1:marks[1]]))


class ChatServer:
    """``behaviour(body, headers, n) -> Answer``; ``n`` counts requests from 1. Records every request."""

    def __init__(self):
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.release = threading.Event()  # set at teardown: sleeping handlers stop waiting
        self.in_flight = 0
        self.max_in_flight = 0
        self.behaviour = lambda body, headers, n: Answer(body=envelope(json.dumps(verdict())))
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except json.JSONDecodeError:
                    body = None
                headers = {k: v for k, v in self.headers.items()}
                with server.lock:
                    server.requests.append({"path": self.path, "headers": headers, "body": body})
                    n = len(server.requests)
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    answer = server.behaviour(body, headers, n)
                    if answer.delay:
                        server.release.wait(answer.delay)
                    payload = answer.raw if answer.raw is not None else json.dumps(answer.body).encode()
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for k, v in answer.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nothing to answer
                finally:
                    with server.lock:
                        server.in_flight -= 1

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.stopped = False

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        if self.stopped:
            return
        self.stopped = True
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def canonical_frame(texts, labels, predictions, confidences=None, classes=CLASSES) -> pd.DataFrame:
    """A tiny canonical predictions table (the layout ingest writes), with probabilities."""
    index = {c: k for k, c in enumerate(classes)}
    n, n_classes = len(texts), len(classes)
    confidences = np.full(n, 0.9) if confidences is None else np.asarray(confidences, dtype=float)
    y_true = np.array([index[y] for y in labels], dtype=np.int8)
    y_pred = np.array([index[y] for y in predictions], dtype=np.int8)
    proba = np.full((n, n_classes), 0.0)
    rest = (1 - confidences) / (n_classes - 1)
    for k in range(n_classes):
        proba[:, k] = np.where(y_pred == k, confidences, rest)
    frame = pd.DataFrame({
        "record": np.arange(1, n + 1, dtype=np.int64), "id": pd.array([f"r-{i}" for i in range(1, n + 1)], dtype="string"),
        "text": pd.array(list(texts), dtype="string"), "label": pd.array(list(labels), dtype="string"),
        "prediction": pd.array(list(predictions), dtype="string"), "confidence": confidences,
        "y_true": y_true, "y_pred": y_pred, "correct": y_true == y_pred,
    })
    for k, c in enumerate(classes):
        frame[f"proba__{c}"] = proba[:, k]
    return frame
