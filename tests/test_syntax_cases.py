"""Run every annotated case under tests/cases/syntax.

`ok/` cases must parse with exactly their annotated diagnostics (usually
none) and match their `.ast` golden. `err/` cases check syntax errors and
recovery: the diagnostics, and (where a golden exists) the AST of what did
parse. `UPDATE_GOLDEN=1 pytest tests/test_syntax_cases.py` rewrites goldens.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from annotations import actual_diagnostics, expected_diagnostics
from compiler.syntax import parse
from compiler.syntax.dump import dump

CASES = Path(__file__).parent / "cases" / "syntax"
ALL = sorted(CASES.rglob("*.bt"))


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(CASES)))
def test_case(path: Path) -> None:
    text = path.read_text()
    result = parse(text, path.name)
    assert [str(d) for d in actual_diagnostics(result.diagnostics, result.source)] == [
        str(d) for d in expected_diagnostics(text)
    ]
    golden = path.with_suffix(".ast")
    tree = dump(result.program, result.source)
    if os.environ.get("UPDATE_GOLDEN"):
        if golden.exists() or path.parent.name == "ok":
            golden.write_text(tree)
    elif golden.exists() or path.parent.name == "ok":
        assert golden.exists(), f"missing golden {golden.name}; run with UPDATE_GOLDEN=1"
        assert tree == golden.read_text()


def test_there_are_cases() -> None:
    assert len(ALL) > 20
