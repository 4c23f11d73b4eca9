"""The shape of an AST without its positions: what "formatting never changes
meaning" compares. Two programs with equal shapes have the same items,
statements, expressions, names and literal values in the same order; only
where they sit in the text may differ. Comments are layout, not shape."""

from __future__ import annotations

import dataclasses

from ..syntax import ast


def shape(node: ast.Node):
    """A nested tuple of the node's class and its fields, spans left out.
    Recursion is bounded by the AST's depth limit."""
    parts: list = [type(node).__name__]
    for field in dataclasses.fields(node):
        if field.name == "span" or not field.metadata.get("walk", True):
            continue
        parts.append(_value(getattr(node, field.name)))
    return tuple(parts)


def program_shape(program: ast.Program):
    """shape() of a whole program; the shebang's trailing blanks are layout
    (the kernel ignores them too)."""
    parts = list(shape(program))
    if program.shebang is not None:
        fields = [
            f.name
            for f in dataclasses.fields(program)
            if f.name != "span" and f.metadata.get("walk", True)
        ]
        parts[1 + fields.index("shebang")] = program.shebang.rstrip()
    return tuple(parts)


def _value(value):
    if isinstance(value, ast.Node):
        return shape(value)
    if isinstance(value, list):
        return tuple(_value(item) for item in value)
    return value


def comment_texts(program: ast.Program) -> list[str]:
    """The program's comments as written, trailing blanks left out (the
    formatter owns those)."""
    return [comment.text.rstrip() for comment in program.comments]
