"""Fixtures of the judge tests (helpers live in judge/helpers.py)."""

import pytest

from judge.helpers import ChatServer


@pytest.fixture
def chat_server():
    """A chat-completions server on 127.0.0.1 (a free port), stopped after the test."""
    server = ChatServer().start()
    yield server
    server.stop()
