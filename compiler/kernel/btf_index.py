"""Name lookups over a BTF blob, and the on-disk cache that makes them fast
in a fresh process.

The index maps names to type ids for the kinds the analyser asks about by
name: structs, unions, enums (32 and 64 bit), typedefs, functions, and enum
members. Each group is two parallel u32 arrays, the names' string offsets
and the type ids, sorted by the name's bytes; a lookup is a binary search
that reads names straight out of the BTF string section. So the index is
small (a few hundred KB for vmlinux), needs no decoding to load, and can be
written to and read from disk as raw arrays.

The cache file also holds the per-id word offsets, so a cached open skips
the type-section walk entirely. It is keyed by the blob's identity: its
size and CRC-32, so a new kernel, or any edit to the file, gives a new
identity and the stale cache is rebuilt. Checksumming vmlinux's 5 MB costs
about 2 ms, half of a cached lookup, so the cache also records the file's
stamp (mtime, inode, device): while the stamp and size are unchanged the
stored checksum is trusted. After a reboot sysfs gives vmlinux a new
mtime; the checksum is then computed once, and the cache re-stamped.
"""

from __future__ import annotations

import mmap
import os
import struct
import zlib
from array import array
from bisect import bisect_left
from itertools import accumulate
from typing import NamedTuple, Optional

from .btf_format import ENUM, ENUM64, FUNC, STRUCT, TYPEDEF, UNION, BTFBlob, BTFError

# Group name -> the BTF kinds indexed under it. "enumerator" is special:
# its entries are enum members, and their ids are the enum's type id.
GROUPS = {
    "struct": (STRUCT,), "union": (UNION,), "enum": (ENUM, ENUM64),
    "typedef": (TYPEDEF,), "func": (FUNC,), "enumerator": (),
}  # fmt: skip

_MAGIC = b"BTLSBTFI"
_VERSION = 2
# magic, version, byte-order mark, crc32, blob size, stamp (mtime_ns, inode,
# device), type count, group count
_HEADER = struct.Struct("=8sIIIQqQQII")
_BOM = 0x01020304


class Identity(NamedTuple):
    crc: int  # CRC-32 of the whole blob
    size: int
    stamp: tuple[int, int, int]  # (mtime_ns, inode, device); zeros if unknown


def file_stamp(st: Optional[os.stat_result]) -> tuple[int, int, int]:
    return (st.st_mtime_ns, st.st_ino, st.st_dev) if st is not None else (0, 0, 0)


class NameIndex:
    """Sorted name -> type id tables, one per group."""

    def __init__(self, blob: BTFBlob, groups: dict):
        self.blob = blob
        self.groups = groups

    @classmethod
    def build(cls, blob: BTFBlob) -> "NameIndex":
        kinds = blob.kinds
        if kinds is None:  # offsets came from elsewhere: recompute kinds
            kinds = bytearray([0]) + bytes(blob.kind(t) for t in range(1, blob.count + 1))
        words, offsets = blob.words, blob.offsets
        by_kind = _ids_by_kind(kinds)
        strings = _string_table(blob)
        groups = {}
        for group, group_kinds in GROUPS.items():
            if group == "enumerator":
                name_offs, ids = _enumerators(blob, by_kind)
            else:
                ids = [t for kind in group_kinds for t in by_kind[kind]]
                name_offs = [words[offsets[t]] for t in ids]
            groups[group] = _sorted_group(blob, strings, name_offs, ids)
        return cls(blob, groups)

    def lookup(self, group: str, name: str) -> list[int]:
        """Type ids named `name` in a group, lowest id first."""
        table = self.groups.get(group)
        if table is None or not name:
            return []
        name_offs, ids = table
        want = name.encode("utf-8", "replace")
        string_bytes = self.blob.string_bytes
        position = bisect_left(range(len(ids)), want, key=lambda k: string_bytes(name_offs[k]))
        found = []
        while position < len(ids) and string_bytes(name_offs[position]) == want:
            found.append(ids[position])
            position += 1
        return sorted(found)

    def names(self, group: str) -> list[str]:
        """Every name in a group, sorted, without duplicates."""
        table = self.groups.get(group)
        if table is None:
            return []
        string = self.blob.string
        result = []
        for off in table[0]:
            name = string(off)
            if name and (not result or result[-1] != name):
                result.append(name)
        return result

    # -- the cache file ---------------------------------------------------

    def to_bytes(self, ident: Identity) -> bytes:
        offsets = self.blob.offsets
        head = _HEADER.pack(_MAGIC, _VERSION, _BOM, ident.crc, ident.size, *ident.stamp,
                            len(offsets), len(GROUPS))  # fmt: skip
        counts = array("I", (len(self.groups[g][1]) for g in GROUPS))
        parts = [head, counts.tobytes(), offsets.tobytes()]
        for group in GROUPS:
            name_offs, ids = self.groups[group]
            parts += [name_offs.tobytes(), ids.tobytes()]
        return b"".join(parts)

    @staticmethod
    def parse_header(raw) -> Optional[tuple[Identity, int, int]]:
        """(identity, type count, group count) of a cache file of our format."""
        if raw is None or len(raw) < _HEADER.size:
            return None
        magic, version, bom, crc, size, *stamp, n_offsets, n_groups = _HEADER.unpack_from(raw)
        if (magic, version, bom, n_groups) != (_MAGIC, _VERSION, _BOM, len(GROUPS)):
            return None
        return Identity(crc, size, tuple(stamp)), n_offsets, n_groups

    @staticmethod
    def parse_cache(raw, crc: int, size: int):
        """(offsets, groups) from a cache file's bytes, or None when it is
        for another blob, another format version, or damaged."""
        header = NameIndex.parse_header(raw)
        if header is None or (header[0].crc, header[0].size) != (crc, size):
            return None
        _, n_offsets, n_groups = header
        pos = _HEADER.size
        counts = _u32s(raw, pos, n_groups)
        pos += 4 * n_groups
        offsets = _u32s(raw, pos, n_offsets)
        pos += 4 * n_offsets
        groups = {}
        for group, count in zip(GROUPS, counts):
            name_offs = _u32s(raw, pos, count)
            ids = _u32s(raw, pos + 4 * count, count)
            pos += 8 * count
            groups[group] = (name_offs, ids)
        if pos != len(raw):
            return None
        return offsets, groups


def _u32s(raw, pos: int, count: int):
    """A zero-copy u32 view: with the cache file mapped, a lookup touches
    only the pages its binary search and decoding visit."""
    if pos + 4 * count > len(raw):
        raise BTFError("cache file truncated")
    return memoryview(raw)[pos : pos + 4 * count].cast("I")


def _string_table(blob: BTFBlob) -> dict[int, bytes]:
    """Every string of the string section by offset, in one C-speed pass."""
    section = bytes(blob.data[blob.str_start : blob.str_end])
    parts = section.split(b"\0")
    starts = accumulate(map((1).__add__, map(len, parts)), initial=0)
    return dict(zip(starts, parts))


def _ids_by_kind(kinds) -> list[list[int]]:
    """Type ids grouped by kind, ascending within a kind: one stable sort
    (C speed), where a filter pass per kind would cost several."""
    order = sorted(range(1, len(kinds)), key=kinds.__getitem__)
    groups, start = [], 0
    for kind in range(32):
        count = kinds.count(kind, 1)
        groups.append(order[start : start + count])
        start += count
    return groups


def _enumerators(blob: BTFBlob, by_kind) -> tuple[list[int], list[int]]:
    name_offs: list[int] = []
    ids: list[int] = []
    words, offsets = blob.words, blob.offsets
    for kind, width in ((ENUM, 2), (ENUM64, 3)):
        for tid in by_kind[kind]:
            base, vlen = offsets[tid] + 3, words[offsets[tid] + 1] & 0xFFFF
            name_offs.extend(words[base : base + width * vlen : width])
            ids.extend([tid] * vlen)
    return name_offs, ids


def _sorted_group(blob, strings, name_offs, ids) -> tuple[array, array]:
    # A name offset that is not the start of a string (legal, if unusual)
    # falls back to reading the string section.
    names = list(map(strings.get, name_offs))
    if None in names:
        names = [blob.string_bytes(o) if n is None else n for o, n in zip(name_offs, names)]
    order = sorted(range(len(ids)), key=names.__getitem__)
    return array("I", [name_offs[k] for k in order]), array("I", [ids[k] for k in order])


def default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "btls")


def cache_path(cache_dir: str, blob_path: str) -> str:
    """One cache file per blob path; the identity inside says if it is
    current, so a changed blob overwrites its old cache instead of piling up."""
    tag = zlib.crc32(os.path.abspath(blob_path).encode("utf-8", "replace"))
    return os.path.join(cache_dir, f"btf-{tag:08x}.idx")


def map_cache(path: str):
    """The cache file, mapped (None if absent or unreadable)."""
    try:
        with open(path, "rb") as f:
            return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None


def write_cache(path: str, index: NameIndex, ident: Identity) -> bool:
    """Write atomically (temp file + rename); a read-only home is not an error."""
    try:
        import tempfile  # only when writing: importing it costs milliseconds

        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".btf-", dir=os.path.dirname(path))
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(index.to_bytes(ident))
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        return True
    except OSError:
        return False


def open_index(data, blob_path: str, cache_dir: Optional[str],
               st: Optional[os.stat_result] = None) -> tuple[BTFBlob, NameIndex, bool]:  # fmt: skip
    """The blob and its index, from the cache when it matches. `st` is the
    blob file's stat. Returns (blob, index, came_from_cache). Raises
    BTFError on a malformed blob."""
    stamp = file_stamp(st)
    path = cache_path(cache_dir, blob_path) if cache_dir else None
    raw = map_cache(path) if path else None
    header = NameIndex.parse_header(raw)
    stored = header[0] if header else None
    trusted = (stored is not None and stamp != (0, 0, 0) and stored.stamp == stamp
               and stored.size == len(data))  # fmt: skip
    ident = Identity(stored.crc if trusted else zlib.crc32(data), len(data), stamp)
    try:
        cached = NameIndex.parse_cache(raw, ident.crc, ident.size) if raw is not None else None
    except (BTFError, struct.error, ValueError, TypeError):
        cached = None
    if cached is not None:
        offsets, groups = cached
        blob = BTFBlob(data, offsets)
        if offsets and offsets[-1] < len(blob.words):  # cheap sanity check
            index = NameIndex(blob, groups)
            if not trusted and path:  # same content, new stamp: re-stamp
                write_cache(path, index, ident)
            return blob, index, True
    blob = BTFBlob(data)
    index = NameIndex.build(blob)
    if path:
        write_cache(path, index, ident)
    return blob, index, False
