"""analyse() returns for any input, never with an internal error.

The same generators as the parser's property tests (random text, token
soup, mutated corpus scripts), plus the whole corpus, analysed with the
fixture kernel facts and with none. An "internal-error" diagnostic means a
pass raised: the analysis survived it, but it is a bug.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.kernel.facts import NoFacts
from compiler.semantic.analysis import analyse
from fixtures.kernel import fixture_facts
from test_parse_properties import TOKENS, mutated_corpus

CORPUS = sorted((Path(__file__).parent / "corpus").rglob("*.bt"))
FACTS = [NoFacts(), fixture_facts()]


def check(text: str) -> None:
    for facts in FACTS:
        result = analyse(text, facts)
        internal = [d for d in result.diagnostics if d.code == "internal-error"]
        assert not internal, internal[0].message
        size = len(result.source.data)
        for d in result.diagnostics:
            assert 0 <= d.span.start <= d.span.end <= size, d


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_random_text(text: str) -> None:
    check(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=60), st.sampled_from([" ", "\n"]))
def test_token_soup(tokens: list[str], separator: str) -> None:
    check(separator.join(tokens))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_corpus())
def test_mutated_corpus(text: str) -> None:
    check(text)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_corpus_has_no_internal_errors(path: Path) -> None:
    check(path.read_text())


@pytest.mark.parametrize(
    "text",
    [
        "macro a() { a() } BEGIN { a(); }",
        "macro a(x) { b(x) } macro b(x) { a(x) } BEGIN { a(1); }",
        "BEGIN { $x = $x + 1; @m[@m[1]] = @m; }",
        "BEGIN { @a = @b; @b = @a; }",
        "BEGIN { " + "$x = ($x, $x); " * 20 + "}",
        "BEGIN { $t = (1, (2, (3, (4, \"s\")))); print($t.1.1.1.1); }",
        "BEGIN { for ($kv : @m) { for ($j : @m) { @m[$kv.0] = $j.1; } } }",
        "macro m($a, @b, c) { $a = @b[c]; $a } BEGIN { $x = 1; @y[1] = 2; print(m($x, @y, 1)); }",
    ],
)
def test_tricky_programs(text: str) -> None:
    check(text)
