"""The layout: what goes between each pair of tokens (a space, nothing, or
a line break and an indentation), decided from the tokens' roles.

The tokens themselves are never changed, reordered, added or removed (but
for a `;` that ends nothing, as in `;;`), which is what keeps the meaning:
only the blanks between them are rewritten. The rules:

* Top-level items start on a line of their own, with a blank line between
  items when either is a probe, macro, fn or config block; elsewhere the
  author's blank lines stay (at most one).
* A probe lists one attach point per line, then `/predicate/` on its own
  line, then the body's `{` on its own line; macros and fns likewise put
  their `{` under the header. Other blocks open at the end of their line
  (`if (x) {`, `} else {`). Contents are indented by two spaces; an
  empty block is `{}`.
* One statement per line; the author's blank lines between statements stay
  (at most one), and after `{`, but not before `}`.
* Binary operators, `=`, `?`/`:` and commas are spaced; unary operators,
  casts, calls, indexing, `.`, `->` and `..` are tight; a pointer type is
  `struct task*`; `let $x : T` but `fn f($a: T): T`; records are
  `(a=1, b=2)`.
* Comments stay where they were: at the end of a line of code, or on a
  line of their own (then indented like the code that follows).
* The author's line breaks inside an expression stay; a continuation line
  lines up after the innermost open `(`, `[` or predicate `/`, else with
  the statement. Nothing else is wrapped: a long line stays long.

These are the choices of bpftrace's own formatter (`bpftrace --fmt`, which
upstream's tools/ and stdlib are formatted with) wherever its output shows
them: those files come out unchanged, but for its wrapping of long calls.
"""

from __future__ import annotations

from .lexer import LINE_COMMENT, LINE_OPAQUE, OPAQUE, Token, fuses
from .roles import (
    BIG_ITEMS, BLOCK_OPEN, BODY_OPEN, CALL_PAREN, CAST_CLOSE, CLOSE, DECL_COLON, FIELD_EQ,
    ITEM_START, POSTFIX, PRED_CLOSE, PRED_OPEN, PREFIX, SEMI, SHORT_COLON, TYPE_STAR, Roles,
)  # fmt: skip

INDENT = "  "

# Roles that put their token at the start of a line (besides Roles.line_start).
_LINE_ROLES = frozenset({BODY_OPEN, PRED_OPEN})
_OPENERS = frozenset({BODY_OPEN, BLOCK_OPEN})
_TIGHT_AFTER_TEXT = frozenset({"(", "[", ".", "->", ".."})
_TIGHT_BEFORE_TEXT = frozenset({")", "]", ",", ";", ".", "->", "..", "["})
_TIGHT_AFTER_ROLE = frozenset({PREFIX, CAST_CLOSE, PRED_OPEN, FIELD_EQ})
_TIGHT_BEFORE_ROLE = frozenset(
    {POSTFIX, CALL_PAREN, DECL_COLON, PRED_CLOSE, SHORT_COLON, TYPE_STAR, FIELD_EQ}
)


def layout(text: str, tokens: list[Token], roles: Roles) -> list[str | None]:
    """The blank text to put before each token (None: the token is
    dropped). The formatted program is each gap followed by its token."""
    return _Layout(text, tokens, roles).run()


def _width(s: str) -> int:
    """Columns taken by Latin-1-encoded UTF-8 text (continuation bytes take none)."""
    if s.isascii():
        return len(s)
    return sum(1 for c in s if not "\x80" <= c <= "\xbf")


class _Layout:
    def __init__(self, text: str, tokens: list[Token], roles: Roles) -> None:
        self.text = text
        self.tokens = tokens
        self.role = roles.role
        self.line_start = roles.line_start
        self.item_of = roles.item_of
        self.opener_of = roles.opener_of
        self.gaps: list[str | None] = [None] * len(tokens)
        self.level = 0
        # Per open block, the columns just after each open bracket in it.
        self.frames: list[list[int]] = [[]]
        self.column = 0
        self.prev: int | None = None  # the last token written
        self.prev_code: int | None = None  # the last code token written
        self.last_item = None
        self.item_gap_done = False  # the blank line between two items is placed
        self.next_code = self._next_code_table()

    def _next_code_table(self) -> list[int | None]:
        table: list[int | None] = [None] * len(self.tokens)
        following = None
        for i in range(len(self.tokens) - 1, -1, -1):
            table[i] = following
            if not self.tokens[i].is_comment:
                following = i
        return table

    # ---------------------------------------------------------------- driver

    def run(self) -> list[str | None]:
        for i, tok in enumerate(self.tokens):
            if tok.is_comment:
                gap = self._comment_gap(i)
            else:
                if self._dropped(i):
                    continue
                gap = self._code_gap(i)
            self.gaps[i] = gap
            self._advance(gap + tok.text)
            self._after(i)
        return self.gaps

    def _advance(self, written: str) -> None:
        newline = written.rfind("\n")
        if newline < 0:
            self.column += _width(written)
        else:
            self.column = _width(written[newline + 1 :])

    def _after(self, i: int) -> None:
        tok, role = self.tokens[i], self.role[i]
        self.prev = i
        if tok.is_comment:
            return
        self.prev_code = i
        if role in _OPENERS:
            self.level += 1
            self.frames.append([])
        if self.line_start.get(i) == ITEM_START:
            self.last_item = self.item_of[i]
            self.item_gap_done = False
        if tok.kind == OPAQUE or tok.kind == LINE_OPAQUE:
            return
        if tok.text in ("(", "[") or role == PRED_OPEN:
            self.frames[-1].append(self.column)
        elif (tok.text in (")", "]") or role == PRED_CLOSE) and self.frames[-1]:
            self.frames[-1].pop()

    def _dropped(self, i: int) -> bool:
        """A `;` that ends nothing: after another `;` or right after `{`."""
        if self.role[i] != SEMI or self.prev_code is None:
            return False
        before = self.prev_code
        return self.tokens[before].text == ";" or self.role[before] in _OPENERS

    # ------------------------------------------------------------------ gaps

    def _code_gap(self, i: int) -> str:
        p = self.prev
        if p is None:
            return ""
        role = self.role[i]
        if role == CLOSE:
            self.level = max(self.level - 1, 0)
            if len(self.frames) > 1:
                self.frames.pop()
            opener = self.opener_of.get(i)
            if opener == p:
                return ""  # an empty block: {}
            return "\n" + INDENT * self.level
        if self._starts_line(i):
            return self._newline(self._blank_before(i), INDENT * self.level)
        if self._ends_line(p):
            return "\n" + self._continuation()
        if self._newline_between(p, i) and self._may_break(p, i):
            return "\n" + self._continuation()
        return " " if self._spaced(p, i) else ""

    def _comment_gap(self, i: int) -> str:
        p = self.prev
        if p is None:
            return ""
        if not (self._ends_line(p) or self._newline_between(p, i)):
            return " " if self._spaced(p, i) else ""
        following = self.next_code[i]
        if following is None or self._starts_line(following) or self.role[following] == CLOSE:
            indent = INDENT * self.level
        else:
            indent = self._continuation()
        return self._newline(self._blank_before(i), indent)

    def _starts_line(self, i: int) -> bool:
        return i in self.line_start or self.role[i] in _LINE_ROLES

    @staticmethod
    def _newline(blank: bool, indent: str) -> str:
        return ("\n\n" if blank else "\n") + indent

    def _continuation(self) -> str:
        frame = self.frames[-1]
        if frame:
            return " " * frame[-1]
        return INDENT * self.level

    def _blank_before(self, i: int) -> bool:
        """A blank line before token i, which starts a line."""
        item = self._item_starting_at(i)
        if item is not None and self.last_item is not None and not self.item_gap_done:
            self.item_gap_done = True
            if isinstance(item, BIG_ITEMS) or isinstance(self.last_item, BIG_ITEMS):
                return True
        return self.text.count("\n", self.tokens[self.prev].end, self.tokens[i].start) >= 2

    def _item_starting_at(self, i: int):
        """The item that token i starts, or that the comment i comes just before."""
        if self.tokens[i].is_comment:
            i = self.next_code[i]
            if i is None:
                return None
        return self.item_of.get(i)

    # ---------------------------------------------------------- token pairs

    def _ends_line(self, i: int) -> bool:
        kind = self.tokens[i].kind
        return kind == LINE_COMMENT or kind == LINE_OPAQUE

    def _newline_between(self, a: int, b: int) -> bool:
        return self.text.find("\n", self.tokens[a].end, self.tokens[b].start) >= 0

    def _may_break(self, a: int, b: int) -> bool:
        """Whether the author's line break between a and b stays."""
        left, right = self.tokens[a], self.tokens[b]
        if left.is_comment:
            return True
        if right.text in _TIGHT_BEFORE_TEXT or self.role[b] in _TIGHT_BEFORE_ROLE:
            return False
        if right.text == "else" or self.role[b] == BLOCK_OPEN:
            return False
        if left.kind == OPAQUE:
            return True
        return left.text not in _TIGHT_AFTER_TEXT and self.role[a] not in _TIGHT_AFTER_ROLE

    def _spaced(self, a: int, b: int) -> bool:
        left, right = self.tokens[a], self.tokens[b]
        if right.is_comment:
            tight = left.kind not in (OPAQUE, LINE_OPAQUE) and left.text in ("(", "[")
        elif left.is_comment:
            tight = right.text in (")", "]", ",", ";")
        else:
            tight = (
                (left.kind != OPAQUE and left.text in _TIGHT_AFTER_TEXT)
                or self.role[a] in _TIGHT_AFTER_ROLE
                or (right.kind != OPAQUE and right.text in _TIGHT_BEFORE_TEXT)
                or self.role[b] in _TIGHT_BEFORE_ROLE
                or (self.role[b] == TYPE_STAR and self.role[a] == TYPE_STAR)
            )
        if not tight:
            return True
        # An opaque piece ends where the AST says (an attach point stops at
        # ',' by itself); a comment cannot run into what follows it.
        return left.kind == "code" and fuses(left.text, right.text)
