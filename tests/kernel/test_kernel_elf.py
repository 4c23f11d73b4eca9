"""compiler.kernel.elf: symbols and USDT notes of binaries compiled here
(the notes are emitted with inline assembly, as <sys/sdt.h> would), checked
against pyelftools; library resolution; damaged files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from compiler.kernel import elf
from compiler.kernel.live import LiveFacts

SOURCE = r"""
#include <stdio.h>

#define NOTE_HEAD(provider, name, semaphore)                                  \
    "990: nop\n"                                                              \
    ".pushsection .note.stapsdt,\"\",\"note\"\n"                              \
    ".balign 4\n"                                                             \
    ".4byte 992f-991f, 994f-993f, 3\n"                                        \
    "991: .asciz \"stapsdt\"\n"                                               \
    "992: .balign 4\n"                                                        \
    "993: .8byte 990b\n"                                                      \
    ".8byte _.stapsdt.base\n"                                                 \
    ".8byte " semaphore "\n"                                                  \
    ".asciz \"" provider "\"\n"                                               \
    ".asciz \"" name "\"\n"
#define NOTE_TAIL                                                             \
    "994: .balign 4\n"                                                        \
    ".popsection\n"                                                           \
    ".ifndef _.stapsdt.base\n"                                                \
    ".pushsection .stapsdt.base,\"aG\",\"progbits\",.stapsdt.base,comdat\n"   \
    ".weak _.stapsdt.base\n"                                                  \
    ".hidden _.stapsdt.base\n"                                                \
    "_.stapsdt.base: .space 1\n"                                              \
    ".size _.stapsdt.base, 1\n"                                               \
    ".popsection\n"                                                           \
    ".endif\n"

unsigned short demo_ready_semaphore __attribute__((section(".probes")));

static __attribute__((noinline)) int helper(int x) { return x * 3; }

int exported_function(int x) {
    __asm__ __volatile__(NOTE_HEAD("demo", "start", "0") ".asciz \"-4@%0\"\n" NOTE_TAIL
                         :: "nor"(x));
    return helper(x) + 1;
}

int main(int argc, char **argv) {
    long big = argc * 1000L;
    __asm__ __volatile__(NOTE_HEAD("demo", "ready", "demo_ready_semaphore")
                         ".asciz \"-4@%0 8@%1\"\n" NOTE_TAIL :: "nor"(argc), "nor"(big));
    __asm__ __volatile__(NOTE_HEAD("other", "tick", "0") ".asciz \"\"\n" NOTE_TAIL);
    printf("%d\n", exported_function(argc));
    return 0;
}
"""

GCC = shutil.which("gcc")
needs_gcc = pytest.mark.skipif(GCC is None, reason="no gcc")


def compile_c(tmp_path, *flags: str, source: str = SOURCE, name: str = "demo") -> str:
    src = tmp_path / f"{name}.c"
    src.write_text(source)
    out = tmp_path / name
    run = subprocess.run([GCC, "-O1", "-o", str(out), str(src), *flags], capture_output=True, text=True)
    if run.returncode != 0:
        pytest.skip(f"gcc could not build the test program: {run.stderr[:300]}")
    return str(out)


def oracle_functions(path: str) -> set[str]:
    """The same question answered by pyelftools."""
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    names = set()
    with open(path, "rb") as f:
        for section in ELFFile(f).iter_sections():
            if isinstance(section, SymbolTableSection):
                for sym in section.iter_symbols():
                    kind = sym["st_info"]["type"]
                    if kind in ("STT_FUNC", "STT_LOOS", "STT_GNU_IFUNC") and sym["st_shndx"] != "SHN_UNDEF" and sym.name:
                        names.add(sym.name)
    return names


@needs_gcc
def test_function_symbols_of_a_compiled_program(tmp_path) -> None:
    path = compile_c(tmp_path)
    names = elf.function_symbols(path)
    assert {"main", "exported_function", "helper"} <= set(names)
    assert "printf" not in names  # imported, not defined here
    assert names == sorted(oracle_functions(path))


@needs_gcc
def test_a_stripped_program_keeps_its_dynamic_symbols(tmp_path) -> None:
    path = compile_c(tmp_path, "-rdynamic", "-s")
    names = elf.function_symbols(path)
    assert "exported_function" in names and "helper" not in names
    assert names == sorted(oracle_functions(path))


@needs_gcc
def test_usdt_notes(tmp_path) -> None:
    path = compile_c(tmp_path)
    probes = elf.usdt_probes(path)
    assert [(p.provider, p.name) for p in probes] == [("demo", "start"), ("demo", "ready"), ("other", "tick")]
    start, ready, tick = probes
    assert start.arguments.startswith("-4@") and start.semaphore == 0 and start.pc != 0
    assert ready.arguments.count("@") == 2 and ready.semaphore != 0
    assert tick.arguments == ""
    assert start.base == ready.base != 0
    facts = LiveFacts(btf_path=str(tmp_path / "none"), tracefs_root=str(tmp_path), mount=False)
    assert list(facts.usdt_probes(path)) == [("demo", "start"), ("demo", "ready"), ("other", "tick")]
    assert "exported_function" in facts.binary_functions(path)


@needs_gcc
def test_shared_libraries_and_resolution_by_path(tmp_path) -> None:
    lib = compile_c(tmp_path, "-shared", "-fPIC", source="int demo_api(int x) { return x; }\n",
                    name="libdemo.so")  # fmt: skip
    names = elf.function_symbols(lib)
    assert "demo_api" in names and names == sorted(oracle_functions(lib))
    assert elf.resolve_target(lib) == [lib]
    assert elf.usdt_probes(lib) == []


def test_damaged_and_foreign_files(tmp_path) -> None:
    text = tmp_path / "script.sh"
    text.write_text("#!/bin/sh\necho hi\n")
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    for path in (text, empty, tmp_path / "absent", tmp_path):
        assert elf.function_symbols(str(path)) == []
        assert elf.usdt_probes(str(path)) == []
    assert elf.resolve_target(str(text)) == []
    real = sys.executable if os.path.exists(sys.executable) else "/bin/sh"
    data = open(os.path.realpath(real), "rb").read()
    for cut in (20, 64, 200, len(data) // 2):
        broken = tmp_path / f"cut{cut}"
        broken.write_bytes(data[:cut])
        assert isinstance(elf.function_symbols(str(broken)), list)
        assert isinstance(elf.usdt_probes(str(broken)), list)


BASH = shutil.which("bash")


@pytest.mark.skipif(BASH is None, reason="no bash")
def test_bash_has_readline() -> None:
    names = elf.function_symbols(os.path.realpath(BASH))
    if "readline" not in names:
        pytest.skip("this bash links readline dynamically")
    assert names == sorted(oracle_functions(os.path.realpath(BASH)))
    assert elf.resolve_target("bash")


@pytest.mark.skipif(not elf.ld_so_cache(), reason="no /etc/ld.so.cache")
def test_library_names_resolve_like_bpftrace() -> None:
    libc = elf.resolve_library("libc")
    assert libc is not None and os.path.basename(libc).startswith("libc.so")
    assert elf.resolve_target("libc") == [libc]
    assert elf.resolve_library("libc.so.6") == libc
    assert elf.resolve_library("c") == libc
    assert elf.resolve_library("libdefinitely-not-there") is None
    assert "malloc" in elf.function_symbols(libc)


@pytest.mark.skipif(not elf.ld_so_cache() or shutil.which("ldconfig") is None and
                    not os.path.exists("/sbin/ldconfig"), reason="no ldconfig")  # fmt: skip
def test_ld_so_cache_agrees_with_ldconfig() -> None:
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
    out = subprocess.run([ldconfig, "-p"], capture_output=True, text=True).stdout
    theirs = [(line.split()[0], line.rsplit("=> ", 1)[1].strip())
              for line in out.splitlines()[1:] if "=> " in line]  # fmt: skip
    assert elf.ld_so_cache() == theirs
