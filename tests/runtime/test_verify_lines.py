"""`btc --verify` puts a verifier rejection on the source that produced the
failing instruction: BTF line info in the object (codegen/func_debuginfo.py),
read back by runtime/lineinfo.py, mapped to spans by the codegen's table.

The rejected construct is a real one: `while (1) { }` compiles (the loop
is the script's business) and the verifier refuses it ("infinite loop
detected at insn N"). Tests that load programs need root (marker `bpf`);
the object's line info and the log parsing are checked without it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from compiler.codegen.compile import compile_program
from compiler.kernel.facts import NoFacts
from compiler.runtime.lineinfo import failing_instruction, function_lines, line_at, log_excerpt, logged_line
from compiler.semantic.analysis import analyse

ROOT = Path(__file__).parent.parent.parent



def loads(test):
    """Marks a test that loads programs: root only (marker `bpf`)."""
    return pytest.mark.bpf(pytest.mark.skipif(os.geteuid() != 0, reason="loading BPF programs needs root")(test))


LOOPING = """// the verifier refuses the loop on line 6
BEGIN
{
  @count = 1;
  printf("starting\\n");
  while (1) {
  }
}
"""
CLEAN = """BEGIN
{
  @count = 1;
  printf("%d\\n", @count);
  exit();
}
"""


def btc(tmp_path: Path, text: str, *options: str, name: str = "script.bt") -> subprocess.CompletedProcess:
    path = tmp_path / name
    path.write_text(text)
    return subprocess.run(
        [sys.executable, "-m", "compiler", "--verify", *options, str(path)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
    )  # fmt: skip


def verify_json(tmp_path: Path, text: str, name: str = "script.bt") -> tuple[int, dict]:
    done = btc(tmp_path, text, "--diagnostics-format", "json", name=name)
    return done.returncode, json.loads(done.stdout)


def text_of(text: str, span: dict) -> str:
    return text.encode()[span["start"]:span["end"]].decode()


# -- the object's line info (no kernel needed) ----------------------------------


def compiled(text: str):
    return compile_program(analyse(text, NoFacts(), name="lines.bt"), NoFacts())


def test_the_object_carries_a_line_and_column_for_the_statements() -> None:
    program = compiled(LOOPING)
    records = function_lines(program.object, "btls_p0")
    lines = LOOPING.splitlines()
    assert records[0].instruction == 0 and records[0].line == 2  # the function starts at its probe
    by_line = {record.line: record for record in records}
    assert {4, 5, 6} <= set(by_line)
    for record in records:
        assert record.file.endswith("lines.bt")
        assert record.text == lines[record.line - 1].strip()  # the source as the verifier will quote it
    assert (by_line[6].line, by_line[6].column) == (6, 3)
    # The codegen's table: a location stands for the code that starts there.
    span = program.locations[(6, 3)]
    assert LOOPING.encode()[span.start:span.end].decode() == "while (1) {"
    assert line_at(program.object, "btls_p0", by_line[6].instruction) == by_line[6]
    assert line_at(program.object, "btls_p0", 10_000) is None  # past the function
    assert line_at(program.object, "no_such_function", 0) is None
    assert function_lines(b"not an object", "btls_p0") == []


def test_a_map_loop_callback_has_its_own_line_info() -> None:
    text = "BEGIN\n{\n  @m[1] = 2;\n  for ($kv : @m) {\n    printf(\"%d\\n\", $kv.1);\n  }\n}\n"
    program = compiled(text)
    callback = [r.line for r in function_lines(program.object, "btls_p0_loop1")]
    assert callback and callback[0] == 4 and 5 in callback
    assert "DISPFlagLocalToUnit" in program.llvm_ir  # the callback is static


# -- reading the verifier's log ----------------------------------------------------

LOG = """func#0 @0
arg#0 reference type('UNKNOWN ') size cannot be determined: -22
0: R1=ctx() R10=fp0
; @count = 1; @ script.bt:4
0: (b7) r1 = 0                        ; R1=0
; x = *p; @ script.bt:9
11: (85) call bpf_map_lookup_elem#1   ; R0=map_value_or_null(id=1,map=m,ks=4,vs=8)
12: (79) r1 = *(u64 *)(r0 +0)
R0 invalid mem access 'map_value_or_null'
processed 13 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 0
"""


def test_the_failing_instruction_is_the_one_the_complaint_follows_or_names() -> None:
    assert failing_instruction(LOG, "R0 invalid mem access 'map_value_or_null'") == 12
    looping = "14: (05) goto pc-1\ninfinite loop detected at insn 14\n"
    assert failing_instruction(looping, "infinite loop detected at insn 14") == 14
    # Whole-program complaints belong to no instruction.
    assert failing_instruction("7: (95) exit\ncombined stack size of 2 calls is 544. Too large\n",
                               "combined stack size of 2 calls is 544. Too large") is None  # fmt: skip
    assert failing_instruction("", "") is None


def test_the_logged_line_is_the_annotation_above_the_failing_instruction() -> None:
    assert logged_line(LOG, 12) == (9, "x = *p;")
    assert logged_line(LOG, 0) == (4, "@count = 1;")
    assert logged_line("no annotations\n", 3) is None


def test_the_excerpt_is_the_failure_without_statistics_or_noise() -> None:
    excerpt = log_excerpt(LOG, "R0 invalid mem access 'map_value_or_null'", 12)
    assert excerpt.splitlines() == [
        "; x = *p; @ script.bt:9",
        "11: (85) call bpf_map_lookup_elem#1   ; R0=map_value_or_null(id=1,map=m,ks=4,vs=8)",
        "12: (79) r1 = *(u64 *)(r0 +0)",
        "R0 invalid mem access 'map_value_or_null'",
    ]


# -- btc --verify on this kernel -------------------------------------------------------


@loads
def test_verify_names_the_line_of_the_rejected_code(tmp_path: Path) -> None:
    done = btc(tmp_path, LOOPING)
    assert done.returncode == 1
    first, source, underline = done.stderr.splitlines()[:3]
    path = tmp_path / "script.bt"
    # The one-paragraph error (probe and line), at the exact place.
    assert first.startswith(f"{path}:6:3-14: ERROR: the probe at line 2 (BEGIN) was rejected by the BPF verifier:"
                            " infinite loop detected at insn ")  # fmt: skip
    assert first.endswith("(at line 6)")
    assert source == "  while (1) {"
    assert underline == "  ~~~~~~~~~~~"


@loads
def test_verify_json_gives_the_verifier_diagnostic(tmp_path: Path) -> None:
    status, report = verify_json(tmp_path, LOOPING)
    assert status == 1
    assert report["verified"] is False and report["programs"] == 1
    (item,) = report["diagnostics"]
    assert item["source"] == "verifier" and item["code"] == "verifier" and item["severity"] == "error"
    assert item["message"].startswith("infinite loop detected at insn ")
    assert item["message"] == f"infinite loop detected at insn {item['instruction']}"
    assert "was rejected by the BPF verifier" in item["detail"]
    assert item["range"] == {"start": {"line": 6, "column": 3}, "end": {"line": 6, "column": 14}}
    assert text_of(LOOPING, item["span"]) == "while (1) {"
    assert item["probe"] == {"name": "BEGIN", "line": 2}
    assert "; while (1) { @ script.bt:6" in item["log"]
    assert "processed" not in item["log"]


@loads
def test_a_clean_program_verifies(tmp_path: Path) -> None:
    status, report = verify_json(tmp_path, CLEAN)
    assert (status, report["verified"], report["programs"], report["diagnostics"]) == (0, True, 1, [])
    done = btc(tmp_path, CLEAN)
    assert done.returncode == 0
    assert done.stderr.strip() == f"{tmp_path / 'script.bt'}: 1 program passed the kernel verifier"


@loads
def test_errors_in_the_script_come_from_btc_not_the_verifier(tmp_path: Path) -> None:
    status, report = verify_json(tmp_path, "BEGIN {\n  printf(\"%d\\n\", nosuch());\n}\n")
    assert status == 1 and report["verified"] is False
    assert report["diagnostics"] and all(d["source"] == "btc" for d in report["diagnostics"])
    assert report["diagnostics"][0]["range"]["start"]["line"] == 2


@loads
def test_a_rejection_inside_a_map_loop_gets_the_line_the_log_gives(tmp_path: Path) -> None:
    # The body is a callback libbpf appends to the program: its instructions
    # are past the probe's function, so the log's own line annotation decides.
    text = "BEGIN\n{\n  @m[1] = 2;\n  for ($kv : @m) {\n    while (1) {\n    }\n  }\n}\n"
    status, report = verify_json(tmp_path, text)
    assert status == 1
    (item,) = report["diagnostics"]
    assert item["source"] == "verifier" and item["message"].startswith("infinite loop detected")
    assert item["range"]["start"]["line"] == 5
    assert text_of(text, item["span"]) == "while (1) {"


@loads
def test_columns_beyond_what_btf_keeps_still_give_the_line(tmp_path: Path) -> None:
    # BTF keeps ten bits of a column: code past column 1023 is clamped there.
    padding = "$a = 1; " * 140  # 1120 bytes
    text = f'BEGIN {{\n  printf("é\\t%s\\n", "ü");\n  {padding}while (1) {{ }}\n}}\n'
    status, report = verify_json(tmp_path, text)
    assert status == 1
    (item,) = [d for d in report["diagnostics"] if d["source"] == "verifier"]
    assert item["range"]["start"]["line"] == 3
    assert item["message"].startswith("infinite loop detected")


@loads
def test_running_a_rejected_program_says_the_line_too(tmp_path: Path) -> None:
    path = tmp_path / "run.bt"
    path.write_text(LOOPING)
    done = subprocess.run(
        [sys.executable, "-m", "compiler", str(path)], capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "BTC_NO_CACHE": "1"}, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith("ERROR: the probe at line 2 (BEGIN) was rejected by the BPF verifier:"
                                  " infinite loop detected at insn ")  # fmt: skip
    assert done.stderr.rstrip().endswith("(at line 6)")


@loads
def test_an_invalid_memory_access_is_found_at_the_load_that_did_it() -> None:
    # No script construct reads a map value without its null check, so the
    # object is built by hand, with the locations the codegen would give.
    from test_machine_support import ObjectBuilder

    from compiler.codegen.bpf_module import I32, I64, PTR
    from compiler.runtime.errors import ProbeRejected
    from compiler.runtime.loader import LoadedProgram

    obj = ObjectBuilder()
    table = obj.module.add_map("table", "hash", 4, 8, 16)
    body = obj.probe("begin", "raw_tp", "BEGIN", line=3)
    body.b.debug_metadata = obj.module.location(body.function, 4, 3)
    body.b.store(I32(0), body.key)
    value = body.helper("map_lookup_elem", PTR, table, body.key)
    body.b.debug_metadata = obj.module.location(body.function, 5, 9)
    loaded = body.b.load(value, typ=I64)
    body.b.debug_metadata = obj.module.location(body.function, 6, 3)
    body.b.ret(loaded)
    compiled = obj.compiled()
    with pytest.raises(ProbeRejected) as caught:
        LoadedProgram(compiled)
    error = caught.value
    assert error.reason == "R0 invalid mem access 'map_value_or_null'"
    found = line_at(compiled.object, error.probe.function, error.instruction)
    assert (found.line, found.column) == (5, 9)
    assert error.source_line == 5  # the log's annotation says the same
    assert str(error).endswith("R0 invalid mem access 'map_value_or_null' (at line 5)")
