"""Local repair of syntax errors: the smallest edit that lets parsing go on.

When the parser meets a token it cannot accept, `RepairSearch.best()` tries
a few edits at that point on copies of the parser: insert one token (`;`,
`)`, `]`, `}`, `,`, a predicate's `/`, a placeholder expression, or a `{`
where a block must start), insert a common pair (`);`), or delete the token. Each candidate is scored by how many
of the following tokens then parse (re-lexing them, since the contextual
lexer's choices depend on the parser state), and the best one wins. This is
the idea of Burke and Fisher's error repair, kept small.

`close_blocks()` is the one repair made before any error shows: a line that
starts at column 1 inside a block is tried as the start of a new top-level
item, in case the block's `}` is missing. It is taken only when it parses
strictly better than the text as it is, so valid code is never changed.
"""

from __future__ import annotations

from copy import copy
from dataclasses import dataclass

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedToken

from .grammar import Grammar

# An edit is scored by how many of the next LOOKAHEAD tokens then parse. It
# counts if at least the offending token does; an edit that scores CONFIDENT
# is trusted enough that errors right after it are reported, not muted.
LOOKAHEAD = 5
MIN_SCORE = 1
MIN_DELETE_SCORE = 2  # deleting what the user wrote needs more evidence
CONFIDENT = 3


@dataclass(frozen=True)
class Repair:
    insert: tuple[str, ...] = ()  # terminals to insert before the token
    delete: bool = False  # or: drop the token
    score: int = 0


def trial_copy(state):
    """A copy of a lark ParserState that feeding tokens cannot change.

    lark builds `x*` lists by appending to the list of the leftmost child in
    place, so the trees on the value stack are copied one level deep too.
    """
    values = [
        Tree(v.data, list(v.children), v.meta) if isinstance(v, Tree) else v
        for v in state.value_stack
    ]
    return type(state)(state.parse_conf, state.lexer, list(state.state_stack), values)


def lexer_at(lexer_state, pos: int, line: int, column: int):
    """A copy of a lark LexerState, moved to `pos`."""
    moved = copy(lexer_state)
    set_position(moved, pos, line, column)
    return moved


def set_position(lexer_state, pos: int, line: int, column: int) -> None:
    counter = lexer_state.line_ctr
    counter.char_pos = pos
    counter.line = line
    counter.column = column
    counter.line_start_pos = pos - column + 1


class RepairSearch:
    def __init__(self, grammar: Grammar) -> None:
        self.g = grammar
        n = grammar.name_of
        # A '{' is tried last and only where a block must come (after `if
        # (c)`, a probe header...), for a body whose brace was forgotten.
        singles = [n[";"], n[")"], n["]"], n["}"], n[","], "PRED_END", "MISSING", n["{"]]
        pairs = [
            (n[")"], n[";"]), (n["]"], n[";"]), (n[")"], n[")"]),
            ("MISSING", n[")"]), ("MISSING", n["]"]),
        ]  # fmt: skip
        self.insertions = [(t,) for t in singles] + pairs

    def best(self, state, lexer_state, token: Token) -> Repair | None:
        """The best-scoring edit at `token`, or None if none is good enough."""
        best = None
        operand_expected = not self.g.expression_start.isdisjoint(self.g.states[state.position])
        for insert in self.insertions:
            if insert[0] == self.g.LBRACE and operand_expected:
                continue  # where an operand may go, '{' would start a block expression
            score = self._score_insertion(state, lexer_state, token, insert)
            if score >= MIN_SCORE and (best is None or score > best.score):
                best = Repair(insert=insert, score=score)
        if token.type != "$END":
            trial = trial_copy(state)
            after = lexer_at(lexer_state, token.end_pos, token.end_line, token.end_column)
            score = self._score(trial, after)
            if score >= MIN_DELETE_SCORE and (best is None or score > best.score):
                best = Repair(delete=True, score=score)
        return best

    def close_blocks(self, state, lexer_state, token: Token) -> Repair | None:
        """Closing every open block before `token` (a line starting at column
        1), if that parses strictly better than going on as written."""
        closing = []
        trial = trial_copy(state)
        while trial.position not in self.g.top_anchors:
            if not self._feed_synthetic(trial, self.g.RBRACE, token.start_pos):
                return None
            closing.append(self.g.RBRACE)
        if not closing:
            return None
        here = lexer_at(lexer_state, token.start_pos, token.line, token.column)
        as_written = self._score(trial_copy(state), copy(here))
        if as_written >= LOOKAHEAD:
            return None
        score = self._score(trial, here)
        return Repair(insert=tuple(closing), score=score) if score > as_written else None

    # ------------------------------------------------------------ scoring

    def _score_insertion(self, state, lexer_state, token: Token, insert) -> int:
        trial = trial_copy(state)
        for terminal in insert:
            if not self._feed_synthetic(trial, terminal, token.start_pos):
                return 0
        here = lexer_at(lexer_state, token.start_pos, token.line, token.column)
        return self._score(trial, here)

    def _feed_synthetic(self, trial, terminal: str, pos: int) -> bool:
        if terminal not in self.g.states[trial.position]:
            return False
        try:
            trial.feed_token(self.g.synthetic(terminal, pos))
        except UnexpectedToken:
            return False
        return True

    def _score(self, trial, lexer_state) -> int:
        """How many of the next LOOKAHEAD tokens parse from `trial`. Reaching
        the end of input cleanly counts as the full score."""
        states = self.g.states
        for count in range(LOOKAHEAD):
            lexer = self.g.contextual.lexers[trial.position]
            try:
                token = lexer.next_token(lexer_state, trial)
            except EOFError:
                end = self.g.synthetic("$END", lexer_state.line_ctr.char_pos)
                if "$END" not in states[trial.position]:
                    return count
                try:
                    trial.feed_token(end, True)
                except UnexpectedToken:
                    return count
                return LOOKAHEAD
            except UnexpectedCharacters:
                return count
            if token.type not in states[trial.position]:
                return count
            try:
                trial.feed_token(token)
            except UnexpectedToken:
                return count
        return LOOKAHEAD
