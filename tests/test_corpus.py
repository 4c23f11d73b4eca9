"""Whole scripts parse cleanly: our own corpus, and upstream's tools if given.

tests/corpus/ holds our own scripts, written to use the same idioms as the
tools/ directory of the bpftrace repository. That directory itself is not in
this repository; set BPFTRACE_TOOLS_DIR to a checkout's tools/ to parse it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compiler.diagnostics import render_all
from compiler.syntax import parse

CORPUS = Path(__file__).parent / "corpus"
SCRIPTS = sorted(CORPUS.rglob("*.bt"))


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_script_parses_cleanly(path: Path) -> None:
    result = parse(path.read_text(), str(path))
    assert result.diagnostics == [], render_all(result.diagnostics, result.source)
    assert result.program.items, "a corpus script defines something"
    # Every probe kept its attach points and none is an error placeholder.
    for probe in result.program.probes:
        assert probe.attach_points and not any(ap.is_error for ap in probe.attach_points)


def test_corpus_is_substantial() -> None:
    assert len(SCRIPTS) >= 40
    assert len(list((CORPUS / "old").glob("*.bt"))) >= 5


UPSTREAM = os.environ.get("BPFTRACE_TOOLS_DIR")


@pytest.mark.skipif(not UPSTREAM, reason="set BPFTRACE_TOOLS_DIR to bpftrace's tools/ directory")
def test_upstream_tools_parse() -> None:
    tools = sorted(Path(UPSTREAM).glob("*.bt")) + sorted(Path(UPSTREAM).glob("old/*.bt"))
    assert tools, f"no .bt files in {UPSTREAM}"
    failures = {}
    for path in tools:
        result = parse(path.read_text(), str(path))
        if result.diagnostics:
            failures[path.name] = render_all(result.diagnostics, result.source)
    print(f"{len(tools) - len(failures)} of {len(tools)} upstream tools parse")
    assert not failures, "\n".join(failures.values())
