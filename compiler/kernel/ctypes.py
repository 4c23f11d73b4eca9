"""A small, kernel-neutral model of C types, as kernel facts describe them.

Structs and unions are referred to, not expanded: a field of type
`struct task_struct *` is a `CPointer` to a `CRecordRef`, and the record's
fields are fetched on demand with `KernelFacts.record()`. That keeps
self-referencing kernel types finite and lookups lazy. Typedefs are
resolved before they reach this model, except that a resolved type keeps
the typedef's name for display.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union


@dataclass(frozen=True)
class CVoid:
    pass


@dataclass(frozen=True)
class CInt:
    size: int  # bytes: 1, 2, 4 or 8
    signed: bool
    name: str = ""  # as C or BTF named it: "unsigned int", "pid_t"
    is_char: bool = False  # char arrays become strings in bpftrace
    is_bool: bool = False


@dataclass(frozen=True)
class CPointer:
    target: "CType"


@dataclass(frozen=True)
class CArray:
    element: "CType"
    length: int


@dataclass(frozen=True)
class CRecordRef:
    kind: str  # "struct" or "union"
    name: str  # "" for an anonymous record
    key: object = None  # what identifies an anonymous record to its source


@dataclass(frozen=True)
class CEnumRef:
    name: str
    size: int = 4
    key: object = None


@dataclass(frozen=True)
class CFunctionPointer:
    pass


@dataclass(frozen=True)
class CUnsupported:
    """A type bpftrace cannot use, such as a float."""

    description: str = ""


CType = Union[CVoid, CInt, CPointer, CArray, CRecordRef, CEnumRef, CFunctionPointer, CUnsupported]


@dataclass(frozen=True)
class CField:
    name: str
    type: CType
    offset: int  # bytes from the start of the record
    bitfield_bits: int = 0  # 0 unless a bitfield
    bit_offset: int = 0  # within the byte at `offset`, for bitfields


@dataclass(frozen=True)
class CRecord:
    kind: str
    name: str
    size: int
    fields: tuple[CField, ...]

    def field(self, name: str) -> Optional[CField]:
        for f in self.fields:
            if f.name == name:
                return f
        return None


@dataclass(frozen=True)
class CEnum:
    name: str
    size: int
    signed: bool
    values: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class CFunction:
    name: str
    return_type: CType
    params: tuple[tuple[str, CType], ...]


@dataclass(frozen=True)
class Tracepoint:
    """A tracepoint's format: the fields of its `args`."""

    category: str
    event: str
    fields: tuple[CField, ...]


def type_size(t: CType, records=None) -> int:
    """Bytes a C type takes (records need a lookup function)."""
    if isinstance(t, CInt):
        return t.size
    if isinstance(t, (CPointer, CFunctionPointer)):
        return 8
    if isinstance(t, CArray):
        return t.length * type_size(t.element, records)
    if isinstance(t, CEnumRef):
        return t.size
    if isinstance(t, CRecordRef) and records is not None:
        record = records(t)
        return record.size if record else 0
    return 0
