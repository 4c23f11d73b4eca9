"""The lark parser for bpftrace.lark, and the facts error recovery needs.

`load_grammar()` builds the LALR(1) parser once per process (lark caches
the tables on disk, so later processes load them in milliseconds) and
derives from its parse table what parser.py's recovery uses: terminal names
for punctuation, and the *anchor* states where parsing can resume.
"""

from __future__ import annotations

import contextvars
import logging
import re
from copy import copy
from functools import lru_cache
from importlib import resources

from lark import Lark, Token
from lark.lexer import BasicLexer

# Comments are ignored tokens; the lexer hands each one to record_comment(),
# which appends it to the list of the parse in progress.
comment_sink: contextvars.ContextVar[list] = contextvars.ContextVar("bpftrace_comments")


class Grammar:
    """The lark parser and the facts recovery needs, built once."""

    def __init__(self) -> None:
        text = resources.files(__package__).joinpath("bpftrace.lark").read_text()
        self.lark = Lark(
            text,
            parser="lalr",
            lexer="contextual",
            keep_all_tokens=True,  # spans come from tokens; see to_ast.py
            maybe_placeholders=False,
            g_regex_flags=re.ASCII,
            lexer_callbacks={"LINE_COMMENT": record_comment, "BLOCK_COMMENT": record_comment},
            cache=True,
        )
        self.contextual = self.lark.parser.lexer
        self.states = self.lark.parser.parser.parser.parse_table.states
        self.name_of = {t.pattern.value: t.name for t in self.lark.terminals if t.pattern.type == "str"}
        self.display = {t.name: display_terminal(t) for t in self.lark.terminals}
        self.display["$END"] = "end of file"
        # Terminal names for the punctuation recovery works with.
        n = self.name_of
        self.LBRACE, self.RBRACE, self.SEMI, self.LET = n["{"], n["}"], n[";"], n["let"]
        self.openers = {n["("]: n[")"], n["["]: n["]"], n["{"]: n["}"], "CAST_OPEN": n[")"]}
        self.closers = {n[")"], n["]"], n["}"]}
        self.repairs = [n[";"], n[")"], n["]"], n["}"], n[","], "PRED_END"]
        self.eof_closers = [n["}"], n[")"], n["]"]]
        self.statement_keywords = {n[k] for k in ("let", "if", "for", "while", "unroll", "return", "break", "continue")}
        self.item_keywords = {n[k] for k in ("macro", "fn", "config", "import", "let")}
        self.condition_keywords = {n[k] for k in ("if", "while", "unroll")}
        self.binary_operators = {
            n[op] for op in ("||", "&&", "|", "^", "&", "==", "!=", "<", "<=", ">", ">=", "<<", ">>", "+", "-", "*", "/", "%", "?")
        }  # fmt: skip
        # Terminals that can start an expression; an error message says
        # "expected expression" rather than listing them all.
        self.expression_start = {"INT", "STRING", "VAR", "IDENT", "MAP"}
        self.expression_terminals = self.expression_start | {
            "CHAR", "PARAM", "PARAM_COUNT", "CAST_OPEN", "TRUE", "FALSE", "MISSING",
        } | {n[k] for k in ("(", "{", "!", "~", "-", "*", "&", "++", "--", "if", "sizeof", "offsetof", "typeinfo", "comptime", "typeof")}  # fmt: skip
        # Anchor states, recognised by what they accept.
        self.block_anchors = {s for s, acts in self.states.items() if self.RBRACE in acts and n["let"] in acts}
        self.top_anchors = {s for s, acts in self.states.items() if n["macro"] in acts}
        self.head_anchors = {
            s for s, acts in self.states.items()
            if self.LBRACE in acts and n["/"] in acts and self.RBRACE not in acts
        }  # fmt: skip
        # Recovery lexes skipped text with every expression-level terminal.
        top_only = {"ATTACH_POINT", "C_DEFINITION", "C_TYPEDEF", "C_UNTERMINATED", "CPP_LINE", "SHEBANG"}
        conf = copy(self.lark.lexer_conf)
        conf.terminals = [t for t in self.lark.terminals if t.name not in top_only]
        conf.skip_validation = True
        self.skip_lexer = BasicLexer(conf)

    def accepts(self, state, terminal: str) -> bool:
        return terminal in self.states[state]

    def synthetic(self, terminal: str, pos: int) -> Token:
        """A zero-width token the source does not have: an inserted ';', an
        error attach point, a missing expression, the end of input."""
        value = "" if terminal in ("ATTACH_POINT", "$END", "MISSING") else self.display[terminal].strip("'")
        return Token(terminal, value, pos, 1, 1, 1, 1, pos)


def display_terminal(terminal) -> str:
    names = {
        "INT": "integer", "STRING": "string", "CHAR": "character", "IDENT": "identifier",
        "VAR": "variable", "MAP": "map", "PARAM": "positional parameter", "PARAM_COUNT": "'$#'",
        "ATTACH_POINT": "attach point", "PRED_END": "'/'", "CAST_OPEN": "'('",
        "COMPOUND_OP": "compound assignment", "CPP_LINE": "preprocessor line",
        "C_DEFINITION": "C definition", "C_TYPEDEF": "typedef", "SHEBANG": "'#!'",
        "C_UNTERMINATED": "C definition", "MISSING": "expression",
    }  # fmt: skip
    if terminal.name in names:
        return names[terminal.name]
    if terminal.pattern.type == "str":
        return f"'{terminal.pattern.value}'"
    return terminal.name.lower()


@lru_cache(maxsize=1)
def load_grammar() -> Grammar:
    # lark logs grammar conflicts at debug level; they are documented in
    # the grammar and tested in tests/test_grammar.py.
    logging.getLogger("lark").setLevel(logging.WARNING)
    return Grammar()


def record_comment(token: Token) -> Token:
    sink = comment_sink.get(None)
    if sink is not None:
        sink.append(token)
    return token
