"""Where a program's instructions come from: the BTF line info of the
object, and what the verifier's log says about its failing instruction.

The codegen gives every instruction the line and column of the script
code it was made from (codegen/func_debuginfo.py), and LLVM writes them
to the object's .BTF.ext as line_info records: per ELF section, the byte
offset of an instruction, and the line and column of it and of the
instructions after it up to the next record. The kernel loads them with
the program and prints them in the verifier's log, above the
instructions:

    ; while (1) { @ script.bt:3
    14: (05) goto pc-1
    infinite loop detected at insn 14

The log gives the line only, and only when the log still holds the part
before the failing instruction (the kernel keeps the tail of a long log),
so the precise place is read from the object itself: the failing
instruction's index (from the log) is an offset into its program's
function, whose line_info record gives the line and the column.

Instruction indexes in the log are the program's as libbpf loads it: its
own function first (what is looked up here), then the static functions it
calls (callbacks), which libbpf appends; an index past the function is
not found here, and the log's own line is then the answer.

Pure Python and standard library: `btc` loads cached programs without the
codegen, and this must work there too.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Optional

_BTF_MAGIC = 0xEB9F
_SHT_SYMTAB = 2
_STT_FUNC = 2
_INSTRUCTION_BYTES = 8


@dataclass(frozen=True)
class LineInfo:
    instruction: int  # index in its function
    file: str
    line: int  # from 1
    column: int  # from 1 (0: not known); at most 1023
    text: str  # the source line, as BTF keeps it


def function_lines(obj: bytes, function: str) -> list[LineInfo]:
    """The line info records of `function` in the ELF object `obj`, in
    instruction order; [] when it has none or the object cannot be read."""
    try:
        return _function_lines(obj, function)
    except (struct.error, IndexError, ValueError, UnicodeDecodeError):
        return []


def line_at(obj: bytes, function: str, instruction: int) -> Optional[LineInfo]:
    """The line info of `function`'s instruction `instruction`: the last
    record at or before it, as the kernel finds it. None past the end of
    the function (an appended callback) or without line info."""
    records = function_lines(obj, function)
    if not records or instruction < 0:
        return None
    size = _function_size(obj, function)
    if size is not None and instruction >= size:
        return None
    found = None
    for record in records:
        if record.instruction > instruction:
            break
        found = record
    return found


# -- the verifier's log ----------------------------------------------------

_INSTRUCTION = re.compile(r"^(\d+): \(")  # "12: (79) r1 = *(u64 *)(r0 +0)"
_ANNOTATION = re.compile(r"^; (.*) @ (.*):(\d+)$")  # "; while (1) { @ script.bt:3"
_NAMED_INSTRUCTION = re.compile(r"\binsn (\d+)")  # "infinite loop detected at insn 14"
# Complaints about the whole program, made after its instructions were
# walked: the last instruction in the log is not their cause.
_WHOLE_PROGRAM = re.compile(r"combined stack size|func_info|line_info|\bBTF\b|too many subprograms", re.I)
# Lines of a log that say nothing about the failure.
_NOISE = re.compile(r"^(processed \d+ insns|verification time|stack depth|arg#\d+ reference type\(')")


def failing_instruction(log: str, reason: str) -> Optional[int]:
    """The index of the instruction the verifier refused, from its log and
    its complaint (`reason`, a line of the log): the one the complaint
    names, else the last instruction the log shows before it."""
    named = _NAMED_INSTRUCTION.search(reason)
    if named:
        return int(named.group(1))
    if not reason or _WHOLE_PROGRAM.search(reason):
        return None
    lines = log.splitlines()
    end = _last_index(lines, reason)
    for line in reversed(lines[:end]):
        match = _INSTRUCTION.match(line.strip())
        if match:
            return int(match.group(1))
    return None


def logged_line(log: str, instruction: Optional[int]) -> Optional[tuple[int, str]]:
    """(line, source text) of the log's last line annotation before the
    failing instruction's own line (or before the end), if the log has one."""
    lines = log.splitlines()
    end = len(lines)
    if instruction is not None:
        for index in range(len(lines) - 1, -1, -1):
            match = _INSTRUCTION.match(lines[index].strip())
            if match and int(match.group(1)) == instruction:
                end = index
                break
    for line in reversed(lines[:end]):
        match = _ANNOTATION.match(line.strip())
        if match:
            return int(match.group(3)), match.group(1)
    return None


def log_excerpt(log: str, reason: str, instruction: Optional[int] = None, most: int = 24) -> str:
    """The part of the log about the failure: from the source line above
    the failing instruction (or a few instructions before it) through the
    complaint and what the kernel said after it, without the statistics."""
    lines = [line.rstrip() for line in log.splitlines()]
    end = _last_index(lines, reason) if reason else len(lines)
    if end == 0:
        end = len(lines)
    start = max(0, end - most // 2)
    for index in range(end - 1, max(-1, end - most), -1):
        if _ANNOTATION.match(lines[index].strip()):
            start = index
            break
    after = [line for line in lines[end:] if line.strip() and not _NOISE.match(line.strip())]
    chosen = [line for line in lines[start:end] if line.strip() and not _NOISE.match(line.strip())] + after
    return "\n".join(chosen[-most:])


def _last_index(lines: list[str], wanted: str) -> int:
    """One past the last line equal to `wanted` (stripped), or 0."""
    wanted = wanted.strip()
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].strip() == wanted:
            return index + 1
    return 0


# -- ELF and BTF -------------------------------------------------------------


def _function_lines(obj: bytes, function: str) -> list[LineInfo]:
    sections = _sections(obj)
    symbol = _function_symbol(obj, sections, function)
    btf = sections.get(".BTF")
    ext = sections.get(".BTF.ext")
    if symbol is None or btf is None or ext is None:
        return []
    section_name, start, size = symbol
    strings = _btf_strings(obj, btf)
    magic, _version, _flags, header = struct.unpack_from("<HBBI", obj, ext[0])
    if magic != _BTF_MAGIC:
        return []
    _fi_off, _fi_len, li_off, li_len = struct.unpack_from("<IIII", obj, ext[0] + 8)
    position = ext[0] + header + li_off
    end = position + li_len
    (record_size,) = struct.unpack_from("<I", obj, position)
    position += 4
    found: list[LineInfo] = []
    while position + 8 <= end:
        name_offset, count = struct.unpack_from("<II", obj, position)
        position += 8
        here = strings(name_offset) == section_name
        for index in range(count):
            if here:
                record = position + index * record_size
                offset, file_offset, line_offset, line_col = struct.unpack_from("<IIII", obj, record)
                if start <= offset < start + size:
                    found.append(LineInfo(
                        (offset - start) // _INSTRUCTION_BYTES, strings(file_offset),
                        line_col >> 10, line_col & 0x3FF, strings(line_offset).strip(),
                    ))  # fmt: skip
        position += count * record_size
    return sorted(found, key=lambda record: record.instruction)


def _function_size(obj: bytes, function: str) -> Optional[int]:
    """The number of instructions of `function`, or None."""
    try:
        symbol = _function_symbol(obj, _sections(obj), function)
    except (struct.error, IndexError, ValueError, UnicodeDecodeError):
        return None
    return symbol[2] // _INSTRUCTION_BYTES if symbol is not None and symbol[2] else None


def _sections(obj: bytes) -> dict[str, tuple[int, int, int, int]]:
    """name -> (offset, size, type, link, index) of every section of a 64-bit
    little-endian ELF file (what LLVM's BPF backend writes)."""
    if obj[:4] != b"\x7fELF" or obj[4] != 2 or obj[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF object")
    (table,) = struct.unpack_from("<Q", obj, 0x28)
    entry_size, count, names_index = struct.unpack_from("<HHH", obj, 0x3A)
    headers = []
    for index in range(count):
        name, kind, _flags, _address, offset, size, link = struct.unpack_from(
            "<IIQQQQI", obj, table + index * entry_size
        )
        headers.append((name, kind, offset, size, link))
    names_offset = headers[names_index][2]
    result = {}
    for index, (name, kind, offset, size, link) in enumerate(headers):
        result[_c_string(obj, names_offset + name)] = (offset, size, kind, link, index)
    return result


def _function_symbol(obj: bytes, sections: dict, function: str) -> Optional[tuple[str, int, int]]:
    """(section name, byte offset in it, byte size) of function `function`."""
    by_index = {value[4]: name for name, value in sections.items()}
    symtab = next((value for value in sections.values() if value[2] == _SHT_SYMTAB), None)
    if symtab is None:
        return None
    offset, size, _kind, link, _index = symtab
    names = next(value for value in sections.values() if value[4] == link)
    for position in range(offset, offset + size, 24):
        name, info, _other, section, value, length = struct.unpack_from("<IBBHQQ", obj, position)
        if info & 0xF == _STT_FUNC and _c_string(obj, names[0] + name) == function:
            return by_index.get(section, ""), value, length
    return None


def _btf_strings(obj: bytes, btf: tuple):
    magic, _version, _flags, header = struct.unpack_from("<HBBI", obj, btf[0])
    if magic != _BTF_MAGIC:
        raise ValueError("not BTF")
    _type_off, _type_len, string_off, _string_len = struct.unpack_from("<IIII", obj, btf[0] + 8)
    base = btf[0] + header + string_off
    return lambda offset: _c_string(obj, base + offset)


def _c_string(data: bytes, offset: int) -> str:
    end = data.index(b"\0", offset)
    return data[offset:end].decode("utf-8", "replace")
