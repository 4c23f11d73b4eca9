"""The text of one value, as bpftrace prints it in maps, print() and
printf's %s, and its JSON form.

Printing is driven by the value's type (decode.py's value model), and the
printer for a type is built once and cached: `ValuePrinter.text(t)` returns
a function from value to text. Map keys print slightly differently from
values in 0.17 (integers as int64, pointers in hex, records without
spaces), so keys have their own printers, `key_text(t)`.

Strings are bytes in the value model; their text is decoded as UTF-8 with
surrogateescape, so bytes that are not UTF-8 survive: write the output with
`encode_output()`.
"""

from __future__ import annotations

from typing import Callable

from ...semantic import types as T
from ..decode import Stats
from .resolver import Resolver
from .style import Style

Printer = Callable[[object], str]

_U64_MASK = (1 << 64) - 1


def encode_output(text: str) -> bytes:
    """The bytes to write for output text (see the module docstring)."""
    return text.encode("utf-8", "surrogateescape")


def bytes_text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def as_int64(value: int) -> int:
    """The 64-bit two's complement reading of `value`."""
    value &= _U64_MASK
    return value - (1 << 64) if value >> 63 else value


def c_divide(value: int, divisor: int) -> int:
    """C integer division: the quotient truncated towards zero."""
    quotient = abs(value) // abs(divisor)
    return quotient if (value < 0) == (divisor < 0) else -quotient


def hex_format_buffer(data: bytes, keep_ascii: bool = True, escape_hex: bool = True) -> str:
    """A buffer as print(buf) and %r show it: printable ASCII as itself and
    other bytes as \\x01; %rx escapes every byte; %rh writes "61 62 01"."""
    if not escape_hex:
        return " ".join(f"{byte:02x}" for byte in data)
    parts = []
    for byte in data:
        if keep_ascii and 32 <= byte <= 126:
            parts.append(chr(byte))
        else:
            parts.append(f"\\x{byte:02x}")
    return "".join(parts)


def json_escape(text: str, style: Style) -> str:
    """A string's JSON body (no quotes), escaped byte by byte as 0.17 does."""
    out = []
    for byte in encode_output(text):
        if byte == 0x22:
            out.append('\\"')
        elif byte == 0x5C:
            out.append("\\\\")
        elif byte == 0x0A:
            out.append("\\n")
        elif byte == 0x0D:
            out.append("\\r")
        elif byte == 0x09:
            out.append("\\t")
        elif byte <= 0x1F:
            out.append(f"\\u{byte:04x}")
        elif byte >= 0x80 and style.json_escape_high_bytes_as_negative:
            # A negative char printed as a hex int: all 32 bits of it.
            out.append(f"\\u{0xFFFFFF00 | byte:x}")
        else:
            out.append(chr(byte))
    return bytes_text("".join(out).encode("latin-1"))


def stats_text(count: int, average: int, total: int, style: Style) -> str:
    """A stats() value: "count 3, average 9, total 27" in 0.17."""
    if style.stats_as_record:
        return f"{{ .count = {count}, .average = {average}, .total = {total} }}"
    return f"count {count}, average {average}, total {total}"


class ValuePrinter:
    """Printers for values of each type, in one style, with one resolver."""

    def __init__(self, style: Style, resolver: Resolver) -> None:
        self.style = style
        self.resolver = resolver
        self._cache: dict[tuple[str, T.Type], Printer] = {}

    def text(self, t: T.Type) -> Printer:
        """The text of a value in a map value, print() or %s."""
        return self._cached("text", t, lambda: self._text(t, key=False))

    def key_text(self, t: T.Type) -> Printer:
        """The text of a map key (or one part of a multi-key)."""
        return self._cached("key", t, lambda: self._text(t, key=True))

    def json(self, t: T.Type) -> Printer:
        """The JSON of a value."""
        return self._cached("json", t, lambda: self._json(t))

    def _cached(self, kind: str, t: T.Type, build: Callable[[], Printer]) -> Printer:
        printer = self._cache.get((kind, t))
        if printer is None:
            printer = self._cache[(kind, t)] = build()
        return printer

    # --------------------------------------------------------------- text

    def _text(self, t: T.Type, key: bool) -> Printer:
        style = self.style
        if isinstance(t, T.Int):
            return self._int_text(t, key)
        if isinstance(t, T.Bool):
            if style.bools_as_ints:
                return lambda v: "1" if v else "0"
            return lambda v: "true" if v else "false"
        if isinstance(t, T.String):
            return self._string_text(t)
        if isinstance(t, T.Buffer):
            return hex_format_buffer
        if isinstance(t, T.Inet):
            return str
        if isinstance(t, T.Pointer):
            if style.pointer_values_in_decimal and not key:
                return lambda v: str(as_int64(v))
            return lambda v: f"0x{v & _U64_MASK:x}"
        if isinstance(t, T.Array):
            element = self._text(t.element, key)
            return lambda v: "[" + ",".join(element(e) for e in v) + "]"
        if isinstance(t, T.Tuple):
            elements = [self._text(e, key) for e in t.elements]
            return lambda v: "(" + ", ".join(p(e) for p, e in zip(elements, v)) + ")"
        if isinstance(t, T.Record):
            return self._record_text(t, key)
        if isinstance(t, T.CRecord):
            # We know no fields of a C struct at run time: show its bytes.
            return lambda v: hex_format_buffer(bytes(v))
        if isinstance(t, T.Special):
            return self._special_text(t, key)
        if isinstance(t, T.Aggregation):
            return self._aggregation_text(t)
        return lambda v: "" if v is None else str(v)

    def _int_text(self, t: T.Int, key: bool) -> Printer:
        if t.enum and self.style.enum_names:
            enum = t.enum
            return lambda v: self.resolver.enum_name(enum, v) or str(v)
        if key and self.style.int_keys_as_int64 and not t.signed:
            return lambda v: str(as_int64(v))
        return str

    def _string_text(self, t: T.String) -> Printer:
        trailer = self.style.string_truncation_trailer
        if trailer and t.length:
            capacity = t.length
            return lambda v: bytes_text(v) + (trailer if len(v) >= capacity else "")
        return bytes_text

    def _record_text(self, t: T.Record, key: bool) -> Printer:
        names = [name for name, _ in t.fields]
        fields = [self._text(ft, key) for _, ft in t.fields]
        if key and self.style.compact_record_keys:
            def compact(v) -> str:
                parts = (f".{n}={p(fv)}" for n, p, (_, fv) in zip(names, fields, v))
                return "{" + ",".join(parts) + "}"
            return compact

        def spaced(v) -> str:
            parts = (f".{n} = {p(fv)}" for n, p, (_, fv) in zip(names, fields, v))
            return "{ " + ", ".join(parts) + " }"
        return spaced

    def _special_text(self, t: T.Special, key: bool) -> Printer:
        resolver = self.resolver
        name = t.name
        if name == "ksym_t":
            return resolver.ksym
        if name == "usym_t":
            return lambda v: resolver.usym(v[0], v[1])
        if name in ("kstack", "ustack"):
            indent = self.style.key_stack_indent if key else self.style.value_stack_indent
            return lambda v: resolver.stack_text(t, v, indent)
        if name == "username_t":
            return resolver.username
        if name == "timestamp" or name.startswith("timestamp:"):
            return lambda v: resolver.timestamp_text(t, v)
        if name == "macaddr_t":
            return _mac_address
        if name == "cgroup_path_t":
            return resolver.cgroup_path
        if name == "strerror_t":
            return resolver.strerror
        if name == "probe":
            return resolver.probe_name
        return str

    def _aggregation_text(self, t: T.Aggregation) -> Printer:
        if t.kind == "stats":
            return lambda v: stats_text(v.count, v.average, v.total, self.style)
        return lambda v: str(v.average) if isinstance(v, Stats) else str(v)

    # --------------------------------------------------------------- JSON

    def _json(self, t: T.Type) -> Printer:
        style = self.style
        if isinstance(t, (T.String, T.Buffer, T.Inet)):
            return self._quoted(self.text(t))
        if isinstance(t, T.Bool) and not style.bools_as_ints:
            return lambda v: "true" if v else "false"
        if isinstance(t, T.Array):
            element = self.json(t.element)
            return lambda v: "[" + ",".join(element(e) for e in v) + "]"
        if isinstance(t, T.Tuple):
            elements = [self.json(e) for e in t.elements]
            return lambda v: "[" + ",".join(p(e) for p, e in zip(elements, v)) + "]"
        if isinstance(t, T.Record):
            names = [name for name, _ in t.fields]
            fields = [self.json(ft) for _, ft in t.fields]

            def record(v) -> str:
                parts = (f'"{n}": {p(fv)}' for n, p, (_, fv) in zip(names, fields, v))
                return "{ " + ", ".join(parts) + " }"
            return record
        if isinstance(t, T.Aggregation) and t.kind == "stats":
            return lambda v: f'{{"count": {v.count}, "average": {v.average}, "total": {v.total}}}'
        if isinstance(t, T.Special) and t.name in style.json_quoted_specials:
            return self._quoted(self.text(t))
        if isinstance(t, T.Int) and t.enum and style.enum_names:
            return self._quoted(self.text(t))
        return self.text(t)

    def _quoted(self, printer: Printer) -> Printer:
        style = self.style
        return lambda v: '"' + json_escape(printer(v), style) + '"'


def _mac_address(value: int) -> str:
    raw = (value & _U64_MASK).to_bytes(8, "little")[:6]
    return ":".join(f"{byte:02X}" for byte in raw)
