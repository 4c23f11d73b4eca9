"""Facts about the grammar itself.

The grammar is LALR(1) with exactly three shift/reduce conflicts, each
resolved as a shift on purpose (see bpftrace.lark). A new conflict is almost
always a mistake, so this test lists them.
"""

from __future__ import annotations

import logging
import re
from importlib import resources

from lark import Lark

from compiler.syntax.grammar import load_grammar


def test_only_the_documented_conflicts(caplog) -> None:
    text = resources.files("compiler.syntax").joinpath("bpftrace.lark").read_text()
    with caplog.at_level(logging.DEBUG, logger="lark"):
        Lark(text, parser="lalr", lexer="contextual", keep_all_tokens=True,
             g_regex_flags=re.ASCII, debug=True)  # fmt: skip
    lines = [r.getMessage() for r in caplog.records]
    conflicts = sorted(
        (line.split("terminal ")[1].split(":")[0], lines[i + 1].strip())
        for i, line in enumerate(lines)
        if line.startswith("Shift/Reduce conflict")
    )
    assert conflicts == [
        ("LSQB", "* <primary : IDENT>"),  # sizeof(T[4]): a type
        ("LSQB", "* <primary : MAP>"),  # @m[k]: a map access
        ("STAR", "* <primary : IDENT>"),  # sizeof(T *): a type
    ]
    assert not any("Reduce/Reduce" in line for line in lines)


def test_recovery_anchors_exist() -> None:
    grammar = load_grammar()
    assert grammar.block_anchors and grammar.top_anchors and grammar.head_anchors
    assert not (grammar.block_anchors & grammar.top_anchors)
