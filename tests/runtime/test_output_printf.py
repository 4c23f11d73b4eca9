"""printf formatting, against bpftrace 0.17's own output (every integer
conversion and length, strings, buffers, symbols, and the %% and NUL
quirks), and the C conversion rules on their own."""

from __future__ import annotations

import socket

import pytest
from test_output_support import VFS_READ, assert_golden, resolver, run

from compiler.runtime.decode import AF_INET, AF_INET6, Address
from compiler.runtime.output import TextOutput, compile_format
from compiler.runtime.output.printf import CSpec, format_c_integer, parse_c_format
from compiler.semantic import types as T

I64 = T.INT64
STR = T.String(64)


@pytest.fixture
def out(tmp_path) -> TextOutput:
    return TextOutput(resolver=resolver(tmp_path))


def printf(out: TextOutput, fmt: str, *args) -> str:
    """One printf call: (type, value) pairs, or bare ints (int64) and bytes
    (strings), as in the golden programs."""
    typed = [a if isinstance(a, tuple) else (I64, a) if isinstance(a, int) else (STR, a) for a in args]
    render = compile_format(fmt, [t for t, _ in typed], out.printer)
    return out.printf(render([v for _, v in typed]))


def test_integer_conversions(out) -> None:
    printed = [
        printf(out, "%d|%5d|%-5d|%05d|%u|%x|%X|%08x|%lx|%llx|%lu|%hhu|%o|%c|%s|%-8s|%8s|%p|%%\n",
               -42, 42, 42, 42, -1, 255, 255, 255, 0xDEADBEEF, 0x1234, 18, 300, 8, 65,
               b"str", b"ab", b"cd", 4096),
        printf(out, "%d %ld %lld %hd %hhd %jd %zd %td\n", 5000000000, 5000000000, 5000000000, 70000, 200, -1, -1, -1),
        printf(out, "%u %lu %hu %hhu %ju %zu %tu\n", -1, -1, -1, -1, -1, -1, -1),
        printf(out, "%x %lx %hx %hhx %X %lX %o %lo\n", -1, -1, -1, -1, -1, -1, -1, -1),
        printf(out, "%p %p %lp %20p|%-20p|%hhp\n", 0, 1, 2, 3, 4, 0x1234),
        printf(out, "[%5.2d][%-05d][%5c][%c][%.1d][%.0d][%5.3x][%.0x][%-3u][%08.3d]\n",
               7, 7, 66, 321, 0, 0, 10, 0, 5, -5),
        printf(out, "%d %u %x\n", (T.INT8, -1), (T.UINT8, 255), (T.INT16, -2)),
    ]  # fmt: skip
    assert_golden("printf_ints", run(out, [], "".join(printed)))


def test_percent_and_nul_quirks(out) -> None:
    printed = [
        printf(out, "100%%\n"),
        printf(out, "%% %d %%\n", 5),
        printf(out, "A%cB|C\n", 0),
        printf(out, "[%-3c|%3c]\n", 0, 0),
        printf(out, "%d 50% %d\n", 1, 2),
        printf(out, "%d%%d|\n", 1, 2),
        printf(out, "%s\n", b"a%%b"),
        printf(out, "no newline"),
        printf(out, "|\n"),
        printf(out, "%d", 1),
        printf(out, "\n%%%d%%\n", 2),
    ]
    assert_golden("printf_quirks", run(out, [], "".join(printed)))


def test_strings_buffers_and_symbols(out) -> None:
    localhost = Address(AF_INET, socket.inet_pton(socket.AF_INET, "127.0.0.1"))
    link_local = Address(AF_INET6, socket.inet_pton(socket.AF_INET6, "fe80::1"))
    buffer = (T.Buffer(4), b"ab\x01c")
    printed = [
        printf(out, "[%.3s][%-8.3s][%10s][%-10s][%.0s][%05s]\n",
               b"abcdef", b"abcdef", b"right", b"left", b"gone", b"ab"),
        printf(out, "%r|%rx|%rh|%10r|\n", buffer, buffer, buffer, (T.Buffer(2), b"ab")),
        printf(out, "%s %s %s %s %s %s\n", (T.KSYM, VFS_READ), (T.Inet(), localhost), (T.Inet(), link_local),
               (T.USERNAME, 0), b"BEGIN", (T.STRERROR, 2)),
        printf(out, "[%s][%4s]\n", b"\xc3\xa9", b"\xc3\xa9"),
        printf(out, "%s=%d\n", b"x", 1),
    ]  # fmt: skip
    assert_golden("printf_strings", run(out, [], "".join(printed)))


# ------------------------------------------------------------ unit rules


def spec(conversion: str, flags: str = "", width: int = 0, precision=None, length="") -> CSpec:
    return CSpec(flags, width, precision, length, conversion)


@pytest.mark.parametrize(
    ("value", "c_spec", "text"),
    [
        (-1, spec("u"), "4294967295"),
        (-1, spec("u", length="l"), "18446744073709551615"),
        (300, spec("u", length="hh"), "44"),
        (2**32 + 5, spec("d"), "5"),
        (255, spec("x", "#"), "0xff"),
        (0, spec("x", "#"), "0"),
        (8, spec("o", "#"), "010"),
        (5, spec("d", "+"), "+5"),
        (5, spec("d", " ", 4), "   5"),
        (-5, spec("d", "0", 6), "-00005"),
        (0x10, spec("p", "0", 8), "0x000010"),
        (0x10, spec("p", precision=5), "0x00010"),
        (0, spec("p", "-", 8), "(nil)   "),
        (0, spec("d", precision=0), ""),
        (ord("z"), spec("c", "-", 3), "z  "),
    ],
)
def test_c_integer_conversions(value, c_spec, text) -> None:
    assert format_c_integer(value, c_spec) == text


def test_c_format_parsing_turns_percent_percent_into_percent() -> None:
    assert parse_c_format("a%%b") == ["a%b"]
    assert parse_c_format("% %d") == ["%d"]
    assert parse_c_format("%10r") == ["%10r"]
    assert parse_c_format("x%-5.2ld") == ["x", spec("d", "-", 5, 2, "l")]


def test_a_format_compiles_once_and_renders_many_times() -> None:
    render = compile_format("pid %d comm %s\n", [T.UINT32, T.String(16)])
    assert render([42, b"bash"]) == "pid 42 comm bash\n"
    assert render([7, b"sh"]) == "pid 7 comm sh\n"


def test_string_precision_and_width_count_bytes() -> None:
    render = compile_format("[%.1s][%3s]", [STR, STR])
    assert render([b"\xc3\xa9x", b"\xc3\xa9"]).encode("utf-8", "surrogateescape") == b"[\xc3][ \xc3\xa9]"


def test_a_wrong_type_is_refused() -> None:
    with pytest.raises(ValueError):
        compile_format("%d", [STR])


def test_formats_0_17_would_not_take_are_read_as_c_does() -> None:
    # The analyser (the modern language) accepts these; 0.17's printf does not.
    assert compile_format("%i|%+d|% d|%#x", [I64, I64, I64, I64])([1, 2, 3, 255]) == "1|+2| 3|0xff"
    assert compile_format("%%d %s %%s", [STR])([b"x"]) == "%d x %s"
    assert compile_format("%d %d", [I64])([5]) == "5 %d"  # more conversions than values: printed as written


def test_percent_s_prints_any_value_as_text() -> None:
    render = compile_format("%s|%s|%s", [I64, T.Tuple((I64, STR)), T.BOOL])
    assert render([-3, (1, b"a"), True]) == "-3|(1, a)|1"


# ------------------------------------------- against the C library itself


def libc_snprintf():
    import ctypes
    import ctypes.util
    import platform

    if platform.machine() != "x86_64" or platform.libc_ver()[0] != "glibc":
        pytest.skip("compares with glibc's printf on x86-64")
    libc = ctypes.CDLL(ctypes.util.find_library("c"))

    def snprintf(fmt: str, value: int) -> str:
        buffer = ctypes.create_string_buffer(256)
        # Like bpftrace, pass the value as a 64-bit argument whatever the length modifier.
        libc.snprintf(buffer, 256, fmt.encode(), ctypes.c_uint64(value & (2**64 - 1)))
        return buffer.value.decode()

    return snprintf


@pytest.mark.parametrize("conversion", ["d", "u", "o", "x", "X", "p"])
def test_integer_conversions_match_glibc(conversion) -> None:
    snprintf = libc_snprintf()
    values = (0, 1, -1, 42, -42, 300, 70000, 2**31, 2**32 + 5, -(2**63), 2**64 - 1)
    for flags in ("", "-", "0", "-0", "+", " ", "#", "+0"):
        for width_precision in ("", "6", "12", ".0", ".3", "8.3"):
            for length in ("", "hh", "h", "l", "ll"):
                fmt = f"%{flags}{width_precision}{length}{conversion}"
                # Both the general conversion and, where 0.17 would see this
                # conversion, the compiled (fast path) one.
                render = compile_format(f"[{fmt}]", [I64]) if _regex_knows(fmt) else None
                for value in values:
                    expected = snprintf(fmt, value)
                    assert format_c_integer(value, parse_c_format(fmt)[0]) == expected, (fmt, value)
                    if render is not None:
                        assert render([value]) == f"[{expected}]", (fmt, value)


def _regex_knows(fmt: str) -> bool:
    """Whether 0.17's printf would see `fmt` as one conversion."""
    import re

    from compiler.runtime.output import BPFTRACE_0_17

    return re.fullmatch(BPFTRACE_0_17.printf_spec_pattern, fmt) is not None
