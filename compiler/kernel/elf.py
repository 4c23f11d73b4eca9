"""User-space binaries: ELF function symbols, USDT notes, and the path a
uprobe/usdt target such as `libc` or `bash` stands for.

The ELF reading is a small struct-based reader of the ELF and section
headers, the symbol tables and the note section. pyelftools could do it,
but importing it costs about 75 ms, more than reading libc's symbols this
way; the tests use pyelftools as the oracle instead.

Symbols are those bpftrace can put a uprobe on: FUNC (and GNU IFUNC)
entries of .symtab and .dynsym that are defined in the file. USDT probes
are the `stapsdt` notes (type 3) of `.note.stapsdt`: provider, name,
the argument spec string (`-4@%edi 8@-16(%rbp)`), and the addresses.

Library names resolve the way bpftrace does (through BCC): `libc` (or
`libc.so.6`) is looked up in /etc/ld.so.cache, keeping only libraries of
this machine's architecture, then in the usual library directories.
Nothing here raises on a missing or malformed file.
"""

from __future__ import annotations

import mmap
import os
import struct
import sys
import sysconfig
from typing import NamedTuple, Optional

ELF_MAGIC = b"\x7fELF"
SHT_SYMTAB, SHT_NOTE, SHT_DYNSYM = 2, 7, 11
STT_FUNC, STT_GNU_IFUNC = 2, 10
NT_STAPSDT = 3
LD_SO_CACHE = "/etc/ld.so.cache"
_NEW_CACHE_MAGIC = b"glibc-ld.so.cache1.1"


class USDTProbe(NamedTuple):
    provider: str
    name: str
    arguments: str  # the note's argument spec, as the compiler wrote it
    pc: int
    base: int  # the .stapsdt.base address the note was linked against
    semaphore: int  # 0 when the probe has no semaphore


class _Elf:
    """The headers of one ELF file, over an mmap of it."""

    def __init__(self, data):
        if data[:4] != ELF_MAGIC or data[4] not in (1, 2) or data[5] not in (1, 2):
            raise ValueError("not an ELF file")
        self.data = data
        self.is64 = data[4] == 2
        self.order = "<" if data[5] == 1 else ">"
        o = self.order
        if self.is64:
            e_type, self.machine = struct.unpack_from(o + "HH", data, 16)
            shoff, = struct.unpack_from(o + "Q", data, 40)
            shentsize, shnum, shstrndx = struct.unpack_from(o + "HHH", data, 58)
            self._sh = struct.Struct(o + "IIQQQQIIQQ")
        else:
            e_type, self.machine = struct.unpack_from(o + "HH", data, 16)
            shoff, = struct.unpack_from(o + "I", data, 32)
            shentsize, shnum, shstrndx = struct.unpack_from(o + "HHH", data, 46)
            self._sh = struct.Struct(o + "IIIIIIIIII")
        self.type = e_type
        self.sections = []
        if shoff and shentsize >= self._sh.size:
            first = self._header(shoff)
            shnum = shnum or first[5]  # > 0xff00 sections: the count is in section 0
            if shstrndx == 0xFFFF:
                shstrndx = first[6]
            self.sections = [self._header(shoff + i * shentsize) for i in range(shnum)]
        self.names_section = shstrndx if 0 <= shstrndx < len(self.sections) else None

    def _header(self, at: int) -> tuple:
        # (name, type, flags, addr, offset, size, link, info, align, entsize)
        return self._sh.unpack_from(self.data, at)

    def section_bytes(self, index: int) -> bytes:
        _, sh_type, _, _, offset, size, *_ = self.sections[index]
        if sh_type == 8 or offset + size > len(self.data):  # SHT_NOBITS, or truncated
            return b""
        return self.data[offset : offset + size]

    def section_name(self, index: int) -> str:
        if self.names_section is None:
            return ""
        return _cstring(self.section_bytes(self.names_section), self.sections[index][0])


def _cstring(table: bytes, off: int) -> str:
    end = table.find(b"\0", off)
    return table[off : end if end >= 0 else len(table)].decode("utf-8", "replace")


def _open(path: str) -> Optional[_Elf]:
    try:
        with open(path, "rb") as f:
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        return _Elf(data)
    except (OSError, ValueError, struct.error, IndexError):
        return None


def is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == ELF_MAGIC
    except OSError:
        return False


def function_symbols(path: str) -> list[str]:
    """Names of the functions defined in an ELF file, sorted, unique."""
    elf = _open(path)
    if elf is None:
        return []
    names: set[str] = set()
    try:
        entry = struct.Struct(elf.order + ("IBBHQQ" if elf.is64 else "IIIBBH"))
        for index, header in enumerate(elf.sections):
            if header[1] not in (SHT_SYMTAB, SHT_DYNSYM) or not 0 < header[6] < len(elf.sections):
                continue
            table, strings = elf.section_bytes(index), elf.section_bytes(header[6])
            table = table[: len(table) - len(table) % entry.size]
            for sym in entry.iter_unpack(table):
                if elf.is64:
                    name_off, info, _, shndx, _, _ = sym
                else:
                    name_off, _, _, info, _, shndx = sym
                if info & 0xF in (STT_FUNC, STT_GNU_IFUNC) and shndx != 0 and name_off:
                    names.add(_cstring(strings, name_off))
    except (struct.error, IndexError, ValueError):
        pass
    names.discard("")
    return sorted(names)


def usdt_probes(path: str) -> list[USDTProbe]:
    """The USDT probes of an ELF file, in note order."""
    elf = _open(path)
    if elf is None:
        return []
    probes = []
    try:
        for index, header in enumerate(elf.sections):
            if header[1] == SHT_NOTE and elf.section_name(index) == ".note.stapsdt":
                probes.extend(_stapsdt_notes(elf, elf.section_bytes(index)))
    except (struct.error, IndexError, ValueError):
        pass
    return probes


def _stapsdt_notes(elf: _Elf, notes: bytes) -> list[USDTProbe]:
    found = []
    pos, word = 0, elf.order + ("QQQ" if elf.is64 else "III")
    addresses = struct.calcsize(word)
    while pos + 12 <= len(notes):
        namesz, descsz, note_type = struct.unpack_from(elf.order + "III", notes, pos)
        name_at = pos + 12
        desc_at = name_at + _align4(namesz)
        pos = desc_at + _align4(descsz)
        if pos > len(notes):
            break
        if note_type != NT_STAPSDT or notes[name_at : name_at + namesz].rstrip(b"\0") != b"stapsdt":
            continue
        desc = notes[desc_at : desc_at + descsz]
        if len(desc) < addresses:
            continue
        pc, base, semaphore = struct.unpack_from(word, desc)
        strings = desc[addresses:].split(b"\0")
        if len(strings) < 3:
            continue
        provider, name, arguments = (s.decode("utf-8", "replace") for s in strings[:3])
        found.append(USDTProbe(provider, name, arguments, pc, base, semaphore))
    return found


def _align4(n: int) -> int:
    return (n + 3) & ~3


# -- resolving targets ------------------------------------------------------


def resolve_target(target: str) -> list[str]:
    """The files a uprobe/usdt target names: a path (containing '/'), a
    library (`libc`, `libc.so.6`), or a program found on $PATH (as
    bpftrace does, the name itself relative to the current directory
    first). ELF files only."""
    if not target:
        return []
    if "/" in target:
        return [target] if is_elf(target) else []
    candidates = [target]
    if target.startswith("lib"):
        library = resolve_library(target)
        if library:
            return [library]
    for directory in os.environ.get("PATH", "").split(":"):
        if directory:
            candidates.append(os.path.join(directory, target))
    for path in candidates:
        if os.path.isfile(path) and is_elf(path):
            return [path]
    return []


def resolve_library(name: str) -> Optional[str]:
    """`libc` -> /lib/x86_64-linux-gnu/libc.so.6. A name with `.so` must
    match a file name exactly; a bare name matches `NAME.so*`."""
    if not name.startswith("lib"):
        name = "lib" + name

    def wanted(soname: str) -> bool:
        return soname == name if ".so" in name else soname.startswith(name + ".so")

    for soname, path in ld_so_cache():
        if wanted(soname) and _same_arch(path):
            return path
    for directory in _library_dirs():
        try:
            entries = sorted(os.listdir(directory))
        except OSError:
            continue
        for entry in entries:
            path = os.path.join(directory, entry)
            if wanted(entry) and _same_arch(path):
                return path
    return None


def ld_so_cache(path: str = LD_SO_CACHE) -> list[tuple[str, str]]:
    """(soname, path) entries of glibc's cache, in its order (the new
    format, alone or after the old one)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return []
    start = data.find(_NEW_CACHE_MAGIC)
    if start < 0 or start + 48 > len(data):
        return []
    count = struct.unpack_from("<I", data, start + 20)[0]
    entries = []
    for i in range(count):
        at = start + 48 + 24 * i
        if at + 24 > len(data):
            break
        _flags, key, value = struct.unpack_from("<iII", data, at)
        # String offsets are relative to the new header.
        soname, target = _cstring(data, start + key), _cstring(data, start + value)
        entries.append((soname, target))
    return entries


def _library_dirs() -> list[str]:
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    dirs = ["/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib"]
    if multiarch:
        dirs[2:2] = [f"/lib/{multiarch}", f"/usr/lib/{multiarch}"]
    return dirs


def _elf_identity(path: str) -> Optional[tuple[int, int, int]]:
    """(class, byte order, machine) of an ELF file."""
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError:
        return None
    if len(head) < 20 or head[:4] != ELF_MAGIC or head[5] not in (1, 2):
        return None
    machine = struct.unpack_from("<H" if head[5] == 1 else ">H", head, 18)[0]
    return head[4], head[5], machine


_HOST: list = []


def _same_arch(path: str) -> bool:
    """Whether a library could be loaded by processes like this one (a
    64-bit x86 machine often has 32-bit libraries in its cache too)."""
    if not _HOST:
        _HOST.append(_elf_identity(sys.executable) or _elf_identity("/proc/self/exe"))
    mine = _elf_identity(path)
    return mine is not None and (_HOST[0] is None or mine == _HOST[0])
