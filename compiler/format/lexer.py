"""The formatter's tokens: the program's text cut into the pieces whose
order the formatter keeps, with comments as pieces of their own.

The parser does not hand its tokens out, and the formatter needs fewer
distinctions than lark's contextual lexer, so this is a small lexer of its
own. The context-dependent parts of the language are not lexed here at all:
the AST says where they are (attach points, C preprocessor lines, C
definitions, the shebang) and each becomes one *opaque* token whose text
is kept as written. Everything else (names, literals, operators,
punctuation) lexes the same anywhere.

Like the parser, this works on `SourceText.lark_text` (the UTF-8 bytes as
Latin-1, one character per byte), so token offsets are the AST's byte
offsets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Token kinds.
CODE = "code"  # a name, literal, operator or punctuation mark
LINE_COMMENT = "line-comment"
BLOCK_COMMENT = "block-comment"
OPAQUE = "opaque"  # an attach point or C definition, kept as written
LINE_OPAQUE = "line-opaque"  # a shebang or preprocessor line: ends its line

_TOKEN = re.compile(
    r"""
      (?P<ws>[ \t\r\n\f\v]+)
    | (?P<line>//[^\n]*)
    | (?P<block>/\*(?:[^*]|\*(?!/))*(?:\*/)?)
    | "(?:[^"\\\n]|\\.)*\\?"?
    | '(?:[^'\\\n]|\\.)*\\?'?
    | \$(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+|\#)?
    | @(?:[A-Za-z_][A-Za-z0-9_]*)?
    | (?:0[xX][0-9A-Fa-f_]*|[0-9][0-9_]*(?:[eE][0-9_]+)?)[A-Za-z0-9_]*
    | [A-Za-z_][A-Za-z0-9_]*
    | <<=|>>=|->|\.\.|\+\+|--|&&|\|\||==|!=|<=|>=|<<|>>|[-+*/%&|^]=
    | [\s\S]
    """,
    re.VERBOSE | re.ASCII,
)


@dataclass(slots=True)
class Token:
    kind: str
    start: int
    end: int
    text: str  # lark_text[start:end]

    @property
    def is_comment(self) -> bool:
        return self.kind in (LINE_COMMENT, BLOCK_COMMENT)


def tokenize(text: str, opaque: dict[int, tuple[int, str]]) -> list[Token]:
    """The tokens of `text` (a lark_text). `opaque` maps a start offset to
    (end, kind) for the pieces the AST already delimits; they become single
    tokens. Trailing blanks of line comments and line-ending opaque pieces
    are left out of them, so that they belong to the layout."""
    tokens: list[Token] = []
    pos, end = 0, len(text)
    match = _TOKEN.match
    while pos < end:
        piece = opaque.get(pos)
        if piece is not None:
            stop, kind = piece
            if kind == LINE_OPAQUE:
                stop = pos + len(text[pos:stop].rstrip())
            stop = max(stop, pos + 1)
            tokens.append(Token(kind, pos, stop, text[pos:stop]))
            pos = stop
            continue
        m = match(text, pos)
        group = m.lastgroup
        stop = m.end()
        if group == "ws":
            pos = stop
            continue
        if group == "line":
            stop = pos + len(m.group().rstrip())
            tokens.append(Token(LINE_COMMENT, pos, stop, text[pos:stop]))
        elif group == "block":
            tokens.append(Token(BLOCK_COMMENT, pos, stop, text[pos:stop]))
        else:
            tokens.append(Token(CODE, pos, stop, text[pos:stop]))
        pos = stop
    return tokens


def fuses(left: str, right: str) -> bool:
    """True when writing `right` straight after `left` would lex as
    something else: `-` then `-1` is `--1`, `/` then `*p` opens a comment."""
    m = _TOKEN.match(left + right[:4])
    return m is None or m.end() != len(left)
