"""parse() returns for any input, and what it returns is well formed.

hypothesis feeds it random text, token soup, and corpus scripts with random
edits. For each result: the program is a Program; every node's span and
every diagnostic's span lies inside the text; every span is well ordered.
Hand-made pathological inputs (deep nesting, long chains) get the same
treatment.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.syntax import ast, parse

LEAVES = (ast.IntLit, ast.StrLit, ast.BoolLit, ast.Variable, ast.MapRef, ast.Identifier, ast.PositionalParam)
CORPUS = sorted((Path(__file__).parent / "corpus").rglob("*.bt"))
CORPUS_TEXTS = [p.read_text() for p in CORPUS]

TOKENS = [
    "BEGIN", "END", "tracepoint:syscalls:sys_enter_openat", "kprobe:f", "uprobe:/bin/sh:main",
    "interval:s:1", "{", "}", "(", ")", "[", "]", ";", ",", ":", "/", "*", "+", "-", "=", "==",
    "+=", "<<=", "++", "--", "->", ".", "..", "?", "!", "&", "&&", "||", "$x", "$1", "$#", "@m",
    "@", "pid", "comm", "args", "printf", "count", "if", "else", "for", "while", "unroll",
    "let", "macro", "fn", "config", "import", "return", "break", "struct", "sizeof",
    "offsetof", "typeof", "comptime", "true", "false", "0", "1_000", "0x1f", "10ms", "1e6",
    '"s"', '"a\\n"', "'c'", "//c\n", "/*c*/", "\n", "#include <x.h>\n", "struct s { int x; }",
    "(uint64)", "(struct task_struct *)",
]  # fmt: skip


def check(text: str) -> None:
    result = parse(text)
    size = len(result.source.data)
    assert isinstance(result.program, ast.Program)
    for d in result.diagnostics:
        assert 0 <= d.span.start <= d.span.end <= size, d
        assert d.message
    leaves = set()
    for node in ast.walk(result.program):
        assert 0 <= node.span.start <= node.span.end <= size, node
        if isinstance(node, LEAVES) and node.span.start < node.span.end:
            # Each piece of source text becomes at most one leaf: recovery
            # must never duplicate what it already parsed.
            assert (type(node), node.span) not in leaves, node
            leaves.add((type(node), node.span))
    for comment in result.program.comments:
        assert result.source.slice(comment.span) == comment.text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_random_text(text: str) -> None:
    check(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=60), st.sampled_from([" ", "", "\n"]))
def test_token_soup(tokens: list[str], separator: str) -> None:
    check(separator.join(tokens))


@st.composite
def mutated_corpus(draw) -> str:
    text = draw(st.sampled_from(CORPUS_TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start, min(len(text), start + 40)))
        edit = draw(st.sampled_from(["delete", "insert", "duplicate", "replace"]))
        if edit == "delete":
            text = text[:start] + text[end:]
        elif edit == "insert":
            text = text[:start] + draw(st.sampled_from(TOKENS)) + text[start:]
        elif edit == "duplicate":
            text = text[:end] + text[start:end] + text[end:]
        else:
            text = text[:start] + draw(st.text(max_size=5)) + text[end:]
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_corpus())
def test_mutated_corpus(text: str) -> None:
    check(text)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_binary_garbage(data: bytes) -> None:
    check(data.decode("latin-1"))


@pytest.mark.parametrize(
    "text",
    [
        "BEGIN { $x = " + "(" * 10000 + "1" + ")" * 10000 + "; }",
        "BEGIN " + "{" * 10000 + "}" * 10000,
        "BEGIN { $x = " + "1 + " * 5000 + "1; }",
        "BEGIN { $x = " + "!" * 5000 + "1; }",
        "BEGIN { $x = " + "-" * 5000 + "1; }",
        "BEGIN { $x = $y" + ".a" * 5000 + "; }",
        "BEGIN { $x = " + "if (1) { " * 3000 + "1" + " }" * 3000 + "; }",
        "BEGIN { $x = (" + "1," * 20000 + "); }",
        "BEGIN {" + "$x = 1; " * 20000 + "}",
        "(" * 50000,
        "}" * 50000,
        "BEGIN { " + "unroll(1) { " * 2000,
    ],
    ids=lambda t: t[:40],
)
def test_pathological_inputs(text: str) -> None:
    check(text)


def test_deep_nesting_is_reported_not_crashed() -> None:
    result = parse("BEGIN { $x = " + "(" * 5000 + "1" + ")" * 5000 + "; }")
    assert any("nested too deeply" in d.message for d in result.diagnostics)
    assert result.program.probes, "the probe itself survives"


def test_long_left_chain_is_cut_at_the_depth_limit() -> None:
    result = parse("BEGIN { $x = " + "1 + " * 3000 + "1; }")
    assert [d.message for d in result.diagnostics] == ["nested too deeply (more than 128 levels)"]
    depth = 0
    stack = [(result.program, 1)]
    while stack:
        node, level = stack.pop()
        depth = max(depth, level)
        stack.extend((child, level + 1) for child in ast.children(node))
    assert depth <= 140
