"""printf() (and system(), cat()) formatting with bpftrace 0.17's
semantics, compiled once per format string.

0.17 splits a format after each conversion its regex recognises (see
style.PRINTF_0_17), giving parts like "x=%d" and ", y=%s", and hands each
part, with its one argument, to C's snprintf. The text after the last
conversion is copied verbatim. That explains the quirks we copy:

* C conversions keep C's meaning: `%d` of 2**32+5 prints 5 (an int is 32
  bits), `%u` of -1 prints 4294967295, `%hhu` of 300 prints 44, `%p` of 0
  prints "(nil)", `%c` of 0 ends the part's text (C strings stop at NUL);
* "%%" before a conversion prints "%", but "%%" after the last one (or in
  a format with no conversions) prints "%%";
* `%r`, `%rx` and `%rh` print a buffer; with a width or flags (`%10r`) C
  sees an unknown conversion and prints it as written.

`compile_format(fmt, arg_types)` parses all that once and returns a
function from the decoded argument values to the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Union

from ...semantic import types as T
from .resolver import Resolver
from .style import DEFAULT_STYLE
from .values import ValuePrinter, bytes_text, encode_output, hex_format_buffer

_U64_MASK = (1 << 64) - 1

# One C conversion, as glibc parses it.
_C_SPEC = re.compile(
    r"%(?P<flags>[-+ #0]*)(?P<width>[0-9]*)(?:\.(?P<precision>[0-9]*))?"
    r"(?P<length>hh|h|ll|l|L|q|j|z|Z|t)?(?P<conversion>.?)",
    re.DOTALL,
)
_ARGUMENT_CONVERSIONS = frozenset("diouxXcsp")
_LENGTH_BITS = {"hh": 8, "h": 16, "": 32}  # every other length modifier: 64

# How 0.17 prints a buffer for %r, %rx and %rh: (keep ASCII, escape as \xNN).
_BUFFER_MODES = {"r": (True, True), "rx": (False, True), "rh": (False, False)}


@dataclass(frozen=True)
class CSpec:
    flags: str
    width: int
    precision: Optional[int]
    length: str
    conversion: str


Segment = Union[str, CSpec]
Piece = Callable[[object], str]


def parse_c_format(text: str) -> list[Segment]:
    """`text` as C's printf reads it: literal text, and conversions. `%%`
    (with any flags) becomes "%"; a conversion C does not know stays as
    written, as glibc prints it."""
    segments: list[Segment] = []
    literal = []
    position = 0
    while True:
        percent = text.find("%", position)
        if percent < 0:
            literal.append(text[position:])
            break
        literal.append(text[position:percent])
        match = _C_SPEC.match(text, percent)
        conversion = match.group("conversion")
        if conversion == "%":
            literal.append("%")
        elif conversion in _ARGUMENT_CONVERSIONS:
            segments.append("".join(literal))
            literal = []
            precision = match.group("precision")
            segments.append(CSpec(
                flags=match.group("flags"),
                width=int(match.group("width") or 0),
                precision=None if precision is None else int(precision or 0),
                length=match.group("length") or "",
                conversion=conversion,
            ))  # fmt: skip
        else:
            literal.append(match.group(0))
        position = match.end()
    segments.append("".join(literal))
    return [s for s in segments if s != ""]


# ------------------------------------------------------------- conversions


def _pad(text: str, width: int, flags: str, length: Optional[int] = None) -> str:
    """Pad to `width` (counted in bytes, as C does) with spaces."""
    size = len(text) if length is None else length
    if size >= width:
        return text
    padding = " " * (width - size)
    return text + padding if "-" in flags else padding + text


def format_c_integer(value: int, spec: CSpec) -> str:
    """One integer conversion (d i u o x X c p), as glibc prints a value
    passed as a 64-bit argument."""
    raw = int(value) & _U64_MASK
    conversion, flags = spec.conversion, spec.flags
    if conversion == "c":
        text = bytes_text(bytes([raw & 0xFF]))
        return _pad(text, spec.width, flags, 1)
    if conversion == "p":
        if raw == 0:
            return _pad("(nil)", spec.width, flags)
        sign, prefix, digits = _sign_flag(flags), "0x", f"{raw:x}"
    else:
        bits = _LENGTH_BITS.get(spec.length, 64)
        number = raw & ((1 << bits) - 1)
        sign, prefix = "", ""
        if conversion in "di":
            if number >> (bits - 1):
                number -= 1 << bits
            sign = "-" if number < 0 else _sign_flag(flags)
            digits = str(abs(number))
        elif conversion == "u":
            digits = str(number)
        elif conversion == "o":
            digits = f"{number:o}"
        else:
            digits = f"{number:x}" if conversion == "x" else f"{number:X}"
            if "#" in flags and number:
                prefix = "0x" if conversion == "x" else "0X"
        if spec.precision is not None and spec.precision == 0 and number == 0:
            digits = ""
        if conversion == "o" and "#" in flags and not digits.startswith("0"):
            digits = "0" + digits
    if spec.precision is not None:
        digits = digits.rjust(spec.precision, "0")
    elif "0" in flags and "-" not in flags:
        digits = digits.rjust(spec.width - len(sign) - len(prefix), "0")
    return _pad(sign + prefix + digits, spec.width, flags)


def _sign_flag(flags: str) -> str:
    return "+" if "+" in flags else " " if " " in flags else ""


def format_c_string(text: str, spec: CSpec) -> str:
    """A %s conversion: precision and width count bytes."""
    if spec.precision is None and spec.width == 0:
        return text
    raw = encode_output(text)
    if spec.precision is not None:
        raw = raw[: spec.precision]
    return _pad(bytes_text(raw), spec.width, spec.flags, len(raw))


def _integer_piece(spec: CSpec) -> Piece:
    """A fast closure for the common conversions, else the general one."""
    if spec.conversion == "c":
        # C strings end at NUL: a %c of 0 ends its part's text.
        return lambda v: format_c_integer(v, spec).split("\0", 1)[0]
    if spec.conversion == "p" or spec.precision is not None or set(spec.flags) - {"-", "0"}:
        return lambda v: format_c_integer(v, spec)
    # Only a width, left-aligned or zero-padded: Python's format() pads
    # exactly as C does for these.
    bits = _LENGTH_BITS.get(spec.length, 64)
    mask, sign_bit = (1 << bits) - 1, 1 << (bits - 1)
    python_conversion = "d" if spec.conversion in "diu" else spec.conversion
    if "-" in spec.flags:
        python_spec = f"<{spec.width}{python_conversion}"
    elif "0" in spec.flags:
        python_spec = f"0{spec.width}{python_conversion}"
    else:
        python_spec = f">{spec.width}{python_conversion}"
    if spec.conversion in "di":
        if spec.width == 0:
            return lambda v: str(((int(v) & mask) ^ sign_bit) - sign_bit)
        return lambda v: format(((int(v) & mask) ^ sign_bit) - sign_bit, python_spec)
    if spec.width == 0 and spec.conversion == "u":
        return lambda v: str(int(v) & mask)
    return lambda v: format(int(v) & mask, python_spec)


def _string_piece(spec: CSpec) -> Piece:
    """%s of a string value, which is bytes: widths count its bytes."""
    if spec.precision is None and spec.width == 0:
        return bytes_text
    precision, width, left = spec.precision, spec.width, "-" in spec.flags

    def piece(raw: bytes) -> str:
        if precision is not None:
            raw = raw[:precision]
        text = bytes_text(raw)
        if len(raw) >= width:
            return text
        padding = " " * (width - len(raw))
        return text + padding if left else padding + text

    return piece


def _is_integer_type(t: T.Type) -> bool:
    return T.is_integer(t) or isinstance(t, T.Pointer)


def _argument_piece(spec: CSpec, t: T.Type, printer: ValuePrinter, buffer_mode) -> Piece:
    if spec.conversion == "s":
        if buffer_mode is not None and isinstance(t, T.Buffer):
            keep_ascii, escape_hex = buffer_mode
            return lambda v: format_c_string(hex_format_buffer(v, keep_ascii, escape_hex), spec)
        if isinstance(t, T.String):
            return _string_piece(spec)
        text_of = printer.text(t)
        return lambda v: format_c_string(text_of(v), spec)
    if not _is_integer_type(t):
        conversion = f"%{spec.length}{spec.conversion}"
        raise ValueError(f"printf: {conversion} cannot print a value of type {t}")
    return _integer_piece(spec)


# ----------------------------------------------------------------- compile


def compile_format(
    fmt: str, arg_types: Sequence[T.Type], printer: Optional[ValuePrinter] = None
) -> Callable[[Sequence], str]:
    """A function from the argument values (decoded, in order) to the text
    printf(fmt, ...) prints."""
    if printer is None:
        printer = ValuePrinter(DEFAULT_STYLE, Resolver())
    style = printer.style
    matches = list(style.printf_spec_regex().finditer(fmt))
    if len(matches) != len(arg_types):
        # A format this style's printf would not take (the analyser follows
        # the modern language: %i, the + space # flags, %% before a
        # conversion): read it as C's printf does.
        return _compile_c_style(fmt, arg_types, printer)
    # Each item: constant text, or (argument index, piece).
    program: list[Union[str, tuple[int, Piece]]] = []
    start = 0
    for index, (match, t) in enumerate(zip(matches, arg_types)):
        part = fmt[start:match.end()]
        start = match.end()
        program.extend(_compile_part(part, match.group("conversion"), index, t, printer))
    tail = fmt[start:]
    if not style.printf_verbatim_tail:
        tail = "".join(s for s in parse_c_format(tail) if isinstance(s, str))
    if tail:
        program.append(tail)
    return _assemble(program)


def _compile_c_style(fmt: str, arg_types: Sequence[T.Type], printer: ValuePrinter) -> Callable[[Sequence], str]:
    """Every conversion C knows takes the next argument; `*` widths and
    precisions are ignored (as the analyser warns), and conversions beyond
    the arguments print as written."""
    program: list[Union[str, tuple[int, Piece]]] = []
    index = 0
    for segment in parse_c_format(fmt.replace("*", "")):
        if isinstance(segment, str):
            program.append(segment)
        elif index < len(arg_types):
            program.append((index, _argument_piece(segment, arg_types[index], printer, None)))
            index += 1
        else:
            program.append(_spec_text(segment))
    return _assemble(program)


def _compile_part(part: str, conversion: str, index: int, t: T.Type, printer: ValuePrinter):
    buffer_mode = None
    last_spec = part[part.rfind("%"):]
    if last_spec in ("%r", "%rx", "%rh"):
        # 0.17 prints the buffer with %s in place of the bpftrace-only %r.
        buffer_mode = _BUFFER_MODES[conversion]
        part = part[: len(part) - len(last_spec)] + "%s"
    items: list[Union[str, tuple[int, Piece]]] = []
    argument_used = False
    for segment in parse_c_format(part):
        if isinstance(segment, str):
            items.append(segment)
        elif not argument_used:
            items.append((index, _argument_piece(segment, t, printer, buffer_mode)))
            argument_used = True
        else:
            # A second conversion in one part would read a missing C
            # argument; print it as written rather than guess.
            items.append(_spec_text(segment))
    return items


def _spec_text(spec: CSpec) -> str:
    precision = "" if spec.precision is None else f".{spec.precision}"
    width = str(spec.width) if spec.width else ""
    return f"%{spec.flags}{width}{precision}{spec.length}{spec.conversion}"


def _assemble(program: list) -> Callable[[Sequence], str]:
    # Merge adjacent constants, then render with one join per call.
    merged: list = []
    for item in program:
        if isinstance(item, str) and merged and isinstance(merged[-1], str):
            merged[-1] += item
        else:
            merged.append(item)
    if all(isinstance(item, str) for item in merged):
        constant = "".join(merged)
        return lambda values: constant
    steps = tuple(merged)

    def render(values: Sequence) -> str:
        out = []
        for item in steps:
            if isinstance(item, str):
                out.append(item)
            else:
                out.append(item[1](values[item[0]]))
        return "".join(out)

    return render
