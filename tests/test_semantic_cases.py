"""Run every annotated case under tests/cases/semantic.

Cases are analysed with the fixed kernel facts of tests/fixtures/kernel.py,
or with none when the file's first line says `// facts: none`. Expected
diagnostics are annotated under the offending lines (tests/annotations.py);
`ok/` cases must produce none.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from annotations import actual_diagnostics, expected_diagnostics
from compiler.kernel.facts import NoFacts
from compiler.semantic.analysis import analyse
from fixtures.kernel import fixture_facts

CASES = Path(__file__).parent / "cases" / "semantic"
ALL = sorted(CASES.rglob("*.bt"))


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(CASES)))
def test_case(path: Path) -> None:
    text = path.read_text()
    facts = NoFacts() if text.startswith("// facts: none") else fixture_facts()
    result = analyse(text, facts, name=path.name)
    assert [str(d) for d in actual_diagnostics(result.diagnostics, result.source)] == [
        str(d) for d in expected_diagnostics(text)
    ]


def test_there_are_cases() -> None:
    assert len(list((CASES / "err").glob("*.bt"))) >= 150
    assert len(list((CASES / "ok").glob("*.bt"))) >= 20
