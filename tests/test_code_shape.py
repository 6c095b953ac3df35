"""The library stays readable: no function longer than about a screen without saying why.

A function's length is counted without its docstring. One over :data:`MAX_LINES` must
carry a comment ``# Long because: ...`` saying why splitting it would not help a reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "blindspot"
MAX_LINES = 60


def _long_functions() -> list[str]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            length = node.end_lineno - node.lineno + 1
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value,
                                                                                                      str):
                length -= first.end_lineno - first.lineno + 1  # the docstring
            body = "\n".join(lines[node.lineno - 1:node.end_lineno])
            if length > MAX_LINES and "# Long because:" not in body:
                out.append(f"{path.relative_to(SRC.parent)}:{node.lineno} {node.name} ({length} lines)")
    return out


def test_no_function_is_longer_than_a_screen_without_a_reason():
    assert _long_functions() == []
