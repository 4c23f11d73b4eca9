"""Decode integer, string and character literals, with bpftrace's rules.

Each function returns the value and a list of problems as
(message, start, end) with offsets relative to the literal's text, so the
caller can report them at the right bytes. A literal with problems still has
a value (0 or the best decoding), so the AST stays complete.
"""

from __future__ import annotations

import re

U64_MAX = (1 << 64) - 1

# Suffix -> (largest value before scaling, multiplier). C integer suffixes
# only bound the value; duration suffixes scale to nanoseconds.
_SUFFIXES = {
    "": (U64_MAX, 1),
    "u": ((1 << 32) - 1, 1),
    "ul": (U64_MAX, 1),
    "ull": (U64_MAX, 1),
    "lu": (U64_MAX, 1),
    "llu": (U64_MAX, 1),
    "l": ((1 << 63) - 1, 1),
    "ll": ((1 << 63) - 1, 1),
    "ns": (U64_MAX, 1),
    "us": (U64_MAX, 1_000),
    "ms": (U64_MAX, 1_000_000),
    "s": (U64_MAX, 1_000_000_000),
    "m": (U64_MAX, 60_000_000_000),
    "h": (U64_MAX, 3_600_000_000_000),
    "d": (U64_MAX, 86_400_000_000_000),
}
DURATION_SUFFIXES = ("ns", "us", "ms", "s", "m", "h", "d")

_INT = re.compile(
    r"(?P<hex>0[xX](?P<hexdigits>[0-9A-Fa-f_]*))"
    r"|(?P<dec>[0-9][0-9_]*)(?:[eE](?P<exp>[0-9_]+))?"
)

Problem = tuple[str, int, int]


def parse_int(text: str) -> tuple[int, list[Problem]]:
    """Value of an integer literal such as `1_000`, `0x1f`, `0777`, `1e6`,
    `10ul` or `100ms` (durations are in nanoseconds)."""
    match = _INT.match(text)
    if match is None:  # the lexer only hands us digits first; be safe anyway
        return 0, [(f"invalid integer literal '{text}'", 0, len(text))]
    problems: list[Problem] = []
    body_end = match.end()
    for group in ("hexdigits", "dec", "exp"):
        digits = match.group(group)
        if digits and digits.endswith("_") and digits.strip("_"):
            end = match.end(group)
            problems.append(("trailing underscore in integer literal", end - 1, end))

    suffix = text[body_end:]
    key = suffix if suffix in DURATION_SUFFIXES else suffix.lower()
    if key not in _SUFFIXES or (match.group("hex") and key in DURATION_SUFFIXES):
        problems.append((f"invalid integer suffix '{suffix}'", body_end, len(text)))
        key = ""

    if match.group("hex"):
        digits = match.group("hexdigits").replace("_", "")
        if not digits:
            problems.append(("invalid integer: no digits after '0x'", 0, body_end))
            return 0, problems
        value = int(digits, 16)
    else:
        digits = match.group("dec").replace("_", "")
        if len(digits) > 1 and digits[0] == "0":
            if not all(d in "01234567" for d in digits):
                problems.append((f"invalid octal integer '{digits}'", 0, match.end("dec")))
                return 0, problems
            value = int(digits, 8)
        else:
            value = int(digits)
        if match.group("exp") is not None:
            exponent = match.group("exp").replace("_", "")
            if not 1 <= value <= 9:
                problems.append(("coefficient part of scientific literal must be 1-9", 0, body_end))
                return 0, problems
            value *= 10 ** min(int(exponent or "0"), 40)

    limit, multiplier = _SUFFIXES[key]
    if value > limit // multiplier:
        problems.append((f"integer literal too large: maximum value is {limit}", 0, len(text)))
        return 0, problems
    return value * multiplier, problems


_STRING_ESCAPES = {"n": 10, "t": 9, "r": 13, '"': 34, "\\": 92}
_CHAR_ESCAPES = {**_STRING_ESCAPES, "'": 39}


def parse_string(body: str, escapes=_STRING_ESCAPES) -> tuple[bytes, list[Problem]]:
    """Decode the text between the quotes of a string literal. `body` is in
    lark's Latin-1 form, so each character is one byte of the source."""
    out = bytearray()
    problems: list[Problem] = []
    i = 0
    length = len(body)
    while i < length:
        char = body[i]
        if char != "\\":
            out.append(ord(char))
            i += 1
            continue
        start = i
        i += 1
        if i >= length:
            problems.append(("unterminated string", start, i))
            break
        esc = body[i]
        if esc in escapes:
            out.append(escapes[esc])
            i += 1
        elif esc in "01234567":
            digits = esc
            i += 1
            while i < length and len(digits) < 3 and body[i] in "01234567":
                digits += body[i]
                i += 1
            value = int(digits, 8)
            if value > 255:
                problems.append((f"octal escape sequence out of range '\\{digits}'", start, i))
                value &= 0xFF
            out.append(value)
        elif esc in "xX":
            i += 1
            digits = ""
            while i < length and len(digits) < 2 and body[i] in "0123456789abcdefABCDEF":
                digits += body[i]
                i += 1
            if digits:
                out.append(int(digits, 16))
            else:
                problems.append(("invalid hex escape sequence", start, i))
        else:
            problems.append((f"invalid escape character '\\{esc}'", start, i + 1))
            i += 1
    return bytes(out), problems


def parse_char(body: str) -> tuple[int, list[Problem]]:
    """Value of a character literal's body (between the quotes): one byte or
    one escape. bpftrace itself has no character literals; we accept them as
    small integers, the way C does."""
    value, problems = parse_string(body, _CHAR_ESCAPES)
    if len(value) != 1:
        if not problems:  # a bad escape already explains it
            problems.append(("a character literal must hold exactly one byte", 0, len(body)))
        return (value[0] if value else 0), problems
    return value[0], problems
