"""The C struct and union definitions a script's preamble may hold.

bpftrace hands these to clang; we only need their fields, offsets and
sizes, so a small declaration parser does: integer types in their C, kernel
(`u32`, `__u64`) and stdint spellings, pointers, arrays, nested and named
records, with natural alignment. A type it cannot name becomes UNKNOWN
to the analyser, never an error.
"""

from __future__ import annotations

import re
from typing import Optional

from ..kernel import ctypes as C

_TOKEN = re.compile(r"\s*(?:(/\*.*?\*/|//[^\n]*)|([A-Za-z_]\w*)|(\d+)|(.))", re.S)

_INTS = {
    "char": (1, True), "short": (2, True), "int": (4, True), "long": (8, True),
    "bool": (1, False), "_Bool": (1, False),
    "u8": (1, False), "u16": (2, False), "u32": (4, False), "u64": (8, False),
    "s8": (1, True), "s16": (2, True), "s32": (4, True), "s64": (8, True),
    "__u8": (1, False), "__u16": (2, False), "__u32": (4, False), "__u64": (8, False),
    "__s8": (1, True), "__s16": (2, True), "__s32": (4, True), "__s64": (8, True),
    "int8_t": (1, True), "int16_t": (2, True), "int32_t": (4, True), "int64_t": (8, True),
    "uint8_t": (1, False), "uint16_t": (2, False), "uint32_t": (4, False), "uint64_t": (8, False),
    "size_t": (8, False), "ssize_t": (8, True), "pid_t": (4, True), "uid_t": (4, False),
}  # fmt: skip
_QUALIFIERS = {"const", "volatile", "static", "extern", "register", "restrict", "__restrict"}


def parse_c_definition(text: str, ctx) -> tuple[Optional[C.CRecord], Optional[str]]:
    """(record, None), or (None, why not) for what we cannot read (enums and
    typedefs are kept by clang only: they give (None, None))."""
    tokens = [t for t in _tokens(text)]
    if not tokens or tokens[0] not in ("struct", "union"):
        return None, None
    try:
        parser = _Parser(tokens, ctx)
        record = parser.record(named=True)
    except (IndexError, ValueError) as exc:
        return None, f"could not read this C definition ({exc}); its fields will be unknown"
    return record, None


def _tokens(text: str) -> list[str]:
    out = []
    for match in _TOKEN.finditer(text):
        comment, word, number, other = match.groups()
        if comment:
            continue
        token = word or number or other
        if token and not token.isspace():
            out.append(token)
    return out


class _Parser:
    def __init__(self, tokens: list[str], ctx) -> None:
        self.tokens = tokens
        self.pos = 0
        self.ctx = ctx
        self.anonymous = 0

    def peek(self) -> str:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ""

    def take(self, expected: Optional[str] = None) -> str:
        token = self.tokens[self.pos]
        if expected is not None and token != expected:
            raise ValueError(f"expected '{expected}', found '{token}'")
        self.pos += 1
        return token

    def record(self, named: bool) -> C.CRecord:
        kind = self.take()
        self._skip_attributes()
        name = ""
        if self.peek() not in ("{", ""):
            name = self.take()
        self._skip_attributes()
        self.take("{")
        fields: list[C.CField] = []
        offset = size = 0
        align = 1
        while self.peek() != "}":
            base = self.base_type()
            while True:
                ctype, field_name = self.declarator(base)
                if self.peek() == ":":  # a bitfield: keep the field, ignore the width
                    self.take()
                    self.take()
                field_align = _alignment(ctype, self)
                align = max(align, field_align)
                if kind == "union":
                    fields.append(C.CField(field_name, ctype, 0))
                    size = max(size, _size(ctype, self))
                else:
                    offset = (offset + field_align - 1) // field_align * field_align
                    fields.append(C.CField(field_name, ctype, offset))
                    offset += _size(ctype, self)
                    size = offset
                if self.peek() != ",":
                    break
                self.take(",")
            self.take(";")
        self.take("}")
        size = (size + align - 1) // align * align
        if not name and not named:
            # An anonymous member record: give it a name no C type can have,
            # so that it can be looked up like any other.
            self.anonymous += 1
            name = f"<anonymous {kind} {self.anonymous} in {self.tokens[1]}>"
        record = C.CRecord(kind, name, size, tuple(fields))
        if not named:
            self.ctx.local_records[(kind, name)] = record
        return record

    def base_type(self):
        while self.peek() in _QUALIFIERS:
            self.take()
        word = self.peek()
        if word in ("struct", "union"):
            if self.tokens[self.pos + 1] == "{" or self.tokens[self.pos + 2] == "{":
                inner = self.record(named=False)
                return C.CRecordRef(inner.kind, inner.name)
            kind, name = self.take(), self.take()
            return C.CRecordRef(kind, name)
        if word == "enum":
            self.take()
            return C.CEnumRef(self.take(), 4)
        words = []
        while self.peek() in _INTS or self.peek() in ("unsigned", "signed") or self.peek() in _QUALIFIERS:
            words.append(self.take())
        if not words:
            name = self.take()
            target = self.ctx.facts.typedef(name)
            return target if target is not None else C.CUnsupported(name)
        signed = "unsigned" not in words
        names = [w for w in words if w in _INTS]
        size = _INTS[names[-1]][0] if names else 4
        if names.count("long") == 2 or (names and names[-1] == "long"):
            size = 8
        if len(names) == 1 and names[0] not in ("char", "short", "int", "long"):
            signed = _INTS[names[0]][1]
        return C.CInt(size, signed, " ".join(words), is_char=names == ["char"], is_bool=names[-1:] in (["bool"], ["_Bool"]))

    def declarator(self, base):
        ctype = base
        while self.peek() == "*":
            self.take()
            while self.peek() in _QUALIFIERS:
                self.take()
            ctype = C.CPointer(ctype)
        name = ""
        if self.peek() not in (";", ",", ":", "["):
            name = self.take()
        dims = []
        while self.peek() == "[":
            self.take()
            dims.append(int(self.take()) if self.peek() != "]" else 0)
            self.take("]")
        for length in reversed(dims):
            ctype = C.CArray(ctype, length)
        return ctype, name

    def _skip_attributes(self) -> None:
        while self.peek() == "__attribute__":
            self.take()
            depth = 0
            while True:
                token = self.take()
                depth += token == "("
                depth -= token == ")"
                if depth == 0 and token == ")":
                    break

    def record_size(self, ref: C.CRecordRef) -> int:
        record = self.ctx.local_records.get((ref.kind, ref.name)) or self.ctx.facts.record_of(ref)
        return record.size if record else 0


def _size(ctype, parser: _Parser) -> int:
    return C.type_size(ctype, lambda ref: _FakeRecord(parser.record_size(ref)))


def _alignment(ctype, parser: _Parser) -> int:
    if isinstance(ctype, C.CArray):
        return _alignment(ctype.element, parser)
    if isinstance(ctype, C.CRecordRef):
        return min(8, max(1, parser.record_size(ctype))) if parser.record_size(ctype) < 8 else 8
    return max(1, min(8, _size(ctype, parser)))


class _FakeRecord:
    def __init__(self, size: int) -> None:
        self.size = size
