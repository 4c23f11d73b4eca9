"""printf format strings: parsing with exact offsets, bpftrace's messages,
and which types each conversion accepts."""

from __future__ import annotations

import pytest

from compiler.semantic.formats import (
    Spec,
    accepts,
    check_args,
    format_arity,
    parse_format,
)
from compiler.semantic.types import (
    BOOL,
    CGROUP_PATH,
    INT8,
    INT64,
    KSTACK,
    KSYM,
    MACADDR,
    TIMESTAMP,
    UINT64,
    UNKNOWN,
    USERNAME,
    USYM,
    VOID,
    Aggregation,
    Array,
    Buffer,
    CRecord,
    Inet,
    Int,
    Pointer,
    Record,
    String,
    Tuple,
)

STRAY = "'%' does not start a format specifier and is printed as-is; write '%%' for a percent sign"


def spec(fmt: bytes) -> Spec:
    specs, problems = parse_format(fmt)
    assert len(specs) == 1, specs
    assert all(p.severity == "warning" for p in problems), problems  # `*`
    return specs[0]


def messages(fmt, args, function="printf"):
    return [e.message for e in check_args(fmt, args, function)]


# ------------------------------------------------------------ parsing


@pytest.mark.parametrize(
    "fmt, conversion, flags, width, precision, length",
    [
        (b"%d", "d", "", "", None, ""),
        (b"%-10s", "s", "-", "10", None, ""),
        (b"%05d", "d", "0", "5", None, ""),
        (b"%010x", "x", "0", "10", None, ""),
        (b"%00d", "d", "0", "0", None, ""),
        (b"%-+ #08.3hhd", "d", "-+ #0", "8", "3", "hh"),
        (b"%.0s", "s", "", "", "0", ""),
        (b"%-10.10s", "s", "-", "10", "10", ""),
        (b"%*d", "d", "", "*", None, ""),
        (b"%.*d", "d", "", "", "*", ""),
        (b"%lld", "d", "", "", None, "ll"),
        (b"%lu", "u", "", "", None, "l"),
        (b"%zx", "x", "", "", None, "z"),
        (b"%jX", "X", "", "", None, "j"),
        (b"%to", "o", "", "", None, "t"),
        (b"%hi", "i", "", "", None, "h"),
        (b"%Ld", "d", "", "", None, "L"),
        (b"%hhhd", "d", "", "", None, "hhh"),  # any run of modifiers
        (b"%lp", "p", "", "", None, "l"),
        (b"%c", "c", "", "", None, ""),
        (b"%r", "r", "", "", None, ""),
        (b"%rx", "rx", "", "", None, ""),
        (b"%rh", "rh", "", "", None, ""),
        (b"%-20rx", "rx", "-", "20", None, ""),
        (b"%gr", "gr", "", "", None, ""),
        (b"%%", "%", "", "", None, ""),
        (b"%5%", "%", "", "5", None, ""),
    ],
)
def test_parse_fields(fmt, conversion, flags, width, precision, length):
    s = spec(fmt)
    assert (s.conversion, s.flags, s.width, s.precision, s.length) == (
        conversion, flags, width, precision, length,
    )
    assert (s.start, s.end, s.text) == (0, len(fmt), fmt.decode())


def test_offsets_are_bytes_within_fmt():
    fmt = "é %-5d|%%|%s\n".encode()  # é is two bytes
    specs, problems = parse_format(fmt)
    assert not problems
    assert [(s.text, s.start, s.end) for s in specs] == [
        ("%-5d", 3, 7), ("%%", 8, 10), ("%s", 11, 13),
    ]
    assert [fmt[s.start:s.end].decode() for s in specs] == ["%-5d", "%%", "%s"]


def test_str_is_accepted_as_utf8():
    assert [s.start for s in parse_format("ü%d")[0]] == [2]


def test_longest_buffer_conversion_wins():
    # `%rx` is one conversion; after `%rh` or `%gr` further letters are text.
    assert [s.text for s in parse_format(b"%rx %rhx %grx %g")[0]] == ["%rx", "%rh", "%gr", "%g"]


def test_percent_percent_takes_no_argument():
    specs, _ = parse_format(b"%%%d%%")
    assert [s.takes_argument for s in specs] == [False, True, False]
    assert format_arity(b"%%%d%%") == 1


@pytest.mark.parametrize(
    "fmt, arity",
    [(b"", 0), (b"hi\n", 0), (b"%d %s\n", 2), (b"%%", 0), (b"%f %d", 2), (b"%*d", 1),
     (b"%y", 0), (b"100%", 0), (b"%r%rx%rh%gr", 4)],
)
def test_format_arity(fmt, arity):
    assert format_arity(fmt) == arity


@pytest.mark.parametrize("conversion", list("eEfFgGaAn"))
def test_unsupported_conversions(conversion):
    fmt = f"x %-8.2{conversion}".encode()
    specs, problems = parse_format(fmt)
    assert [s.conversion for s in specs] == [conversion]
    assert not specs[0].supported and specs[0].takes_argument
    assert problems == [(f"unsupported format specifier: {conversion}", 2, len(fmt), "error")]


@pytest.mark.parametrize(
    "fmt, at",
    [
        (b"100%", [3]),  # a trailing '%'
        (b"%", [0]),
        (b"%y", [0]),  # not a conversion
        (b"%.d", [0]),  # '.' needs digits or '*'
        (b"%0-5d", [0]),  # flags are recognised only in the order -+ #0
        (b"%+-d", [0]),
        (b"%y %d %", [0, 6]),
        (b"%%%", [2]),
    ],
)
def test_stray_percent_is_a_warning(fmt, at):
    specs, problems = parse_format(fmt)
    assert [(p.message, p.start, p.end, p.severity) for p in problems] == [
        (STRAY, a, a + 1, "warning") for a in at
    ]
    assert format_arity(fmt) == (1 if b"%d" in fmt else 0)


def test_star_is_ignored_with_a_warning():
    _, problems = parse_format(b"a %*d %.*s")
    assert problems == [
        ("'*' width is ignored by bpftrace and takes no argument", 2, 5, "warning"),
        ("'*' precision is ignored by bpftrace and takes no argument", 6, 10, "warning"),
    ]


# --------------------------------------------------------- arguments


def test_counts():
    errors = check_args(b"%d %d\n", [INT64])
    assert [(e.message, e.arg_index, e.start, e.end) for e in errors] == [
        ("not enough arguments for format string (1 supplied, 2 expected)", None, 3, 5)
    ]
    errors = check_args(b"%d %d\n", [INT64, INT64, INT64])
    assert [(e.message, e.arg_index, e.start, e.end) for e in errors] == [
        ("too many arguments for format string (3 supplied, 2 expected)", 2, 0, 6)
    ]
    assert messages(b"hi", [INT64]) == [
        "too many arguments for format string (1 supplied, 0 expected)"
    ]
    assert messages(b"%%", []) == []


def test_count_error_hides_type_errors_but_not_format_errors():
    # Pairing arguments after a missing one would only produce noise.
    assert messages(b"%d %d %f", [String(3)]) == [
        "unsupported format specifier: f",
        "not enough arguments for format string (1 supplied, 3 expected)",
    ]


def test_type_error_wording_and_position():
    errors = check_args(b"a %d b %s c %r", [String(6), INT64, String(4)])
    assert [(e.message, e.arg_index, e.start, e.end) for e in errors] == [
        ("unsupported format specifier for type 'string[6]': d", 0, 2, 4),
        ("unsupported format specifier for type 'string[4]': r", 2, 12, 14),
    ]


def test_every_mismatched_argument_is_reported():
    assert messages(b"%d %s %d", [INT64, INT64, String(2)]) == [
        "unsupported format specifier for type 'string[2]': d"
    ]
    assert len(check_args(b"%d %x %c", [KSYM, USYM, String()])) == 3


def test_unsupported_specifier_reported_once_with_its_argument():
    errors = check_args(b"%f", [INT64])
    assert [(e.message, e.arg_index) for e in errors] == [("unsupported format specifier: f", None)]


def test_none_type():
    errors = check_args(b"%s", [VOID])
    assert [(e.message, e.arg_index) for e in errors] == [
        ("unable to print none type for specifier: s", 0)
    ]


def test_warnings_come_through_check_args():
    errors = check_args(b"%d%", [INT64])
    assert [(e.message, e.severity, e.start) for e in errors] == [(STRAY, "warning", 2)]


@pytest.mark.parametrize("function", ["printf", "errorf", "warnf", "system", "cat"])
def test_the_printf_family_shares_the_rules(function):
    assert messages(b"%d %s", [INT64, KSYM], function) == []
    assert messages(b"%d", [String(2)], function) == [
        "unsupported format specifier for type 'string[2]': d"
    ]


def test_debugf():
    assert messages(b"%d %u %x %p %s", [INT64, UINT64, INT8, INT64, String(16)], "debugf") == []
    assert messages(b"%lluns", [UINT64], "debugf") == []
    errors = check_args(b"%i %c", [INT64, INT64], "debugf")
    assert [(e.message, e.arg_index, e.start) for e in errors] == [
        ("Invalid format specifier for `debugf`: i", None, 0),
        ("Invalid format specifier for `debugf`: c", None, 3),
    ]
    # bpf_trace_printk wants exactly an integer or a string.
    errors = check_args(b"%d %p %s", [BOOL, Pointer(INT8), KSYM], "debugf")
    assert [(e.message, e.arg_index) for e in errors] == [
        ("Type does not match format specifier: d", 0),
        ("Type does not match format specifier: p", 1),
        ("Type does not match format specifier: s", 2),
    ]
    # A generic mismatch is not reported twice.
    assert messages(b"%d", [String(2)], "debugf") == [
        "unsupported format specifier for type 'string[2]': d"
    ]
    assert messages(b"%d %s", [UNKNOWN, UNKNOWN], "debugf") == []
    assert messages(b"%d", [], "debugf") == [
        "not enough arguments for format string (0 supplied, 1 expected)"
    ]


# ------------------------------------------------------ acceptance table

INTEGERS = ["d", "i", "u", "o", "x", "X", "c", "p", "gr"]
BUFFERS = ["r", "rx", "rh"]
ALL = INTEGERS + BUFFERS + ["s"]

TYPES = {
    "int64": (INT64, "int"),
    "uint8": (Int(8, False), "int"),
    "enum": (Int(32, False, enum="state"), "int"),
    "bool": (BOOL, "int"),
    "pointer": (Pointer(CRecord("struct", "task_struct")), "int"),
    "void pointer": (Pointer(), "int"),
    "buffer": (Buffer(5), "buffer"),
    "string": (String(16), "other"),
    "count map": (Aggregation("count"), "other"),  # needs (uint64)@c
    "sum map": (Aggregation("sum"), "other"),
    "hist map": (Aggregation("hist"), "other"),
    "ksym": (KSYM, "other"),
    "usym": (USYM, "other"),
    "username": (USERNAME, "other"),
    "timestamp": (TIMESTAMP, "other"),
    "macaddr": (MACADDR, "other"),
    "cgroup_path": (CGROUP_PATH, "other"),
    "kstack": (KSTACK, "other"),
    "inet": (Inet(), "other"),
    "tuple": (Tuple((INT64, String(4))), "other"),
    "record": (Record((("a", INT64),)), "other"),
    "array": (Array(INT8, 4), "other"),
    "struct": (CRecord("struct", "sk_buff", 232), "other"),
}


@pytest.mark.parametrize("name", list(TYPES))
@pytest.mark.parametrize("conversion", ALL)
def test_acceptance(conversion, name):
    t, kind = TYPES[name]
    expected = (
        conversion == "s"
        or (conversion in INTEGERS and kind == "int")
        or (conversion in BUFFERS and kind == "buffer")
    )
    assert accepts(conversion, t) is expected
    fmt = f"%{conversion}".encode()
    wrong = f"unsupported format specifier for type '{t}': {conversion}"
    assert messages(fmt, [t]) == ([] if expected else [wrong])


@pytest.mark.parametrize("conversion", ALL)
def test_unknown_is_always_accepted(conversion):
    assert accepts(conversion, UNKNOWN)
    assert check_args(f"%-4{conversion}".encode(), [UNKNOWN]) == []


@pytest.mark.parametrize("conversion", ALL)
def test_void_is_never_accepted(conversion):
    assert not accepts(conversion, VOID)
    assert messages(f"%{conversion}".encode(), [VOID]) == [
        f"unable to print none type for specifier: {conversion}"
    ]
