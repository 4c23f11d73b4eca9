"""Split an attach point's raw text into parts with roles and spans.

The grammar reads an attach point as one raw token, as bpftrace does. Here
it is cut at ':' (and at '@' for uprobe source locations) outside quotes,
a `name=` prefix becomes the probe's label, quotes are removed, and each part
gets a role from its provider's layout: `uprobe:/bin/bash:readline+4` is
provider, target, function and offset.

This is structure only. Whether a provider exists, whether a rate is a
number, or how many parts a provider takes are the semantic analyser's
questions; extra parts get the role EXTRA so that it can point at them.
"""

from __future__ import annotations

import re

from ..source import Span, decode
from .ast import AttachPart, AttachPoint, Role

# Canonical provider names and their aliases. Providers match regardless of
# case, except the one-letter aliases `u` (uprobe) and `U` (usdt).
PROVIDER_ALIASES = {
    "begin": "begin", "end": "end", "self": "self", "test": "test", "bench": "bench",
    "kprobe": "kprobe", "k": "kprobe", "kretprobe": "kretprobe", "kr": "kretprobe",
    "uprobe": "uprobe", "u": "uprobe", "uretprobe": "uretprobe", "ur": "uretprobe",
    "usdt": "usdt", "U": "usdt", "tracepoint": "tracepoint", "t": "tracepoint",
    "rawtracepoint": "rawtracepoint", "rt": "rawtracepoint",
    "fentry": "fentry", "f": "fentry", "kfunc": "fentry",
    "fexit": "fexit", "fr": "fexit", "kretfunc": "fexit",
    "profile": "profile", "p": "profile", "interval": "interval", "i": "interval",
    "software": "software", "s": "software", "hardware": "hardware", "h": "hardware",
    "watchpoint": "watchpoint", "w": "watchpoint",
    "asyncwatchpoint": "asyncwatchpoint", "aw": "asyncwatchpoint",
    "iter": "iter", "it": "iter",
}  # fmt: skip


def canonical_provider(name: str) -> str | None:
    """The canonical provider for a name or alias, or None if unknown."""
    if name in PROVIDER_ALIASES:
        return PROVIDER_ALIASES[name]
    return PROVIDER_ALIASES.get(name.lower()) if len(name) > 1 else None


# The roles of the parts after the provider, by provider and part count.
_R = Role
_LAYOUTS: dict[str, dict[int, tuple[str, ...]]] = {
    "begin": {1: (_R.EXTRA,)},
    "end": {1: (_R.EXTRA,)},
    "self": {2: (_R.TARGET, _R.EVENT)},
    "test": {1: (_R.NAME,)},
    "bench": {1: (_R.NAME,)},
    "kprobe": {1: (_R.FUNCTION,), 2: (_R.TARGET, _R.FUNCTION)},
    "kretprobe": {1: (_R.FUNCTION,), 2: (_R.TARGET, _R.FUNCTION)},
    "uprobe": {1: (_R.FUNCTION,), 2: (_R.TARGET, _R.FUNCTION), 3: (_R.TARGET, _R.LANGUAGE, _R.FUNCTION)},
    "uretprobe": {1: (_R.FUNCTION,), 2: (_R.TARGET, _R.FUNCTION), 3: (_R.TARGET, _R.LANGUAGE, _R.FUNCTION)},
    "usdt": {1: (_R.EVENT,), 2: (_R.TARGET, _R.EVENT), 3: (_R.TARGET, _R.NAMESPACE, _R.EVENT)},
    "tracepoint": {1: (_R.EVENT,), 2: (_R.TARGET, _R.EVENT)},
    "rawtracepoint": {1: (_R.EVENT,), 2: (_R.TARGET, _R.EVENT)},
    "fentry": {1: (_R.FUNCTION,), 2: (_R.TARGET, _R.FUNCTION), 3: (_R.TARGET, _R.NAMESPACE, _R.FUNCTION)},
    "fexit": {1: (_R.FUNCTION,), 2: (_R.TARGET, _R.FUNCTION), 3: (_R.TARGET, _R.NAMESPACE, _R.FUNCTION)},
    "profile": {1: (_R.RATE,), 2: (_R.UNIT, _R.RATE)},
    "interval": {1: (_R.RATE,), 2: (_R.UNIT, _R.RATE)},
    "software": {1: (_R.EVENT,), 2: (_R.EVENT, _R.COUNT)},
    "hardware": {1: (_R.EVENT,), 2: (_R.EVENT, _R.COUNT)},
    "watchpoint": {1: (_R.ADDRESS,), 2: (_R.ADDRESS, _R.LENGTH), 3: (_R.ADDRESS, _R.LENGTH, _R.MODE)},
    "asyncwatchpoint": {3: (_R.ADDRESS, _R.LENGTH, _R.MODE)},
    "iter": {1: (_R.EVENT,), 2: (_R.EVENT, _R.PIN)},
}  # fmt: skip

# Providers whose function part may carry `+OFFSET` or be an address.
_OFFSET_PROVIDERS = {"kprobe", "kretprobe", "uprobe", "uretprobe"}
_NUMBER = re.compile(r"(?:0[xX][0-9A-Fa-f]+|[0-9]+)\Z")
_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


class _Piece:
    """A ':'-separated piece of raw text: its value and its offsets."""

    __slots__ = ("start", "end", "value", "quoted")

    def __init__(self, start: int, end: int, value: str, quoted: bool) -> None:
        self.start, self.end, self.value, self.quoted = start, end, value, quoted


def _split(raw: str, base: int) -> tuple[list[_Piece], int | None]:
    """Cut at ':' and '@' outside quotes; unquote. Returns the pieces and
    the index of the piece that follows an '@', if there was one."""
    pieces: list[_Piece] = []
    at_index = None
    value: list[str] = []
    start = 0
    in_quotes = quoted = False
    i = 0
    while i < len(raw):
        char = raw[i]
        if in_quotes and char == "\\" and i + 1 < len(raw):
            value.append(raw[i + 1])
            i += 2
            continue
        if char == '"':
            in_quotes = not in_quotes
            quoted = True
        elif not in_quotes and char in ":@":
            pieces.append(_Piece(base + start, base + i, "".join(value), quoted))
            if char == "@" and at_index is None:
                at_index = len(pieces)
            value, start, quoted = [], i + 1, False
        else:
            value.append(char)
        i += 1
    pieces.append(_Piece(base + start, base + len(raw), "".join(value), quoted))
    return pieces, at_index


def split_attach_point(raw_latin: str, start: int) -> AttachPoint:
    """Build an AttachPoint from the raw token text (in lark's Latin-1 form)
    that starts at byte offset `start`."""
    end = start + len(raw_latin)
    if not raw_latin:
        return AttachPoint(Span(start, end), "", [], is_error=True)
    parts: list[AttachPart] = []

    label = _LABEL.match(raw_latin)
    body_start = 0
    if label and label.end() < len(raw_latin):
        name_end = start + label.end() - 1
        parts.append(AttachPart(Span(start, name_end), Role.LABEL, raw_latin[: label.end() - 1]))
        body_start = label.end()

    pieces, at_index = _split(raw_latin[body_start:], start + body_start)
    provider_piece, rest = pieces[0], pieces[1:]
    parts.append(_part(provider_piece, Role.PROVIDER))
    provider = canonical_provider(decode(provider_piece.value))

    if at_index is not None and provider in ("uprobe", "uretprobe"):
        roles = _source_location_roles(at_index - 1, len(rest))
    else:
        roles = _roles_for(provider, len(rest))
    for piece, role in zip(rest, roles):
        if role == Role.FUNCTION and provider in _OFFSET_PROVIDERS:
            parts.extend(_function_and_offset(piece))
        else:
            parts.append(_part(piece, role))
    return AttachPoint(Span(start, end), decode(raw_latin), parts)


def _roles_for(provider: str | None, count: int) -> list[str]:
    layouts = _LAYOUTS.get(provider or "", {})
    if count in layouts:
        return list(layouts[count])
    if not layouts:
        return [Role.EXTRA] * count
    # Too many parts: use the longest layout and mark the rest as extra.
    longest = layouts[max(layouts)]
    return list(longest[:count]) + [Role.EXTRA] * (count - len(longest))


def _source_location_roles(target_count: int, count: int) -> list[str]:
    """uprobe:BIN@FILE:LINE[:COL]; the pieces before '@' are the target."""
    roles = [Role.TARGET] * target_count + [Role.FILE, Role.LINE, Role.COLUMN]
    roles += [Role.EXTRA] * (count - len(roles))
    return roles[:count]


def _function_and_offset(piece: _Piece) -> list[AttachPart]:
    value = piece.value
    # In a quoted name (a C++ signature, say) a '+' is part of the name.
    plus = -1 if piece.quoted else value.find("+")
    if plus > 0:
        return [
            AttachPart(Span(piece.start, piece.start + plus), Role.FUNCTION, decode(value[:plus])),
            AttachPart(Span(piece.start + plus + 1, piece.end), Role.OFFSET, decode(value[plus + 1 :])),
        ]
    if _NUMBER.match(value):
        return [_part(piece, Role.ADDRESS)]
    return [_part(piece, Role.FUNCTION)]


def _part(piece: _Piece, role: str) -> AttachPart:
    return AttachPart(Span(piece.start, piece.end), role, decode(piece.value))


def expand_positional(raw: str, params: list[str]) -> tuple[str, list[str]]:
    """Replace `$N` in raw attach-point text with the Nth program argument,
    outside quotes, as bpftrace does before it splits an attach point (a
    missing argument is empty). Returns the text and any error messages;
    split the result with split_attach_point() to get its parts."""
    out: list[str] = []
    errors: list[str] = []
    in_quotes = False
    i = 0
    while i < len(raw):
        char = raw[i]
        if char == '"':
            in_quotes = not in_quotes
        elif in_quotes and char == "\\" and i + 1 < len(raw):
            out.append(raw[i : i + 2])
            i += 2
            continue
        elif char == "$" and not in_quotes:
            digits = re.match(r"[1-9][0-9]*", raw[i + 1 :])
            if digits is None:
                after = raw[i + 1 : i + 2]
                if after:
                    errors.append(
                        f"invalid trailing character for positional param: {after}. "
                        f'Try quoting this entire part if this is intentional e.g. "${after}".'
                    )
                out.append(char)
                i += 1
                continue
            index = int(digits.group())
            out.append(params[index - 1] if index <= len(params) else "")
            i += 1 + len(digits.group())
            continue
        out.append(char)
        i += 1
    return "".join(out), errors
