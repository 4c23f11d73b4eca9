"""Kernel BTF: the public face of the pure-Python reader.

`KernelBTF.open()` maps a BTF file (by default the running kernel's
/sys/kernel/btf/vmlinux), takes its name index from the on-disk cache or
builds it (btf_index.py), and answers lookups by name (records, enums,
enumerators, typedefs, functions) in the C type model of ctypes.py,
decoding only what is asked (btf_format.py).

Reading is lazy and indexed: a cold open walks the type section once
(about 125 ms for vmlinux); a cached open touches only the pages of the
index and of the types it decodes (a few ms).

`KernelBTF.open()` and every lookup return None (or an empty list) on a
missing or malformed file: the caller degrades to "no type facts".
"""

from __future__ import annotations

import struct
from typing import Optional

from . import btf_index
from .btf_format import VMLINUX, BTFBlob, BTFError, TypeDecoder, map_file
from .ctypes import CEnum, CFunction, CRecord, CType

__all__ = ["VMLINUX", "KernelBTF", "BTFError"]

_DAMAGE = (BTFError, IndexError, ValueError, struct.error)


class KernelBTF:
    """The public face: a BTF file, indexed by name, decoded on demand.

    Every method answers None (or an empty list) rather than raising when
    the blob turns out to be damaged where it is read.
    """

    def __init__(self, blob: BTFBlob, index, from_cache: bool = False):
        self.blob = blob
        self.index = index
        self.decoder = TypeDecoder(blob)
        self.from_cache = from_cache  # for tests and the bench
        self._names: dict[str, list[str]] = {}

    @classmethod
    def open(cls, path: str = VMLINUX, cache_dir: object = "default") -> Optional["KernelBTF"]:
        """Open a BTF file; `cache_dir` is a directory, "default" for
        $XDG_CACHE_HOME/btls (or ~/.cache/btls), or None for no cache."""
        if cache_dir == "default":
            cache_dir = btf_index.default_cache_dir()
        try:
            data, st = map_file(path)
            blob, index, from_cache = btf_index.open_index(data, path, cache_dir, st)
        except (OSError, TypeError, *_DAMAGE):
            return None
        return cls(blob, index, from_cache)

    def _first(self, group: str, name: str, decode):
        try:
            for tid in self.index.lookup(group, name):
                result = decode(tid)
                if result is not None:
                    return result
        except _DAMAGE:
            pass
        return None

    def record(self, kind: str, name: str) -> Optional[CRecord]:
        """A struct or union by name. Of several same-named definitions the
        first one with members wins (an empty one may be a stub)."""
        if kind not in ("struct", "union"):
            return None
        try:
            records = [r for r in map(self.decoder.record, self.index.lookup(kind, name)) if r]
        except _DAMAGE:
            return None
        return next((r for r in records if r.fields), records[0] if records else None)

    def record_by_id(self, tid: int) -> Optional[CRecord]:
        """An (anonymous) record by its type id, as `CRecordRef.key` holds it."""
        try:
            return self.decoder.record(tid)
        except _DAMAGE:
            return None

    def enum(self, name: str) -> Optional[CEnum]:
        return self._first("enum", name, self.decoder.enum)

    def enum_by_id(self, tid: int) -> Optional[CEnum]:
        try:
            return self.decoder.enum(tid)
        except _DAMAGE:
            return None

    def enumerator(self, name: str) -> Optional[tuple[CEnum, int]]:
        def find(tid):
            enum = self.decoder.enum(tid)
            for value_name, value in enum.values if enum else ():
                if value_name == name:
                    return enum, value
            return None

        return self._first("enumerator", name, find)

    def typedef(self, name: str) -> Optional[CType]:
        return self._first("typedef", name, self.decoder.ctype)

    def function(self, name: str) -> Optional[CFunction]:
        return self._first("func", name, self.decoder.function)

    def names(self, group: str) -> list[str]:
        """Sorted names of a group ("struct", "func", ...), memoised: listing
        asks for the 50k function names more than once."""
        if group not in self._names:
            try:
                self._names[group] = self.index.names(group)
            except _DAMAGE:
                self._names[group] = []
        return self._names[group]
