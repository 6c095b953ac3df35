"""Is a server's text contaminated by our credential? (the guard before anything is stored)

Replacing the exact key in a reply (redaction) is not enough: a hostile or buggy server
can send it back JSON-escaped (``\\u0073\\u006b...``, any mix of escaped and plain
characters), percent-encoded, as HTML entities, hex or base64 (standard or URL-safe, at
any alignment inside a longer encoded string), cut in two and spread over two fields. So
text from a server is not cleaned, it is *judged*: :meth:`SecretScreen.contaminated` says
whether any fragment of the key of at least :data:`MIN_FRAGMENT` characters appears in
any of those readings of the text. Contaminated text is discarded whole by the caller
(recorded as a failure with a fixed reason, the raw response withheld), never stored.

Readings ("views") of a text, each searched for the key's fragments:

- the text itself; backslash-unescaped (JSON ``\\uXXXX``, ``\\xXX``, ``\\/``); percent-decoded;
  HTML-unescaped; every step of the three applied in turn until nothing changes (a
  JSON-escaped percent-encoded key is found too); and those without whitespace (a
  wrapped base64 line);
- in each: the key's ``MIN_FRAGMENT``-character fragments, case-insensitively; the hex of
  its byte fragments (separators ``\\x``, ``0x``, ``:``, spaces and dashes between bytes
  dropped); and the base64 (both alphabets) of every 6-byte window of the key. Whatever
  the alignment of the key inside a longer encoded string, one of those windows starts on
  a 3-byte boundary, and its 8 base64 characters appear verbatim.

Every check is a plain substring search over a few views, so a reply is screened in time
linear in its size (a megabyte-sized body in well under a second).

Splitting: a key cut into two pieces leaves one piece of at least half its length, so a
key of ``2 * MIN_FRAGMENT`` characters or more is caught whatever the cut; the caller
also screens the concatenation of a reply's fields.

False positives cost one discarded reply; a leaked key costs a revoked credential.
"""

from __future__ import annotations

import base64
import html
import re
import urllib.parse
from typing import Optional

MIN_FRAGMENT = 8  # characters of the key that count as the key (the whole key when shorter)
CONTAMINATED = "reply contained the credential; discarded"
_MAX_ROUNDS = 3  # nested encodings unwrapped (escaped-of-percent-encoded-of-...)

_BACKSLASH = re.compile(r"\\(?:u\{([0-9a-fA-F]{1,6})\}|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|x([0-9a-fA-F]{2})|(.))", re.S)
_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "/": "/", "\\": "\\", '"': '"', "'": "'"}
_HEX_SEPARATORS = re.compile(r"\\x|0x|[\s:,\-]")
_WHITESPACE = re.compile(r"\s+")
_B64_WINDOW = 6  # bytes: 8 base64 characters, fully determined when the window starts on a 3-byte boundary


def _chr(code: int) -> str:
    try:
        return chr(code)
    except (ValueError, OverflowError):
        return "\ufffd"


def _unbackslash(text: str) -> str:
    """Lenient backslash unescape: JSON and Python escapes; anything else loses its backslash."""
    def one(m: re.Match) -> str:
        code = m.group(1) or m.group(2) or m.group(3) or m.group(4)
        if code is not None:
            return _chr(int(code, 16))
        return _SIMPLE.get(m.group(5), m.group(5))
    return _BACKSLASH.sub(one, text)


def _unpercent(text: str) -> str:
    return urllib.parse.unquote(text, errors="replace")


def _views(text: str) -> list[str]:
    """The distinct readings of ``text`` (see the module docstring), the text itself first."""
    views = [text, _unbackslash(text), _unpercent(text), html.unescape(text)]
    current = text
    for _ in range(_MAX_ROUNDS):  # every step kept: a key holding "%41" must not be decoded once too often
        before = current
        for decode in (_unbackslash, _unpercent, html.unescape):
            current = decode(current)
            views.append(current)
        if current == before:
            break
    views += [_WHITESPACE.sub("", v) for v in views]
    return list(dict.fromkeys(views))


class SecretScreen:
    """Decides whether text from a server carries (a fragment of) one secret.

    Parameters
    ----------
    secret : str or None
        The credential. With none (no ``api_key_env``) nothing is ever contaminated.
    min_fragment : int
        Shortest run of the secret's characters that counts (the whole secret when shorter).

    Notes
    -----
    The screen holds only the secret's fragments, in memory; its ``repr`` shows none.
    """

    def __init__(self, secret: Optional[str], min_fragment: int = MIN_FRAGMENT):
        self._text: tuple[str, ...] = ()
        self._hex: tuple[str, ...] = ()
        self._b64: tuple[str, ...] = ()
        if secret:
            low = secret.lower()
            m = min(min_fragment, len(low))
            self._text = tuple(sorted({low[i:i + m] for i in range(len(low) - m + 1)}))
            raw = secret.encode("utf-8")
            mb = min(min_fragment, len(raw))
            self._hex = tuple(sorted({raw[i:i + mb].hex() for i in range(len(raw) - mb + 1)}))
            w = min(_B64_WINDOW, len(raw) - len(raw) % 3) if len(raw) >= 3 else 0
            cores = {base64.b64encode(raw[i:i + w]).decode("ascii") for i in range(len(raw) - w + 1)} if w else set()
            self._b64 = tuple(sorted(cores | {c.replace("+", "-").replace("/", "_") for c in cores}))

    def __repr__(self) -> str:
        return f"SecretScreen(active={self.active})"

    @property
    def active(self) -> bool:
        return bool(self._text)

    def _in_view(self, view: str) -> bool:
        low = view.lower()
        if any(f in low for f in self._text) or any(c in view for c in self._b64):
            return True
        compact = _HEX_SEPARATORS.sub("", low)
        return any(h in compact for h in self._hex)

    def contaminated(self, *texts: Optional[str]) -> bool:
        """Whether any of ``texts`` (None is skipped), or their concatenation, carries the secret.

        Parameters
        ----------
        *texts : str or None
            Pieces of one server response (body, reason phrase, reply fields, a redirect
            target...). They are also joined, so a key cut across two of them is found.

        Returns
        -------
        bool
        """
        if not self._text:
            return False
        pieces = [t for t in texts if isinstance(t, str) and t]
        if len(pieces) > 1:
            pieces.append("".join(pieces))
        return any(self._in_view(view) for piece in pieces for view in _views(piece))
