"""The words of syntax errors: what was found, what was expected, and hints
for the mistakes people make most."""

from __future__ import annotations

from lark import Token
from lark.exceptions import UnexpectedToken

from ..source import decode
from .grammar import Grammar
from .recovery import trial_copy


class Messages:
    def __init__(self, grammar: Grammar) -> None:
        self.g = grammar

    def unexpected(self, state, token: Token, expression: bool = False) -> str:
        """"unexpected 'x', expected A, B or C" (the expectations only when
        there are few)."""
        expected = ["expression"] if expression else self.expected(state.position)
        found = self.describe(token)
        if expected and len(expected) <= 4:
            return f"unexpected {found}, expected {_join(expected)}"
        return f"unexpected {found}"

    def expected(self, position) -> list[str]:
        terminals = [t for t in self.g.states[position] if t.isupper() or t == "$END"]
        terminals = [t for t in terminals if t != "MISSING"]
        names = {self.g.display.get(t, t) for t in terminals}
        if self.g.expression_start <= set(terminals):
            names = {self.g.display[t] for t in terminals if t not in self.g.expression_terminals}
            names.add("expression")
        return sorted(names)

    @staticmethod
    def describe(token: Token) -> str:
        if token.type == "$END":
            return "end of file"
        text = decode(str(token))
        if len(text) > 24:
            text = text[:21] + "..."
        return f"'{text}'"

    def hints(self, state, token: Token) -> tuple[str, ...]:
        """Advice for the mistakes people make most."""
        # Let the parser reduce what it can before the error, on a copy.
        trial = trial_copy(state)
        try:
            trial.feed_token(token)
        except UnexpectedToken:
            pass
        values = trial.value_stack
        keyword = values[-2] if len(values) >= 2 else None
        if (
            isinstance(keyword, Token)
            and keyword.type in self.g.condition_keywords
            and token.type in self.g.binary_operators
        ):
            return (
                f"without parentheses the condition of '{keyword}' must be a single term; "
                f"write '{keyword} (...) {{'",
            )
        if values and isinstance(values[-1], Token) and values[-1].type == self.g.LET and token.type == "VAR":
            if state.state_stack[-2] in self.g.top_anchors:
                return ("at the top level, let declares a map: let @name = hash(1024);",)
        return ()


def _join(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]
