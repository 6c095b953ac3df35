"""The judge's client protocol and its typed results.

Every backend answers one :class:`JudgeRequest` with a :class:`Reply` (the raw text it
produced) or raises :class:`TransportError` (no usable reply: a timeout, an HTTP
error after retries). The raw reply is what gets cached; it is parsed into a typed
:class:`Verdict` or a typed :class:`JudgeFailure` by
:func:`blindspot.judge.parsing.parse_reply`, so a better parser applies to cached
replies without calling the backend again.

Failure kinds (each counted in ``metrics/judge.json``; the raw response is kept):

``parse_error``
    The reply is not exactly one JSON object, or the object misses a field, has an
    unknown field, or a value of the wrong type or out of range; or the HTTP response
    body itself is not a chat-completions object (the raw body is kept).
``refusal``
    The reply is prose with no JSON object at all ("I can't help with that"), or the
    server flagged it as a refusal (``message.refusal``, ``finish_reason ==
    "content_filter"``).
``timeout``
    No reply within ``judge.http.timeout_s``, on every attempt.
``http_error``
    An HTTP error status (5xx and 429 after retries; other 4xx at once) or a
    connection failure.
``budget_exhausted``
    Not sent: ``judge.max_calls`` backend calls were already made in this run.
``credential_echo``
    The server's response carried the API key (in any encoding, see
    :mod:`blindspot.judge.secrets`): discarded whole, the raw response withheld, with
    the fixed detail ``reply contained the credential; discarded``.
``abstained``
    The backend declined on principle: the offline rules cannot read a class with no
    polarity (the detail says which and how to map it).
``skipped``
    Not sent: the circuit breaker opened (consecutive transport failures) before this
    row's turn; the detail says why.

Only replies are cached (verdicts, parse errors, refusals and abstentions: at
temperature 0 the same request gives the same answer). Timeouts, HTTP errors,
malformed response bodies, credential echoes, budget cuts and skipped rows are not:
the next run tries again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Optional, Protocol, Sequence, runtime_checkable


FAILURE_KINDS = ("parse_error", "refusal", "timeout", "http_error", "budget_exhausted", "credential_echo", "abstained",
                 "skipped")
# Kinds that say the server is unreachable or unusable: consecutive ones open the circuit breaker.
TRANSPORT_KINDS = ("timeout", "http_error", "credential_echo")
ABSTAINED = "abstained"  # Reply.finish_reason of an abstention (Reply.refusal holds the reason)
REGISTERS = ("plain", "technical")


@dataclass(frozen=True)
class JudgeRequest:
    """One review to judge.

    Attributes
    ----------
    text : str
        The review, untrusted: it only ever reaches a model inside the prompt's
        delimited data block.
    label : str
        The dataset's gold label, shown to the judge so it can say whether it looks wrong.
    classes : tuple of str
        The allowed sentiment values.
    """

    text: str
    label: str
    classes: tuple


@dataclass(frozen=True)
class Reply:
    """What a backend answered, before parsing.

    ``content`` is the assistant message text (None when the server sent none),
    ``refusal`` the server's refusal text if it set one, ``finish_reason`` as sent.
    ``usage`` holds token counts when the server reports them.
    """

    content: Optional[str]
    refusal: Optional[str] = None
    finish_reason: Optional[str] = None
    usage: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Reply":
        return cls(content=data.get("content"), refusal=data.get("refusal"),
                   finish_reason=data.get("finish_reason"), usage=dict(data.get("usage") or {}))


@dataclass(frozen=True)
class Verdict:
    """A parsed, schema-valid judgment of one review.

    Attributes
    ----------
    sentiment : str
        The judge's own reading, one of the configured classes.
    sarcasm, mixed_sentiment : bool
    register : {"plain", "technical"}
        Medical register of the review.
    gold_label_wrong : bool
        Whether the dataset's label looks wrong to the judge.
    gold_label_reason : str
        One sentence: why the label looks wrong (or why it looks right).
    confidence : float
        In [0, 1], the judge's confidence in its sentiment reading.
    rationale : str
        One sentence of evidence for the reading (the offline rules list what fired).
    """

    sentiment: str
    sarcasm: bool
    mixed_sentiment: bool
    register: str
    gold_label_wrong: bool
    gold_label_reason: str
    confidence: float
    rationale: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class JudgeFailure:
    """A judgment that did not produce a verdict. Never guessed, always kept.

    Attributes
    ----------
    kind : str
        One of :data:`FAILURE_KINDS`.
    detail : str
        What went wrong, for a person.
    raw : str or None
        The raw response (reply text or HTTP body), None when there was none.
    """

    kind: str
    detail: str
    raw: Optional[str] = None

    def __post_init__(self):
        if self.kind not in FAILURE_KINDS:
            raise ValueError(f"unknown failure kind {self.kind!r}; expected one of {FAILURE_KINDS}")

    def to_dict(self) -> dict:
        return asdict(self)


class TransportError(Exception):
    """A backend could not produce a reply (``kind`` is ``timeout`` or ``http_error``)."""

    def __init__(self, kind: str, detail: str, raw: Optional[str] = None, attempts: int = 1):
        super().__init__(detail)
        self.failure = JudgeFailure(kind, detail, raw)
        self.attempts = attempts


@runtime_checkable
class JudgeBackend(Protocol):
    """What the judge needs from a backend.

    Attributes
    ----------
    name : str
        ``"offline"`` or ``"openai"``; part of the cache key.
    model : str
        The model identifier; part of the cache key.
    prompt_version : str
        Name and content hash of the prompt (or rule set); part of the cache key.
    concurrency : int
        How many :meth:`complete` calls may run at once.
    """

    name: str
    model: str
    prompt_version: str
    concurrency: int

    def complete(self, request: JudgeRequest) -> Reply:
        """Answer one request, or raise :class:`TransportError`."""
        ...


def as_classes(classes: Sequence[str]) -> tuple:
    return tuple(str(c) for c in classes)
