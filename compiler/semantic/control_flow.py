"""Where control cannot go on: after `return`, `break` or `continue`, and
after an `if` whose every branch does one of them. The checker uses it to
warn about unreachable code and to find a fn that can end without
returning its value (bpftrace then returns void, which is an error)."""

from __future__ import annotations

from ..syntax import ast

ANY_JUMP = ("return", "break", "continue")


def terminates(node, kinds=ANY_JUMP) -> bool:
    """Does every path through `node` end in a jump of one of `kinds`?"""
    if isinstance(node, ast.Jump):
        return node.kind in kinds
    if isinstance(node, ast.Block):
        return any(terminates(s, kinds) for s in node.stmts) or (
            node.value is not None and terminates(node.value, kinds)
        )
    if isinstance(node, ast.ExprStmt):
        return terminates(node.expr, kinds)
    if isinstance(node, ast.If):
        return terminates(node.cond, kinds) or (
            node.orelse is not None and terminates(node.then, kinds) and terminates(node.orelse, kinds)
        )
    if isinstance(node, ast.While):  # only the condition surely runs
        return terminates(node.cond, kinds)
    return False


def first_unreachable(block: ast.Block):
    """The first statement (or the value) that no path reaches, if any."""
    for index, stmt in enumerate(block.stmts):
        if terminates(stmt):
            if index + 1 < len(block.stmts):
                return block.stmts[index + 1]
            return block.value
    return None
