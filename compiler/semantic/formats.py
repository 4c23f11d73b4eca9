"""printf-style format strings: their conversions, and whether a call's
arguments fit them.

The rules are bpftrace's (HEAD), which formats in user space rather than
handing the string to C's printf:

* A conversion is `%[-][+][ ][#][0][width|*][.precision|.*][length]conv`.
  The flags may appear at most once each and only in that order; `length`
  is any run of `h l L j z t`; `conv` is one of `d i u o x X c s p`, the
  buffer conversions `r rx rh`, `gr` (GFP flags, 0.26), or `%`.
* bpftrace recognises the float conversions `e E f F g G a A` and `n` only
  to refuse them ("unsupported format specifier: f").
* A `%` that does not start such a conversion (`%y`, `%.d`, `%0-5d`, a
  trailing `%`) is not an error: it is printed as-is. We warn about it.
* `*` as width or precision is accepted and ignored; it consumes no argument.
* Integer conversions take integers, bools and pointers; an aggregation map
  (`@c = count()`) needs an explicit cast. `%s` takes any value.
  `r rx rh` take buffers only.
* `%s` given a char pointer prints the pointer, not the string it points
  to (only `str()` reads that): we warn, and suggest `str()`.

Offsets are byte offsets into the `fmt` given. For a string literal that is
the decoded value; escapes never produce a conversion in practice, so a
caller may instead pass the literal's raw text to point into the source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple, Optional, Union

from .types import Aggregation, Bool, Buffer, Int, Pointer, String, Type, Void, is_unknown

# Each group is one field of the grammar above. Order matters twice: the
# flags are only recognised in this order (as bpftrace does), and the
# two-letter conversions must be tried before `r` and `g` so that `%rx`
# is not read as `%r` followed by a literal `x`.
_SPEC = re.compile(
    rb"%(?P<flags>-?\+? ?\#?0?)"
    rb"(?P<width>\*|[0-9]+)?"
    rb"(?:\.(?P<precision>\*|[0-9]+))?"
    rb"(?P<length>[hlLjzt]*)"
    rb"(?P<conversion>[diouxXeEfFGaAcspn%]|gr|g|rh|rx|r)"
)

INTEGER_CONVERSIONS = frozenset("d i u o x X c p gr".split())
BUFFER_CONVERSIONS = frozenset(("r", "rx", "rh"))
SUPPORTED_CONVERSIONS = INTEGER_CONVERSIONS | BUFFER_CONVERSIONS | {"s"}
# The subset bpf_trace_printk() understands, and what each must be given.
_DEBUGF_CONVERSIONS = {
    "d": "integer", "u": "integer", "x": "integer", "p": "integer", "s": "string",
}

# What each kind of conversion wants, for signature help and hover.
EXPECTS = {
    **{c: "an integer, bool or pointer" for c in INTEGER_CONVERSIONS},
    **{c: "a buffer (buf())" for c in BUFFER_CONVERSIONS},
    "s": "any value",
}


class Problem(NamedTuple):
    """Something wrong with the format string itself."""

    message: str
    start: int
    end: int
    severity: str = "error"  # "error", or "warning" for text printed as-is


@dataclass(frozen=True, slots=True)
class Spec:
    """One conversion, e.g. `%-10.3lx` (or `%%`)."""

    start: int  # byte offsets of the whole specification within fmt
    end: int
    text: str
    conversion: str  # d, s, rx, gr, %, or an unsupported one such as f
    flags: str = ""  # the flags present, in bpftrace's order: "-+ #0"
    width: str = ""  # digits, "*", or "" when absent
    precision: Optional[str] = None  # digits or "*"; None when there is no '.'
    length: str = ""  # the length modifiers as written: "", "hh", "l", "ll"...

    @property
    def takes_argument(self) -> bool:
        return self.conversion != "%"

    @property
    def supported(self) -> bool:
        return self.conversion == "%" or self.conversion in SUPPORTED_CONVERSIONS


@dataclass(frozen=True, slots=True)
class FormatError:
    """A problem with a call's format string or arguments. `arg_index`
    counts the values after the format (0 is the first), or is None when the
    problem is the format string's; `start`/`end` are byte offsets within
    fmt of the specification concerned (the whole string when none is)."""

    message: str
    arg_index: Optional[int]
    start: int
    end: int
    severity: str = "error"
    code: str = "format"
    # How to fix it, when there is one obvious way: the specification to
    # write instead, or the builtin to wrap the argument in.
    replacement: Optional[str] = None
    wrap: Optional[str] = None


def parse_format(fmt: Union[bytes, str]) -> tuple[list[Spec], list[Problem]]:
    """The conversions of `fmt` in order, `%%` included, and the problems
    of the string alone: unsupported conversions (errors) and `%` signs
    that start no conversion (warnings). Callers must not change the lists:
    the answer for a string is kept (every analysis asks again)."""
    data = fmt.encode() if isinstance(fmt, str) else fmt
    cached = _PARSED.get(data)
    if cached is None:
        if len(_PARSED) > 4096:
            _PARSED.clear()
        cached = _PARSED[data] = _parse_format(data)
    return cached


_PARSED: dict[bytes, tuple[list, list]] = {}


def _parse_format(data: bytes) -> tuple[list[Spec], list[Problem]]:
    specs: list[Spec] = []
    problems: list[Problem] = []
    position = 0
    for match in _SPEC.finditer(data):
        _stray_percents(data, position, match.start(), problems)
        position = match.end()
        spec = _make_spec(match)
        specs.append(spec)
        if not spec.supported:
            message = f"unsupported format specifier: {spec.conversion}"
            problems.append(Problem(message, spec.start, spec.end))
        for part in ("width", "precision"):
            if getattr(spec, part) == "*":
                # C would take the value from an argument; bpftrace does not,
                # so a C habit here silently shifts every later argument.
                message = f"'*' {part} is ignored by bpftrace and takes no argument"
                problems.append(Problem(message, spec.start, spec.end, "warning"))
    _stray_percents(data, position, len(data), problems)
    return specs, problems


def format_arity(fmt: Union[bytes, str]) -> int:
    """How many values the format consumes (unsupported conversions count:
    bpftrace matches arguments to them before refusing them)."""
    specs, _ = parse_format(fmt)
    return sum(1 for spec in specs if spec.takes_argument)


def accepts(conversion: str, t: Type) -> bool:
    """Whether bpftrace lets a value of type `t` be printed with `conversion`.
    UNKNOWN is always accepted, so a missing fact never causes an error."""
    if is_unknown(t):
        return True
    if isinstance(t, Void):
        return False
    if conversion in INTEGER_CONVERSIONS:
        # Int covers enums. Aggregations are not integers here: printing the
        # value of `@c = count()` takes an explicit cast, `(uint64)@c`.
        return isinstance(t, (Int, Bool, Pointer))
    if conversion in BUFFER_CONVERSIONS:
        return isinstance(t, Buffer)
    return conversion == "s"


def check_args(
    fmt: Union[bytes, str], arg_types: list[Type], function: str = "printf"
) -> list[FormatError]:
    """Everything wrong with a call `function(fmt, args...)`: the problems
    of parse_format, a wrong number of arguments, and each argument that
    does not fit its conversion. `function` matters only for `debugf`,
    which is limited to what bpf_trace_printk() supports."""
    data = fmt.encode() if isinstance(fmt, str) else fmt
    specs, problems = parse_format(data)
    errors = [FormatError(p.message, None, p.start, p.end, p.severity) for p in problems]
    consuming = [spec for spec in specs if spec.takes_argument]

    def error(message: str, index: Optional[int], where: Optional[Spec], **fix) -> None:
        start, end = (where.start, where.end) if where else (0, len(data))
        errors.append(FormatError(message, index, start, end, **fix))

    if function == "debugf":
        for spec in consuming:
            if spec.supported and spec.conversion not in _DEBUGF_CONVERSIONS:
                error(f"Invalid format specifier for `debugf`: {spec.conversion}", None, spec)

    supplied, expected = len(arg_types), len(consuming)
    if supplied != expected:
        # Only the count is reported, as bpftrace does: once an argument is
        # missing or extra, pairing the rest with conversions says nothing.
        counts = f"({supplied} supplied, {expected} expected)"
        if supplied < expected:  # at the first conversion left without a value
            error(f"not enough arguments for format string {counts}", None, consuming[supplied])
        else:  # about the first surplus argument
            error(f"too many arguments for format string {counts}", expected, None)
        return errors

    for index, (spec, t) in enumerate(zip(consuming, arg_types)):
        if not spec.supported:
            continue  # already reported with the string's problems
        if isinstance(t, Void):
            # bpftrace calls a valueless expression's type "none".
            error(f"unable to print none type for specifier: {spec.conversion}", index, spec)
        elif not accepts(spec.conversion, t):
            message = f"unsupported format specifier for type '{t}': {spec.conversion}"
            error(message, index, spec, replacement=replacement(spec, t, function))
        elif function == "debugf" and not _debugf_accepts(spec.conversion, t):
            wrap = "str" if spec.conversion == "s" and is_char_pointer(t) else None
            fix = replacement(spec, t, function) if wrap is None else None
            error(f"Type does not match format specifier: {spec.conversion}", index, spec, replacement=fix, wrap=wrap)
        elif spec.conversion == "s" and is_char_pointer(t) and function != "debugf":
            message = f"%s prints this pointer ({t}) itself, not the string it points to"
            errors.append(FormatError(message, index, spec.start, spec.end, "warning", "format-pointer", wrap="str"))
    return errors


def is_char_pointer(t: Type) -> bool:
    """`char *` and the like (the analyser sees `int8 *` or `uint8 *`)."""
    return isinstance(t, Pointer) and isinstance(t.target, Int) and t.target.bits == 8 and not t.target.enum


def replacement(spec: Spec, t: Type, function: str = "printf") -> Optional[str]:
    """The specification that prints a value of type `t` the way `spec`
    tried to, keeping its flags and width: `%-8d` given a string becomes
    `%-8s`, `%s` given an integer in debugf `%ld`/`%lu` (bpf_trace_printk
    reads 32 bits without `l`). None when no conversion fits (a tuple in
    debugf, an aggregation that needs a cast)."""
    if isinstance(t, (Int, Bool)):
        conversion = "d" if isinstance(t, Bool) or t.signed else "u"
    elif isinstance(t, Pointer) and function != "debugf":
        conversion = "p"
    elif isinstance(t, Buffer) and function != "debugf":
        conversion = "r"
    elif isinstance(t, String) or (function != "debugf" and accepts("s", t) and not isinstance(t, Aggregation)):
        conversion = "s"
    else:
        return None
    if conversion == "s":  # flags and precision mean other things for strings
        text = "%" + ("-" if "-" in spec.flags else "") + spec.width + "s"
    else:
        length = spec.length if function != "debugf" else ("l" if isinstance(t, Int) and t.bits == 64 else "")
        precision = f".{spec.precision}" if spec.precision is not None else ""
        text = f"%{spec.flags}{spec.width}{precision}{length}{conversion}"
    if conversion == spec.conversion or not accepts(conversion, t):
        return None
    if function == "debugf" and not _debugf_accepts(conversion, t):
        return None
    return text



def _debugf_accepts(conversion: str, t: Type) -> bool:
    wanted = _DEBUGF_CONVERSIONS.get(conversion)
    if wanted is None or is_unknown(t):
        return True  # an invalid conversion is reported on the format
    # bpftrace compares the exact type kind here: no bools, no pointers.
    if wanted == "integer":
        return isinstance(t, Int)
    return isinstance(t, String)


def _make_spec(match: re.Match) -> Spec:
    precision = match.group("precision")
    return Spec(
        start=match.start(),
        end=match.end(),
        text=match.group(0).decode("ascii"),
        conversion=match.group("conversion").decode("ascii"),
        flags=match.group("flags").decode("ascii"),
        width=(match.group("width") or b"").decode("ascii"),
        precision=None if precision is None else precision.decode("ascii"),
        length=match.group("length").decode("ascii"),
    )


_STRAY = "'%' does not start a format specifier and is printed as-is; write '%%' for a percent sign"


def _stray_percents(data: bytes, start: int, end: int, problems: list[Problem]) -> None:
    """Warn about each `%` in data[start:end], text between conversions."""
    at = data.find(b"%", start, end)
    while at != -1:
        problems.append(Problem(_STRAY, at, at + 1, "warning"))
        at = data.find(b"%", at + 1, end)
