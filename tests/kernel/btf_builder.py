"""A tiny BTF encoder for tests: build a blob type by type, get bytes.

Type ids are handed out in order, starting at 1; `next_id` tells the id the
next type will get, so a struct can point at a pointer added after it.
"""

from __future__ import annotations

import struct

KINDS = {
    "int": 1, "ptr": 2, "array": 3, "struct": 4, "union": 5, "enum": 6, "fwd": 7,
    "typedef": 8, "volatile": 9, "const": 10, "restrict": 11, "func": 12, "func_proto": 13,
    "var": 14, "datasec": 15, "float": 16, "decl_tag": 17, "type_tag": 18, "enum64": 19,
}  # fmt: skip


class BTFBuilder:
    def __init__(self) -> None:
        self.types: list[tuple[int, int, int, list[int]]] = []  # name_off, info, size/type, extra
        self.strings = bytearray(b"\0")
        self._offsets: dict[str, int] = {"": 0}

    @property
    def next_id(self) -> int:
        return len(self.types) + 1

    def string(self, text: str) -> int:
        if text not in self._offsets:
            self._offsets[text] = len(self.strings)
            self.strings += text.encode() + b"\0"
        return self._offsets[text]

    def add(self, kind: str, name: str = "", vlen: int = 0, kflag: int = 0,
            size_or_type: int = 0, extra: list[int] | None = None) -> int:  # fmt: skip
        info = (kflag << 31) | (KINDS[kind] << 24) | vlen
        self.types.append((self.string(name), info, size_or_type, list(extra or [])))
        return len(self.types)

    # -- one method per kind ------------------------------------------------

    def int(self, name, size, signed=False, char=False, bool_=False, bits=None, offset=0):
        encoding = (signed * 1 | char * 2 | bool_ * 4) << 24 | offset << 16 | (bits or size * 8)
        return self.add("int", name, size_or_type=size, extra=[encoding])

    def float(self, name, size):
        return self.add("float", name, size_or_type=size)

    def ptr(self, target):
        return self.add("ptr", size_or_type=target)

    def array(self, element, length, index_type=0):
        return self.add("array", extra=[element, index_type, length])

    def record(self, kind, name, size, members, bitfields=False):
        """members: (name, type id, bit offset[, bitfield bits])."""
        extra = []
        for member in members:
            mname, mtype, bit_offset, *rest = member
            bits = rest[0] if rest else 0
            extra += [self.string(mname), mtype, (bits << 24 | bit_offset) if bitfields else bit_offset]
        return self.add(kind, name, len(members), int(bitfields), size, extra)

    def struct(self, name, size, members, bitfields=False):
        return self.record("struct", name, size, members, bitfields)

    def union(self, name, size, members, bitfields=False):
        return self.record("union", name, size, members, bitfields)

    def enum(self, name, values, size=4, signed=False):
        extra = []
        for vname, value in values:
            extra += [self.string(vname), value & 0xFFFFFFFF]
        return self.add("enum", name, len(values), int(signed), size, extra)

    def enum64(self, name, values, size=8, signed=False):
        extra = []
        for vname, value in values:
            value &= (1 << 64) - 1
            extra += [self.string(vname), value & 0xFFFFFFFF, value >> 32]
        return self.add("enum64", name, len(values), int(signed), size, extra)

    def fwd(self, name, union=False):
        return self.add("fwd", name, kflag=int(union))

    def typedef(self, name, target):
        return self.add("typedef", name, size_or_type=target)

    def modifier(self, kind, target, name=""):
        return self.add(kind, name, size_or_type=target)

    def func_proto(self, return_type, params):
        extra = []
        for pname, ptype in params:
            extra += [self.string(pname), ptype]
        return self.add("func_proto", vlen=len(params), size_or_type=return_type, extra=extra)

    def func(self, name, proto, linkage=1):
        return self.add("func", name, vlen=linkage, size_or_type=proto)

    def var(self, name, type_id, linkage=1):
        return self.add("var", name, size_or_type=type_id, extra=[linkage])

    # -- output ---------------------------------------------------------------

    def build(self, order: str = "<") -> bytes:
        type_section = bytearray()
        for name_off, info, size_or_type, extra in self.types:
            type_section += struct.pack(f"{order}III{len(extra)}I", name_off, info, size_or_type, *extra)
        header = struct.pack(f"{order}HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(type_section),
                             len(type_section), len(self.strings))  # fmt: skip
        return header + bytes(type_section) + bytes(self.strings)
