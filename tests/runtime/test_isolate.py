"""LLVM runs in a forked child (codegen/isolate.py): whatever happens
there, the CLI gets an answer or a CodegenError, and the child sheds the
clean pages LLVM's loading touched without breaking anything."""

from __future__ import annotations

import json
import os

import pytest

from compiler.codegen import isolate
from compiler.codegen.errors import CodegenError


def test_the_answer_comes_back() -> None:
    assert isolate.run_isolated(lambda: b"\x7fELF object") == b"\x7fELF object"


def test_errors_and_crashes_become_codegen_errors() -> None:
    def refuse() -> bytes:
        raise CodegenError("the stack is too big")

    def crash() -> bytes:
        os.write(2, b"LLVM ERROR: something LLVM said\n")
        os._exit(1)

    def abort() -> bytes:
        import faulthandler

        faulthandler.disable()  # pytest's, which would print a traceback of the child
        os.abort()

    with pytest.raises(CodegenError, match="^the stack is too big$"):
        isolate.run_isolated(refuse)
    with pytest.raises(CodegenError, match="could not compile the program: LLVM ERROR: something LLVM said"):
        isolate.run_isolated(crash)
    with pytest.raises(CodegenError, match="could not compile the program: exit status -6"):
        isolate.run_isolated(abort)


def resident_file_kb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("RssFile:"))


def test_dropping_clean_file_pages_keeps_the_process_working() -> None:
    def work() -> bytes:
        # run_isolated has loaded LLVM and dropped its pages already.
        from llvmlite import binding

        binding.initialize_all_targets()  # touches the code of every target
        touched = resident_file_kb()
        isolate._drop_clean_file_pages()
        dropped = resident_file_kb()
        # Everything still runs, refaulting what it needs.
        module = binding.parse_assembly("define i64 @f() {\n  ret i64 7\n}\n")
        module.verify()
        return json.dumps([touched, dropped, str(module.get_function("f").name)]).encode()

    touched, dropped, name = json.loads(isolate.run_isolated(work))
    assert name == "f"
    assert dropped < touched


def test_only_private_read_only_clean_file_mappings_are_dropped() -> None:
    with open("/proc/self/maps") as maps:
        described = {}
        for line in maps:
            fields = line.split()
            start, end = (int(part, 16) for part in fields[0].split("-"))
            described[(start, end)] = (fields[1], fields[5] if len(fields) > 5 else "")
    chosen = isolate._clean_file_mappings()
    assert chosen
    for span in chosen:
        perms, path = described[span]
        assert path.startswith("/") and perms[1] == "-" and perms[3] == "p", (perms, path)
