"""A readable, stable text form of the AST (`btc --emit ast`, test goldens).

One node per line: its class, its scalar fields, and its span as
`@line:col-line:col` (1-based, end exclusive). Child nodes follow, indented
and labelled with the field that holds them; empty lists and absent
(None) children are left out.

    Probe @1:1-1:26
      attach_points:
        AttachPoint raw='BEGIN' @1:1-1:6
          parts:
            AttachPart role='provider' text='BEGIN' @1:1-1:6
      body: Block @1:7-1:26
"""

from __future__ import annotations

import dataclasses

from ..source import SourceText
from .ast import Node


def dump(node: Node, source: SourceText) -> str:
    lines: list[str] = []
    # An explicit stack: (node, label, depth). The AST depth is bounded by
    # the parser, but there is no reason to recurse here either.
    stack: list[tuple[Node, str, int]] = [(node, "", 0)]
    while stack:
        current, label, depth = stack.pop()
        indent = "  " * depth
        if isinstance(current, str):  # a list field's heading
            lines.append(f"{indent}{current}:")
            continue
        lines.append(f"{indent}{label}{_describe(current, source)}")
        pending: list[tuple] = []
        for field in dataclasses.fields(current):
            if field.name == "span" or not field.metadata.get("walk", True):
                continue
            value = getattr(current, field.name)
            if isinstance(value, Node):
                pending.append((value, f"{field.name}: ", depth + 1))
            elif isinstance(value, list) and value and isinstance(value[0], Node):
                pending.append((f"{field.name}", "", depth + 1))
                pending.extend((item, "", depth + 2) for item in value)
        stack.extend(reversed(pending))
    return "\n".join(lines) + "\n"


def _describe(node: Node, source: SourceText) -> str:
    parts = [type(node).__name__]
    for field in dataclasses.fields(node):
        if field.name == "span":
            continue
        value = getattr(node, field.name)
        if isinstance(value, (Node, list)) or value is None:
            continue
        if isinstance(value, bool) and not value and field.default is False:
            continue  # leave out flags at their default
        parts.append(f"{field.name}={value!r}")
    start_line, start_col = source.lines.line_col(node.span.start)
    end_line, end_col = source.lines.line_col(node.span.end)
    parts.append(f"@{start_line}:{start_col}-{end_line}:{end_col}")
    return " ".join(parts)
