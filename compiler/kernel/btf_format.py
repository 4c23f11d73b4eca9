"""The BTF format, read in pure Python: the header, the type-section walk
that gives each type id its place, and the decoding of one type id into
`compiler.kernel.ctypes` values.

This module owns the binary layout (Linux's Documentation/bpf/btf.rst).
Decoding is on demand and memoised; records are referred to, not expanded
(see ctypes.py), so decoding `task_struct` touches only its members'
types, never the structs they point to. Name lookups and the on-disk
cache are btf_index.py's; the public entry point is btf.py.

Errors inside a damaged blob raise `BTFError` (or IndexError); btf.py
turns them into None.
"""

from __future__ import annotations

import mmap
import os
import struct
import sys
from array import array
from dataclasses import replace
from typing import Optional

from .ctypes import (
    CArray, CEnum, CEnumRef, CField, CFunction, CFunctionPointer, CInt, CPointer, CRecord,
    CRecordRef, CType, CUnsupported, CVoid,
)  # fmt: skip

VMLINUX = "/sys/kernel/btf/vmlinux"
MAGIC = 0xEB9F

# Kinds (btf.rst, "BTF Type Encoding").
INT, PTR, ARRAY, STRUCT, UNION, ENUM, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT = range(1, 12)
FUNC, FUNC_PROTO, VAR, DATASEC, FLOAT, DECL_TAG, TYPE_TAG, ENUM64 = range(12, 20)

# Words that follow the 3-word btf_type header: a fixed part per kind, plus
# a part per vlen item (members, enumerators, params, section entries).
# FUNC's vlen holds its linkage, not a count, so its per-item size is 0.
_FIXED = (0, 1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0)
_PER_ITEM = (0, 0, 0, 0, 3, 3, 2, 0, 0, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 3)
_MODIFIERS = (TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG)

_INT_SIGNED, _INT_CHAR, _INT_BOOL = 1, 2, 4
_CHAR_NAMES = ("char", "signed char", "unsigned char")
_MAX_CHAIN = 64  # modifier/pointer depth before we call a blob cyclic


class BTFError(Exception):
    """The blob is not BTF we can read (only raised inside this package)."""


class BTFBlob:
    """One BTF blob: its sections and where each type id starts.

    `data` is bytes or a read-only mmap. Type ids start at 1; id 0 is void.
    """

    def __init__(self, data, offsets: Optional[array] = None):
        if len(data) < 24:
            raise BTFError("too short for a BTF header")
        magic = struct.unpack_from("<H", data)[0]
        if magic == MAGIC:
            order = "<"
        elif magic == 0x9FEB:
            order = ">"
        else:
            raise BTFError("bad magic")
        version, _flags, hdr_len = struct.unpack_from(order + "BBI", data, 2)
        if version != 1 or hdr_len < 24 or hdr_len > len(data):
            raise BTFError("unsupported header")
        type_off, type_len, str_off, str_len = struct.unpack_from(order + "4I", data, 8)
        type_start, str_start = hdr_len + type_off, hdr_len + str_off
        if type_len % 4 or type_start + type_len > len(data) or str_start + str_len > len(data):
            raise BTFError("sections outside the file")
        self.data = data
        self.str_start, self.str_end = str_start, str_start + str_len
        native = (order == "<") == (sys.byteorder == "little")
        if native:
            self.words = memoryview(data)[type_start : type_start + type_len].cast("I")
        else:
            words = array("I")
            words.frombytes(bytes(data[type_start : type_start + type_len]))
            words.byteswap()
            self.words = words
        self.kinds: Optional[bytearray] = None
        self.offsets = offsets if offsets is not None else self._walk()

    def _walk(self) -> array:
        """Word index of each type id (index 0 is a placeholder for void),
        and each id's kind in `self.kinds` (for the name index)."""
        words, fixed, per_item = self.words, _FIXED, _PER_ITEM
        offsets = array("I", [0])
        kinds = bytearray(1)
        append, append_kind = offsets.append, kinds.append
        i, n = 0, len(words)
        try:
            # The hot loop of a cold start: keep it to the bare arithmetic.
            # An unknown kind (> ENUM64) has no size we know: IndexError.
            while i < n:
                info = words[i + 1]
                kind = (info >> 24) & 31
                append(i)
                append_kind(kind)
                i += 3 + fixed[kind] + per_item[kind] * (info & 0xFFFF)
        except IndexError:
            raise BTFError("truncated type section or unknown kind") from None
        if i != n or kinds.find(0, 1) != -1:
            raise BTFError("truncated type section or unknown kind")
        self.kinds = kinds
        return offsets

    @property
    def count(self) -> int:
        """Number of type ids, void excluded."""
        return len(self.offsets) - 1

    def string(self, off: int) -> str:
        return self.string_bytes(off).decode("utf-8", "replace")

    def string_bytes(self, off: int) -> bytes:
        start = self.str_start + off
        if off <= 0 or start >= self.str_end:
            return b""
        end = self.data.find(b"\0", start, self.str_end)
        return self.data[start : end if end >= 0 else self.str_end]

    def info(self, tid: int) -> tuple[int, int, int, int]:
        """(kind, vlen, kind_flag, size_or_type) of a type id."""
        if not 0 < tid < len(self.offsets):
            raise BTFError(f"type id {tid} out of range")
        base = self.offsets[tid]
        info = self.words[base + 1]
        return (info >> 24) & 31, info & 0xFFFF, info >> 31, self.words[base + 2]

    def kind(self, tid: int) -> int:
        return (self.words[self.offsets[tid] + 1] >> 24) & 31

    def name_off(self, tid: int) -> int:
        return self.words[self.offsets[tid]]

    def name(self, tid: int) -> str:
        return self.string(self.name_off(tid)) if tid else ""

    def items(self, tid: int, width: int) -> list[tuple[int, ...]]:
        """The vlen items after a type's fixed part, `width` words each."""
        kind, vlen, _, _ = self.info(tid)
        start = self.offsets[tid] + 3 + _FIXED[kind]
        words = self.words
        return [tuple(words[start + j * width : start + (j + 1) * width]) for j in range(vlen)]

    def extra(self, tid: int) -> int:
        """The single word after the header (INT encoding, VAR linkage)."""
        return self.words[self.offsets[tid] + 3]


class TypeDecoder:
    """BTF type ids to `ctypes` values, memoised per id."""

    def __init__(self, blob: BTFBlob):
        self.blob = blob
        self._types: dict[int, CType] = {}
        self._records: dict[int, Optional[CRecord]] = {}
        self._enums: dict[int, Optional[CEnum]] = {}

    def ctype(self, tid: int, depth: int = 0) -> CType:
        cached = self._types.get(tid)
        if cached is None:
            cached = self._types[tid] = self._decode(tid, depth)
        return cached

    def _decode(self, tid: int, depth: int) -> CType:
        if tid == 0:
            return CVoid()
        if depth > _MAX_CHAIN:
            return CUnsupported("type chain too deep")
        blob = self.blob
        kind, vlen, kflag, size_or_type = blob.info(tid)
        if kind == INT:
            return self._int(tid, size_or_type)
        if kind == PTR:
            if size_or_type and self._strip(size_or_type, depth) == FUNC_PROTO:
                return CFunctionPointer()
            return CPointer(self.ctype(size_or_type, depth + 1))
        if kind == ARRAY:
            base = blob.offsets[tid] + 3
            element, _index, length = blob.words[base : base + 3]
            return CArray(self.ctype(element, depth + 1), length)
        if kind in (STRUCT, UNION, FWD):
            record_kind = "union" if kind == UNION or (kind == FWD and kflag) else "struct"
            name = blob.name(tid)
            return CRecordRef(record_kind, name, None if name else tid)
        if kind in (ENUM, ENUM64):
            name = blob.name(tid)
            return CEnumRef(name, size_or_type, None if name else tid)
        if kind == TYPEDEF:
            target = self.ctype(size_or_type, depth + 1)
            if isinstance(target, CInt):
                # Keep the typedef's name for display ("pid_t", "u64").
                return replace(target, name=blob.name(tid))
            return target
        if kind in _MODIFIERS:  # const, volatile, restrict, type tags
            return self.ctype(size_or_type, depth + 1)
        if kind == FLOAT:
            return CUnsupported(blob.name(tid) or "float")
        if kind == FUNC_PROTO:
            return CUnsupported("function")
        return CUnsupported(f"BTF kind {kind}")

    def _strip(self, tid: int, depth: int) -> int:
        """The kind under a chain of typedefs and qualifiers."""
        for _ in range(_MAX_CHAIN - depth):
            if tid == 0:
                return 0
            kind, _, _, target = self.blob.info(tid)
            if kind not in _MODIFIERS:
                return kind
            tid = target
        return 0

    def _int(self, tid: int, size: int) -> CType:
        name = self.blob.name(tid)
        encoding = self.blob.extra(tid)
        if size not in (1, 2, 4, 8):
            return CUnsupported(name or f"int{size * 8}")
        flags = encoding >> 24
        is_char = size == 1 and (bool(flags & _INT_CHAR) or name in _CHAR_NAMES)
        # `char` is signed on the architectures bpftrace supports; BTF marks
        # it CHAR without SIGNED, so take the sign from the name there.
        signed = bool(flags & _INT_SIGNED) or name in ("char", "signed char")
        return CInt(size, signed, name, is_char=is_char, is_bool=bool(flags & _INT_BOOL))

    def record(self, tid: int) -> Optional[CRecord]:
        if tid in self._records:
            return self._records[tid]
        record = None
        kind, _, kflag, size = self.blob.info(tid)
        if kind in (STRUCT, UNION):
            fields = [self._field(m, kflag) for m in self.blob.items(tid, 3)]
            record = CRecord("union" if kind == UNION else "struct", self.blob.name(tid), size,
                             tuple(fields))  # fmt: skip
        self._records[tid] = record
        return record

    def _field(self, member: tuple[int, ...], kflag: int) -> CField:
        name_off, tid, offset = member
        ctype = self.ctype(tid)
        bits = 0
        if kflag:  # offset packs (bitfield size << 24) | bit offset
            bits, bit_pos = offset >> 24, offset & 0xFFFFFF
        else:
            bit_pos = offset
            bits, bit_pos = self._legacy_bitfield(tid, bit_pos)
        if bits:
            return CField(self.blob.string(name_off), ctype, bit_pos // 8, bits, bit_pos % 8)
        return CField(self.blob.string(name_off), ctype, bit_pos // 8)

    def _legacy_bitfield(self, tid: int, bit_pos: int) -> tuple[int, int]:
        """Bitfields without kind_flag: the INT encoding carries the width."""
        for _ in range(_MAX_CHAIN):
            if tid == 0:
                break
            kind, _, _, target = self.blob.info(tid)
            if kind == INT:
                encoding = self.blob.extra(tid)
                nr_bits, int_offset = encoding & 0xFF, (encoding >> 16) & 0xFF
                if nr_bits and nr_bits != target * 8:
                    return nr_bits, bit_pos + int_offset
                break
            if kind not in _MODIFIERS:
                break
            tid = target
        return 0, bit_pos

    def enum(self, tid: int) -> Optional[CEnum]:
        if tid in self._enums:
            return self._enums[tid]
        kind, _, kflag, size = self.blob.info(tid)
        result = None
        if kind == ENUM:
            values = []
            for name_off, raw in self.blob.items(tid, 2):
                value = raw - (1 << 32) if kflag and raw >= 1 << 31 else raw
                values.append((self.blob.string(name_off), value))
            result = CEnum(self.blob.name(tid), size, bool(kflag), tuple(values))
        elif kind == ENUM64:
            values = []
            for name_off, lo, hi in self.blob.items(tid, 3):
                raw = lo | hi << 32
                value = raw - (1 << 64) if kflag and raw >= 1 << 63 else raw
                values.append((self.blob.string(name_off), value))
            result = CEnum(self.blob.name(tid), size, bool(kflag), tuple(values))
        self._enums[tid] = result
        return result

    def function(self, tid: int) -> Optional[CFunction]:
        kind, _, _, proto = self.blob.info(tid)
        if kind != FUNC or not proto or self.blob.info(proto)[0] != FUNC_PROTO:
            return None
        return_tid = self.blob.info(proto)[3]
        params = []
        for name_off, ptid in self.blob.items(proto, 2):
            if ptid == 0:  # a trailing `...`
                continue
            params.append((self.blob.string(name_off), self.ctype(ptid)))
        return CFunction(self.blob.name(tid), self.ctype(return_tid), tuple(params))


def map_file(path: str):
    """(the file's bytes, its stat): a private read-only mapping when the
    file allows it (sysfs BTF does since Linux 6.16, and then costs nothing
    to "read"), else the whole content."""
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        if st.st_size > 0:
            try:
                return mmap.mmap(f.fileno(), 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ), st
            except (OSError, ValueError, AttributeError):
                pass
        return f.read(), st
