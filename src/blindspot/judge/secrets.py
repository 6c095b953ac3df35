"""Is a server's text contaminated by our credential? (the guard before anything is stored)

Replacing the exact key in a reply (redaction) is not enough: a hostile or buggy server
can send it back JSON-escaped (``\\u0073\\u006b...``, any mix of escaped and plain
characters), percent-encoded, as HTML entities, hex or base64 (standard or URL-safe, at
any alignment inside a longer encoded string), cut in two and spread over two fields. So
text from a server is not cleaned, it is *judged*: :meth:`SecretScreen.contaminated` says
whether any fragment of the key of at least :data:`MIN_FRAGMENT` characters appears in
any of those readings of the text. Contaminated text is discarded whole by the caller
(recorded as a failure with a fixed reason, the raw response withheld), never stored.

Readings ("views") of a text, each searched for a fragment (case-insensitively):

- the text itself, its backslash-unescaped form (JSON ``\\uXXXX``, ``\\xXX``, ``\\/``),
  its percent-decoded form and its HTML-unescaped form, applied repeatedly (a
  JSON-escaped percent-encoded key is found too), with and without whitespace;
- every run of base64 characters in any view, decoded with both alphabets at each of
  the four character offsets (so a run glued to other letters still decodes);
- every run of hex digits, decoded at both offsets, after dropping ``\\x``, ``0x``,
  ``:``, spaces and dashes between bytes.

Splitting: a key cut into two pieces leaves one piece of at least half its length, so a
key of ``2 * MIN_FRAGMENT`` characters or more is caught whatever the cut; the caller
also screens the concatenation of a reply's fields.

False positives cost one discarded reply; a leaked key costs a revoked credential.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import urllib.parse
from typing import Iterable, Optional

MIN_FRAGMENT = 8  # characters of the key that count as the key (the whole key when shorter)
CONTAMINATED = "reply contained the credential; discarded"
_MAX_ROUNDS = 3  # nested encodings unwrapped (escaped-of-percent-encoded-of-...)

_BACKSLASH = re.compile(r"\\(?:u\{([0-9a-fA-F]{1,6})\}|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|x([0-9a-fA-F]{2})|(.))", re.S)
_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "/": "/", "\\": "\\", '"': '"', "'": "'"}
_B64_RUN = re.compile(r"[A-Za-z0-9+/_\-]{10,}")
_HEX_SEPARATORS = re.compile(r"\\x|0x|%|[\s:,\-]")
_HEX_RUN = re.compile(r"[0-9a-fA-F]{16,}")
_WHITESPACE = re.compile(r"\s+")


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


def _text_views(text: str) -> set[str]:
    """The text and every reading of it under the decoders above, applied up to _MAX_ROUNDS times."""
    views = {text}
    frontier = {text}
    for _ in range(_MAX_ROUNDS):
        new = set()
        for view in frontier:
            for decoded in (_unbackslash(view), urllib.parse.unquote(view, errors="replace"),
                            urllib.parse.unquote_plus(view, errors="replace"), html.unescape(view)):
                if decoded not in views:
                    new.add(decoded)
        views |= new
        frontier = new
        if not frontier:
            break
    return views | {_WHITESPACE.sub("", v) for v in views}


def _b64_decodings(view: str) -> Iterable[bytes]:
    for run in _B64_RUN.findall(view):
        standard = run.replace("-", "+").replace("_", "/")
        for offset in range(4):
            chunk = standard[offset:]
            chunk = chunk[:len(chunk) - len(chunk) % 4]
            if len(chunk) < 8:
                continue
            try:
                yield base64.b64decode(chunk, validate=True)
            except (binascii.Error, ValueError):
                continue


def _hex_decodings(view: str) -> Iterable[bytes]:
    compact = _HEX_SEPARATORS.sub("", view)
    for run in _HEX_RUN.findall(compact):
        for offset in range(2):
            chunk = run[offset:]
            chunk = chunk[:len(chunk) - len(chunk) % 2]
            try:
                yield bytes.fromhex(chunk)
            except ValueError:
                continue


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
        self._fragments: tuple[str, ...] = ()
        self._byte_fragments: tuple[bytes, ...] = ()
        if secret:
            low = secret.lower()
            m = min(min_fragment, len(low))
            self._fragments = tuple(sorted({low[i:i + m] for i in range(len(low) - m + 1)}))
            raw = secret.encode("utf-8")
            mb = min(min_fragment, len(raw))
            self._byte_fragments = tuple(sorted({raw[i:i + mb].lower() for i in range(len(raw) - mb + 1)}))

    def __repr__(self) -> str:
        return f"SecretScreen(active={bool(self._fragments)})"

    @property
    def active(self) -> bool:
        return bool(self._fragments)

    def _in_text(self, view: str) -> bool:
        low = view.lower()
        return any(f in low for f in self._fragments)

    def _in_bytes(self, data: bytes) -> bool:
        low = data.lower()
        return any(f in low for f in self._byte_fragments)

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
        if not self._fragments:
            return False
        pieces = [t for t in texts if isinstance(t, str) and t]
        if len(pieces) > 1:
            pieces.append("".join(pieces))
        for piece in pieces:
            for view in _text_views(piece):
                if self._in_text(view):
                    return True
                for decoded in _b64_decodings(view):
                    if self._in_bytes(decoded):
                        return True
                for decoded in _hex_decodings(view):
                    if self._in_bytes(decoded):
                        return True
        return False
