"""Errors that reach a user as a message, never as a traceback.

Stages catch :class:`BlindspotError` (see ``src/blindspot/stages/_runner.py``), print its message and
exit with status 2; an :class:`OSError` (a file missing or unwritable) is one line naming
the file, status 2. Everything else is a bug: one line saying so ("<stage>: internal
error: <type>: <message> (a bug: please report it with the traceback below)"), then the
traceback, status 1. So every problem a user can cause must raise one of these classes.
"""

from __future__ import annotations


class BlindspotError(Exception):
    """Base class of every error that is the user's to fix."""


class InputError(BlindspotError):
    """A predictions file that cannot be used at all.

    The message names the file, where in it (line, record), the field, what was
    expected and what was found, so the user can fix it without reading code.

    Parameters
    ----------
    path : str
        The input file.
    problem : str
        One sentence: what is wrong.
    where : str, optional
        "line 12", "record 7 (line 9)", ...
    field : str, optional
        The field or column concerned.
    expected, found : str, optional
        What the contract asks for and what the file holds.
    hint : str, optional
        How to fix it.
    """

    def __init__(self, path, problem, *, where=None, field=None, expected=None, found=None, hint=None):
        self.path = str(path)
        self.problem = problem
        self.where = where
        self.field = field
        self.expected = expected
        self.found = found
        self.hint = hint
        super().__init__(self.format())

    def format(self) -> str:
        head = self.path + (f", {self.where}" if self.where else "")
        if self.field:
            head += f", field {self.field!r}"
        lines = [f"{head}: {self.problem}"]
        if self.expected is not None:
            lines.append(f"  expected: {self.expected}")
        if self.found is not None:
            lines.append(f"  found:    {self.found}")
        if self.hint:
            lines.append(f"  hint:     {self.hint}")
        return "\n".join(lines)


class ConfigError(BlindspotError):
    """params.yaml (or a Hydra override) that does not fit the typed config."""
