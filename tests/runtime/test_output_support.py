"""What the output tests share: the golden files bpftrace 0.17 produced
(tests/runtime/golden/, made by golden/capture.py), map descriptions, and a
resolver with fixed answers (a made-up kallsyms and passwd), so that the
tests do not depend on this machine.

A golden test builds the values the program in the golden's command would
put in its maps, prints them with our formatters, and compares bytes.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from compiler.runtime.output import Resolver, TextOutput, encode_output
from compiler.runtime.program import AggregationInfo, MapInfo
from compiler.runtime.symbols import KernelSymbols
from compiler.semantic import types as T

GOLDEN = Path(__file__).parent / "golden"
MARKER = b"\n# ---\n"

# Made-up kernel symbols. The programs in the goldens print vfs_read and
# vfs_write; the tests feed these addresses where the program had kaddr().
KALLSYMS = """\
ffffffff81000000 T _stext
ffffffff81100000 T vfs_read
ffffffff81100000 t vfs_read_alias_first
ffffffff81100000 T vfs_read
ffffffff81180000 D some_data
ffffffff81200000 T vfs_write
ffffffff81300000 T _etext
"""
VFS_READ = 0xFFFFFFFF81100000
VFS_WRITE = 0xFFFFFFFF81200000

PASSWD = "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n"


def golden(name: str) -> tuple[str, bytes]:
    """A golden file's bpftrace command and the stdout it produced."""
    data = (GOLDEN / f"{name}.out").read_bytes()
    header, found, stdout = data.partition(MARKER)
    assert found, f"{name}.out has no '# ---' line"
    return header.decode().removeprefix("# command: "), stdout


def assert_golden(name: str, ours: str) -> None:
    command, expected = golden(name)
    got = encode_output(ours)
    assert got.decode(errors="replace") == expected.decode(errors="replace"), command
    assert got == expected, command


def resolver(tmp_path: Path, **options) -> Resolver:
    kallsyms = tmp_path / "kallsyms"
    kallsyms.write_text(KALLSYMS)
    passwd = tmp_path / "passwd"
    passwd.write_text(PASSWD)
    return Resolver(kernel_symbols=KernelSymbols(str(kallsyms)), passwd_path=str(passwd), **options)


def scalar(name: str, value: T.Type, aggregation: AggregationInfo | None = None) -> MapInfo:
    return MapInfo(name, name.lstrip("@") or "anon", "hash", T.VOID, value, 8, 8, 4096, aggregation)


def keyed(
    name: str, key: T.Type, value: T.Type, aggregation: AggregationInfo | None = None
) -> MapInfo:
    return MapInfo(name, name.lstrip("@") or "anon", "hash", key, value, 8, 8, 4096, aggregation)


def aggregation(kind: str, signed: bool = True) -> T.Aggregation:
    return T.Aggregation(kind, signed)


def keys(*types: T.Type) -> T.Tuple:
    """A multi-key map's key type."""
    return T.Tuple(tuple(types))


def run(out: TextOutput, maps, before: str = "", probes: int = 1) -> str:
    """A whole run (text or JSON): the attach message, what the probes
    printed, then the maps at exit."""
    return out.attached_probes(probes) + before + out.exit_maps(maps)


# Strings in the programs: string[N] types of the literal's size (the
# printer never looks at the size in 0.17 style).
def string(text: str) -> T.String:
    return T.String(len(text.encode()) + 1)


# ------------------------------------------------------------ histograms

HIST = AggregationInfo("hist")


def log2_bucket(value: int) -> int:
    """0.17's hist bucket for a value: its log2 loop stops at 2**31."""
    if value < 0:
        return 0
    if value == 0:
        return 1
    return 2 + min(value.bit_length() - 1, 31)


def linear_bucket(value: int, low: int, high: int, step: int) -> int:
    last = (high - low) // step + 1
    if value < low:
        return 0
    if value >= high:
        return last
    return min((value - low) // step + 1, last)


def hist_of(*values: int) -> dict[int, int]:
    return dict(Counter(log2_bucket(v) for v in values))


def lhist_of(low: int, high: int, step: int, *values: int) -> dict[int, int]:
    return dict(Counter(linear_bucket(v, low, high, step) for v in values))


def hist_map(name, entries, key=None):
    value = aggregation("hist")
    info = scalar(name, value, HIST) if key is None else keyed(name, key, value, HIST)
    return info, entries


def lhist_map(name, low, high, step, entries, key=None):
    value = aggregation("lhist")
    agg = AggregationInfo("lhist", min=low, max=high, step=step)
    info = scalar(name, value, agg) if key is None else keyed(name, key, value, agg)
    return info, entries
