"""Every correct program of our corpus and of the analyser's ok/ cases that
uses only what the backend lowers compiles and passes the kernel's
verifier (loaded, never attached). Programs that use a construct the
backend does not lower yet are counted, not failed; the count of verified
programs may only grow."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.codegen.compile import compile_program
from compiler.codegen.errors import MissingProbe, Unsupported
from compiler.kernel.live import default_facts
from compiler.runtime.loader import LoadedProgram
from compiler.semantic.analysis import analyse

TESTS = Path(__file__).parent.parent
PROGRAMS = sorted([*(TESTS / "cases" / "semantic" / "ok").glob("*.bt"), *(TESTS / "corpus").rglob("*.bt")])
# Programs verified when this test was last tightened.
AT_LEAST_VERIFIED = 80

pytestmark = [
    pytest.mark.bpf,
    pytest.mark.skipif(os.geteuid() != 0, reason="loading BPF programs needs root"),
]


def _outcome(path: Path, facts) -> str:
    text = path.read_text()
    result = analyse(text, facts, name=str(path))
    if text.startswith("// facts: none") or any(d.is_error for d in result.diagnostics):
        return "needs other kernel facts"
    if not result.program.probes:
        return "a library without probes"
    try:
        compiled = compile_program(result, facts)
    except Unsupported:
        return "uses what the backend does not lower yet"
    except MissingProbe:
        return "attaches to what this machine does not have"
    with LoadedProgram(compiled):
        return "verified"


def test_corpus_programs_pass_the_verifier() -> None:
    facts = default_facts()
    outcomes = {path.name: _outcome(path, facts) for path in PROGRAMS}
    verified = sum(o == "verified" for o in outcomes.values())
    assert verified >= AT_LEAST_VERIFIED, outcomes


def test_btc_verify_reports_success() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "compiler.cli", "--verify", str(TESTS / "corpus" / "tcp_retrans_peers.bt")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "passed the kernel verifier" in done.stderr
