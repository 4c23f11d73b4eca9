"""C types for the analyser: from kernel facts, the script's own C
definitions and tracepoint formats, to bpftrace types.

`TypeContext` is the analyser's single source of C type knowledge. It turns
the kernel-neutral C model (compiler.kernel.ctypes) into bpftrace types,
looks up struct fields (through anonymous members, as C does), and resolves
the type names a script writes (`uint64`, `pid_t`, `struct task_struct *`).

An answer of UNKNOWN means "not known here" and never causes an error; a
`Missing` answer means the source of facts is authoritative and the thing
really does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

from ..kernel import ctypes as C
from ..kernel.facts import KernelFacts
from . import types as T

# bpftrace's own type names (ast.BUILTIN_TYPE_NAMES lists the same words).
_BUILTIN_TYPES: dict[str, T.Type] = {
    "bool": T.BOOL, "void": T.VOID,
    "int8": T.INT8, "int16": T.INT16, "int32": T.INT32, "int64": T.INT64,
    "uint8": T.UINT8, "uint16": T.UINT16, "uint32": T.UINT32, "uint64": T.UINT64,
    "string": T.String(0), "buffer": T.Buffer(0), "inet": T.Inet(),
    "count_t": T.Aggregation("count", False), "sum_t": T.Aggregation("sum"),
    "usum_t": T.Aggregation("sum", False), "min_t": T.Aggregation("min"),
    "umin_t": T.Aggregation("min", False), "max_t": T.Aggregation("max"),
    "umax_t": T.Aggregation("max", False), "avg_t": T.Aggregation("avg"),
    "uavg_t": T.Aggregation("avg", False), "stats_t": T.Aggregation("stats"),
    "ustats_t": T.Aggregation("stats", False), "hist_t": T.Aggregation("hist"),
    "lhist_t": T.Aggregation("lhist"), "tseries_t": T.Aggregation("tseries"),
    "timestamp": T.TIMESTAMP, "macaddr_t": T.MACADDR, "cgroup_path_t": T.CGROUP_PATH,
    "username_t": T.USERNAME, "ksym_t": T.KSYM, "usym_t": T.USYM,
    "kstack_t": T.KSTACK, "ustack_t": T.USTACK,
}  # fmt: skip


_CHAR_NAMES = ("", "char", "signed char", "const char")


@dataclass(frozen=True)
class Missing:
    """An authoritative "no such thing"; `known` lists what does exist."""

    known: tuple[str, ...] = ()


Lookup = Union[T.Type, Missing]


class TypeContext:
    def __init__(self, facts: KernelFacts) -> None:
        self.facts = facts
        # Records the script defines or the analyser synthesises (tracepoint
        # args): they win over kernel facts, as clang's would.
        self.local_records: dict[tuple[str, str], C.CRecord] = {}
        self._anonymous: dict[object, C.CRecordRef] = {}

    # ------------------------------------------------------- conversion

    def from_ctype(self, c: C.CType) -> T.Type:
        if isinstance(c, C.CInt):
            if c.is_bool:
                return T.BOOL
            return T.Int(c.size * 8, c.signed)
        if isinstance(c, C.CPointer):
            return T.Pointer(self.from_ctype(c.target))
        if isinstance(c, C.CArray):
            element = c.element
            if isinstance(element, C.CInt) and element.is_char and element.name in _CHAR_NAMES:
                # bpftrace reads char[N] as a string; u8[N] stays an array.
                return T.String(c.length)
            return T.Array(self.from_ctype(element), c.length)
        if isinstance(c, C.CRecordRef):
            if not c.name:
                self._anonymous[c.key] = c
            record = self._record_model(c)
            return T.CRecord(c.kind, c.name, record.size if record else 0, None if c.name else c.key)
        if isinstance(c, C.CEnumRef):
            return T.Int(c.size * 8, False, enum=c.name or None)
        if isinstance(c, C.CFunctionPointer):
            return T.Pointer(T.VOID)
        if isinstance(c, C.CVoid):
            return T.VOID
        return T.UNKNOWN

    # ---------------------------------------------------------- records

    def _record_model(self, ref: C.CRecordRef) -> Optional[C.CRecord]:
        if ref.name and (ref.kind, ref.name) in self.local_records:
            return self.local_records[(ref.kind, ref.name)]
        return self.facts.record_of(ref) if ref.name or ref.key is not None else None

    def record(self, t: T.CRecord) -> Optional[C.CRecord]:
        """The fields of a C record type, or None when unknown."""
        if t.name:
            return self._record_model(C.CRecordRef(t.kind, t.name))
        ref = self._anonymous.get(t.key)
        return self._record_model(ref) if ref else None

    def record_exists(self, kind: str, name: str) -> Lookup:
        """The type `struct name`: a CRecord, UNKNOWN, or Missing."""
        model = self._record_model(C.CRecordRef(kind, name))
        if model is not None:
            return T.CRecord(kind, name, model.size)
        if self.facts.has_types:
            return Missing()
        return T.CRecord(kind, name, 0)

    def field(self, t: T.CRecord, name: str) -> Lookup:
        """The type of `t.name`: the field's type, UNKNOWN, or Missing."""
        model = self.record(t)
        if model is None:
            return T.UNKNOWN
        found = self._find_field(model, name)
        if found is None:
            return Missing(tuple(f.name for f in model.fields if f.name))
        return self.from_ctype(found.type)

    def _find_field(self, model: C.CRecord, name: str) -> Optional[C.CField]:
        located = self._locate(model, name, 0, 0)
        return located[1] if located else None

    def _locate(self, model: C.CRecord, name: str, base: int, depth: int) -> Optional[tuple[int, C.CField]]:
        """The field `name` and its offset from the start of the record."""
        direct = model.field(name)
        if direct is not None:
            return base + direct.offset, direct
        if depth > 8:
            return None
        # C lets you name a field of an anonymous member struct or union.
        for member in model.fields:
            if not member.name and isinstance(member.type, C.CRecordRef):
                inner = self._record_model(member.type)
                found = inner and self._locate(inner, name, base + member.offset, depth + 1)
                if found:
                    return found
        return None

    def field_location(self, t: T.CRecord, name: str) -> Optional[tuple[int, C.CField]]:
        """Where `t.name` is: its byte offset in the record, and the field."""
        model = self.record(t)
        return self._locate(model, name, 0, 0) if model is not None else None

    def offset_of(self, t: T.CRecord, path: list[str]) -> Optional[int]:
        """Byte offset of a (nested) field path, or None when unknown."""
        offset = 0
        current: T.Type = t
        for name in path:
            if not isinstance(current, T.CRecord):
                return None
            located = self.field_location(current, name)
            if not located:
                return None
            offset += located[0]
            current = self.from_ctype(located[1].type)
        return offset

    # ------------------------------------------------------------ names

    def named_type(self, name: str) -> Lookup:
        """A type written as a bare name: bpftrace's own, or a typedef."""
        if name in _BUILTIN_TYPES:
            return _BUILTIN_TYPES[name]
        target = self.facts.typedef(name)
        if target is not None:
            return self.from_ctype(target)
        if self.facts.has_types:
            return Missing()
        return T.UNKNOWN

    def enumerator(self, name: str) -> Optional[T.Type]:
        """The type of a bare enum value such as TASK_RUNNING."""
        found = self.facts.enumerator(name)
        if found is None:
            return None
        enum, _ = found
        return T.Int(enum.size * 8, enum.signed, enum=enum.name)

    def define_record(self, record: C.CRecord) -> T.CRecord:
        self.local_records[(record.kind, record.name)] = record
        return T.CRecord(record.kind, record.name, record.size)
