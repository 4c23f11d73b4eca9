"""Kernel symbols from kallsyms, stacks in each mode, user names and
strftime() text."""

from __future__ import annotations

import os
import time

import pytest
from test_output_support import VFS_READ, VFS_WRITE, keyed, resolver, scalar

from compiler.runtime.output import TextOutput, format_strftime
from compiler.runtime.output.resolver import STRFTIME_ERROR
from compiler.runtime.symbols import KernelSymbols
from compiler.semantic import types as T


@pytest.fixture
def symbols(tmp_path) -> KernelSymbols:
    return resolver(tmp_path).kernel_symbols


def test_addresses_resolve_to_the_symbol_at_or_below(symbols) -> None:
    assert symbols.name(VFS_READ) == "vfs_read"
    assert symbols.name(VFS_READ + 5) == "vfs_read"
    assert symbols.name_with_offset(VFS_READ + 5) == "vfs_read+5"
    # Data symbols (D) are skipped, as bcc does: this is still vfs_read.
    assert symbols.name_with_offset(VFS_READ + 0x90000) == f"vfs_read+{0x90000}"
    # Past the last symbol, the last one still answers.
    assert symbols.name_with_offset(0xFFFFFFFFC0000000).startswith("_etext+")


def test_unknown_addresses_print_like_a_void_pointer(symbols) -> None:
    assert symbols.name(0) == "0"
    assert symbols.name(0x1000) == "0x1000"
    assert KernelSymbols("/nonexistent/kallsyms").name(VFS_READ) == f"{VFS_READ:#x}"


@pytest.mark.skipif(not os.access("/proc/kallsyms", os.R_OK), reason="needs /proc/kallsyms")
def test_the_real_kallsyms() -> None:
    symbols = KernelSymbols()
    with open("/proc/kallsyms") as kallsyms:
        for line in kallsyms:
            addr, kind, name = line.split()[:3]
            if kind in "tT" and int(addr, 16) and name == "vfs_read":
                break
        else:
            pytest.skip("no vfs_read, or addresses hidden")
    assert symbols.name_with_offset(int(addr, 16)) == "vfs_read+0"


# ----------------------------------------------------------------- stacks

FRAMES = [VFS_READ + 106, VFS_WRITE + 279, 0, VFS_READ]


def stack_output(tmp_path, mode: str) -> TextOutput:
    def read_stack(t, stack_id, pid):
        return FRAMES if stack_id == 1 else None

    return TextOutput(resolver=resolver(tmp_path, stack_reader=read_stack, stack_mode=mode))


def test_kernel_stacks_as_keys_and_values(tmp_path) -> None:
    out = stack_output(tmp_path, "bpftrace")
    # The shapes 0.17 prints: frames indented 4 in keys and 8 in values,
    # each stack starting with a newline, stops at the first zero frame;
    # stack-valued maps have no newline between entries.
    keys_map = out.map(keyed("@k", T.KSTACK, T.Aggregation("count", False)), [(1, 1)])
    assert keys_map == "@k[\n    vfs_read+106\n    vfs_write+279\n]: 1\n"
    value_map = out.map(scalar("@kv", T.KSTACK), [(None, 1)])
    assert value_map == "@kv: \n        vfs_read+106\n        vfs_write+279\n\n"
    assert out.map(keyed("@e", T.KSTACK, T.INT64), [(2, 5)]) == "@e[]: 5\n"


def test_perf_and_raw_stacks(tmp_path) -> None:
    perf = stack_output(tmp_path, "perf").printer.text(T.KSTACK)(1)
    assert perf == f"\n\t{VFS_READ + 106:x} vfs_read+106\n\t{VFS_WRITE + 279:x} vfs_write+279\n"
    user = stack_output(tmp_path, "perf").printer.text(T.USTACK)((1, 42))
    assert user.splitlines()[1] == f"\t{VFS_READ + 106:x} {VFS_READ + 106:#x} ([unknown])"
    raw = stack_output(tmp_path, "raw").printer.text(T.KSTACK)(1)
    assert raw == f"\n{VFS_READ + 106:x}\n{VFS_WRITE + 279:x}\n"


# ------------------------------------------------------------- user names


def test_user_names_come_from_passwd(tmp_path) -> None:
    names = resolver(tmp_path)
    assert names.username(0) == "root" and names.username(65534) == "nobody"
    assert names.username(4242) == ""


# --------------------------------------------------------------- strftime


def test_strftime_adds_microseconds_to_the_boot_time() -> None:
    boot = 1_700_000_000 * 10**9 + 900_000_000
    nsecs = 5 * 10**9 + 250_123_456
    text = format_strftime("%Y-%m-%d %H:%M:%S.%f", nsecs, boot)
    expected_seconds = 1_700_000_000 + 6  # 0.9 s + 5.250123456 s carries a second
    assert text == time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(expected_seconds)) + ".150123"


def test_strftime_failures_print_a_question_mark() -> None:
    assert format_strftime("", 0, 0) == STRFTIME_ERROR
    assert format_strftime("x" * 64, 0, 0) == STRFTIME_ERROR
    assert format_strftime("x" * 63, 0, 0) == "x" * 63
