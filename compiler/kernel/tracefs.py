"""Tracepoints from tracefs: where tracefs is, which tracepoints exist, and
what their `format` files say, as `ctypes.Tracepoint` values.

A format file lists each field as a C declaration plus its offset, size and
signedness (`field:unsigned short common_type; offset:0; size:2; signed:0;`).
The declaration's type is parsed here without a C compiler: C's own integer
names and the kernel's fixed-width typedefs are known; other typedef names
(`umode_t`, `gfp_t`) are resolved by a caller-supplied function (BTF) when
there is one. For scalars the file's size and sign win over the declared
type, as bpftrace does: syscall tracepoints declare `int dfd` but store it
in 8 bytes.

The `common_*` fields (type, flags, preempt count, pid) stay in
`Tracepoint.fields`, because bpftrace's `args` struct has them too (at HEAD
`args.common_pid` compiles); `is_common()` tells them apart, and listing
hides them as `bpftrace -lv` does.

Nothing here raises on a missing or odd file: the result is None or empty.
"""

from __future__ import annotations

import ctypes as _libc
import os
import re
from typing import Callable, Optional

from .ctypes import (
    CArray, CEnumRef, CField, CInt, CPointer, CRecordRef, CType, CUnsupported, CVoid, Tracepoint,
)  # fmt: skip

TRACEFS_DIRS = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")
COMMON_PREFIX = "common_"

Resolver = Callable[[str], Optional[CType]]

# C's integer spellings and the kernel's fixed-width typedefs: (size, signed).
_KNOWN_INTS = {
    "char": (1, True), "signed char": (1, True), "unsigned char": (1, False),
    "short": (2, True), "short int": (2, True), "signed short": (2, True),
    "unsigned short": (2, False), "short unsigned int": (2, False),
    "unsigned short int": (2, False),
    "int": (4, True), "signed": (4, True), "signed int": (4, True),
    "unsigned": (4, False), "unsigned int": (4, False), "uint": (4, False),
    "long": (8, True), "long int": (8, True), "signed long": (8, True),
    "unsigned long": (8, False), "long unsigned int": (8, False), "unsigned long int": (8, False),
    "long long": (8, True), "long long int": (8, True),
    "unsigned long long": (8, False), "long long unsigned int": (8, False),
    "bool": (1, False), "_Bool": (1, False),
    "size_t": (8, False), "ssize_t": (8, True), "pid_t": (4, True), "uid_t": (4, False),
    "gid_t": (4, False), "loff_t": (8, True), "off_t": (8, True),
}  # fmt: skip
for _bits in (8, 16, 32, 64):
    for _signed, _prefixes in ((True, ("s", "__s", "int")), (False, ("u", "__u", "uint"))):
        for _prefix in _prefixes:
            _name = f"{_prefix}{_bits}" + ("_t" if "int" in _prefix else "")
            _KNOWN_INTS[_name] = (_bits // 8, _signed)

# Words that qualify a type without changing what it is.
_QUALIFIERS = {"const", "volatile", "restrict", "__user", "__iomem", "__rcu", "__percpu",
               "__seg_gs", "__seg_fs", "__force"}  # fmt: skip
_FIELD_RE = re.compile(r"field:(?P<decl>[^;]*);\s*offset:(?P<offset>\d+);\s*size:(?P<size>\d+);"
                       r"(?:\s*signed:(?P<signed>-?\d+);)?")  # fmt: skip
# The last identifier is the name (`const void*p` has no space before it),
# then an optional array length; everything before is the type.
_DECL_RE = re.compile(r"^(?P<type>.*?)(?P<name>[A-Za-z_]\w*)\s*(?:\[(?P<length>[^\]]*)\])?$")


def find_tracefs() -> Optional[str]:
    """The mounted tracefs directory, or None."""
    for path in TRACEFS_DIRS:
        if os.path.isfile(os.path.join(path, "available_events")) or os.path.isdir(
            os.path.join(path, "events")
        ):
            return path
    return None


def mount_tracefs(target: str = TRACEFS_DIRS[0]) -> bool:
    """Mount tracefs at `target` (root only). Separate from `find_tracefs`
    so that mounting, a change to the system, happens only when a caller
    asks, and at most once per process (LiveFacts makes sure of that)."""
    if os.geteuid() != 0 or not os.path.isdir(target):
        return False
    try:
        libc = _libc.CDLL(None, use_errno=True)
        ok = libc.mount(b"nodev", target.encode(), b"tracefs", 0, None) == 0
    except (OSError, AttributeError):
        return False
    return ok and find_tracefs() is not None


def list_tracepoints(root: str) -> list[tuple[str, str]]:
    """Every (category, event), from available_events (one read), else
    from the events/*/* directories that have a format file."""
    try:
        with open(os.path.join(root, "available_events"), errors="replace") as f:
            text = f.read()
        pairs = [tuple(line.split(":", 1)) for line in text.split() if ":" in line]
        return sorted(set(pairs))  # type: ignore[arg-type]
    except OSError:
        pass
    events = os.path.join(root, "events")
    found = []
    try:
        for category in os.scandir(events):
            if not category.is_dir():
                continue
            for event in os.scandir(category.path):
                if os.path.isfile(os.path.join(event.path, "format")):
                    found.append((category.name, event.name))
    except OSError:
        pass
    return sorted(found)


def format_path(root: str, category: str, event: str) -> Optional[str]:
    # Names come from scripts: refuse anything that could leave events/.
    for part in (category, event):
        if not part or "/" in part or part in (".", "..") or "\0" in part:
            return None
    return os.path.join(root, "events", category, event, "format")


def read_format(root: str, category: str, event: str) -> Optional[str]:
    path = format_path(root, category, event)
    if path is None:
        return None
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return None


def read_tracepoint(root: str, category: str, event: str,
                    resolve: Optional[Resolver] = None) -> Optional[Tracepoint]:  # fmt: skip
    text = read_format(root, category, event)
    return None if text is None else parse_format(text, category, event, resolve)


def is_common(field: CField) -> bool:
    """A field every tracepoint has (`common_pid`, ...), hidden by `-lv`."""
    return field.name.startswith(COMMON_PREFIX)


def parse_format(text: str, category: str, event: str,
                 resolve: Optional[Resolver] = None) -> Optional[Tracepoint]:  # fmt: skip
    """A format file's fields; None when it has no field lines at all."""
    fields = []
    for line in text.splitlines():
        match = _FIELD_RE.search(line)
        if not match:
            continue
        signed = match["signed"]
        field = parse_field(match["decl"], int(match["offset"]), int(match["size"]),
                            None if signed is None else signed == "1", resolve)  # fmt: skip
        if field is not None:
            fields.append(field)
    return Tracepoint(category, event, tuple(fields)) if fields else None


def declarations(text: str) -> list[str]:
    """The declarations `bpftrace -lv` prints: the field lines after the
    first blank line of the format, which is where the common fields end."""
    lines = text.splitlines()
    try:
        start = lines.index("", lines.index("format:") if "format:" in lines else 0)
    except ValueError:
        return []
    return [m["decl"].strip() for m in map(_FIELD_RE.search, lines[start:]) if m]


def parse_field(decl: str, offset: int, size: int, signed: Optional[bool],
                resolve: Optional[Resolver] = None) -> Optional[CField]:  # fmt: skip
    match = _DECL_RE.match(" ".join(decl.split()))
    if match is None:
        return None
    type_text, name = match["type"].strip(), match["name"]
    if "__data_loc" in type_text:
        # A u32 holding (length << 16 | offset) of data after the record.
        return CField(name, CInt(size or 4, bool(signed), type_text), offset)
    length: Optional[int] = None
    if match["length"] is not None:
        length = int(match["length"]) if match["length"].strip().isdigit() else 0
    if not name or not type_text:
        return None
    if length is not None:
        element = parse_type(type_text, None, None, resolve)
        if isinstance(element, CInt) and length and size and size % length == 0:
            element_size = size // length
            if element_size != element.size:  # trust the recorded size
                element = CInt(element_size, element.signed, element.name, element.is_char)
        return CField(name, CArray(element, length), offset)
    return CField(name, parse_type(type_text, size, signed, resolve), offset)


def parse_type(text: str, size: Optional[int], signed: Optional[bool],
               resolve: Optional[Resolver] = None) -> CType:  # fmt: skip
    """A declaration's type. `size` and `signed` (from the format file)
    override an integer's own when given."""
    words = text.replace("*", " * ").split()
    pointers = words.count("*")
    base = " ".join(w for w in words if w != "*" and w not in _QUALIFIERS)
    if pointers:
        target: CType = _base_type(base, None, None, resolve, in_pointer=True)
        for _ in range(pointers):
            target = CPointer(target)
        return target
    return _base_type(base, size, signed, resolve)


def _base_type(base: str, size: Optional[int], signed: Optional[bool],
               resolve: Optional[Resolver], in_pointer: bool = False) -> CType:  # fmt: skip
    if base in ("void", ""):
        return CVoid()
    keyword, _, tag = base.partition(" ")
    if keyword in ("struct", "union") and tag:
        return CRecordRef(keyword, tag)
    if keyword == "enum" and tag:
        return CEnumRef(tag, size or 4)
    known = _KNOWN_INTS.get(base)
    if known is None and resolve is not None:
        try:
            resolved = resolve(base)
        except Exception:  # a resolver must never break parsing
            resolved = None
        if resolved is not None:
            if not isinstance(resolved, CInt):
                return resolved
            known = (resolved.size, resolved.signed)
    if known is None:
        if in_pointer or not size:
            return CUnsupported(base)
        known = (size, bool(signed))
    own_size, own_signed = known
    size = size or own_size
    signed = own_signed if signed is None else signed
    name = base
    if size != own_size:  # `int dfd` stored in 8 bytes is not an int
        name = f"{'' if signed else 'u'}int{size * 8}"
    is_char = size == 1 and base in ("char", "signed char", "unsigned char")
    return CInt(size, signed, name, is_char=is_char, is_bool=base in ("bool", "_Bool"))

