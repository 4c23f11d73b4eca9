"""Whole scripts parse and check cleanly: our own corpus, and upstream's
tools if given.

tests/corpus/ holds our own scripts, written to use the same idioms as the
tools/ directory of the bpftrace repository. That directory itself is not in
this repository; set BPFTRACE_TOOLS_DIR to a checkout's tools/ to parse it
and analyse it, without kernel facts and with this machine's.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compiler.diagnostics import render_all
from compiler.kernel.facts import NoFacts
from compiler.kernel.live import default_facts
from compiler.semantic.analysis import analyse
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


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_script_checks_without_errors(path: Path) -> None:
    # Without kernel facts: what the kernel would say is unknown, never wrong.
    result = analyse(path.read_text(), NoFacts(), name=str(path))
    errors = [d for d in result.diagnostics if d.is_error]
    assert errors == [], render_all(errors, result.source)


def test_corpus_is_substantial() -> None:
    assert len(SCRIPTS) >= 40
    assert len(list((CORPUS / "old").glob("*.bt"))) >= 5


def _packaged_tools() -> str | None:
    """Debian's bpftrace package installs bpftrace's tools as /usr/sbin/*.bt
    (the 0.17 versions): checked when no other checkout is named."""
    return "/usr/sbin" if len(list(Path("/usr/sbin").glob("*.bt"))) >= 10 else None


UPSTREAM = os.environ.get("BPFTRACE_TOOLS_DIR") or _packaged_tools()


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


@pytest.mark.skipif(not UPSTREAM, reason="set BPFTRACE_TOOLS_DIR to bpftrace's tools/ directory")
@pytest.mark.parametrize("facts", ["none", "live"])
def test_upstream_tools_check_without_errors(facts: str) -> None:
    tools = sorted(Path(UPSTREAM).glob("*.bt")) + sorted(Path(UPSTREAM).glob("old/*.bt"))
    kernel = NoFacts() if facts == "none" else default_facts()
    failures = {}
    for path in tools:
        result = analyse(path.read_text(), kernel, name=str(path))
        errors = [d for d in result.diagnostics if d.is_error]
        if errors:
            failures[path.name] = render_all(errors, result.source)
    print(f"{len(tools) - len(failures)} of {len(tools)} upstream tools check without errors (facts: {facts})")
    assert not failures, "\n".join(failures.values())
