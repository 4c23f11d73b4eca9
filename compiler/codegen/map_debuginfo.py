"""The debug metadata that describes BTF-defined maps.

libbpf (>= 1.0) only accepts maps declared the BTF way: a global in section
".maps" whose type is a struct of pointer members, as written in C with

    struct {
        __uint(type, BPF_MAP_TYPE_HASH);    // int (*type)[1]
        __uint(max_entries, 1024);          // int (*max_entries)[1024]
        __type(key, u32);                   // u32 *key
        __type(value, u8[24]);              // u8 (*value)[24]
    } counts SEC(".maps");

libbpf reads a `__uint` as the element count of the array pointed to, and a
`__type` as the size of the pointee. LLVM's BPF backend turns the debug
metadata of such a global into the object's .BTF section.

Only the shapes below were checked to load on the target machine
(shared/notes/backend.md §1a). Malformed debug info makes LLVM abort the
whole process (an assertion, not an exception), so this module builds
exactly these shapes and nothing else:

- every member has a name and the struct has a size;
- an array always has one DISubrange with a positive count (an empty
  `elements` list trips an assertion in LLVM's BTF writer);
- the module carries the "Debug Info Version" flag, without which LLVM
  silently drops all debug info and libbpf then finds no BTF.

The variables are scoped to the file rather than the compile unit, so the
compile unit, which lists them, can be built last (`finish()`): llvmlite.ir
numbers metadata as it is created and cannot express a forward reference.

The file may carry the program's text (`source:`): LLVM copies the lines
that have instructions into BTF, and the verifier quotes them in its log
(func_debuginfo.py).
"""

from __future__ import annotations

from typing import Optional

from llvmlite import ir

_POINTER_BITS = 64


class MapDebugInfo:
    """Builds the debug metadata of one module's maps."""

    def __init__(self, module: ir.Module, file_name: str, source: Optional[str] = None) -> None:
        self._module = module
        fields = {"filename": file_name, "directory": "/"}
        if source is not None:
            # UTF-8 text only: a lone surrogate (from an editor's JSON) would
            # not encode. Replacing it keeps every line break, so lines match.
            fields["source"] = source.encode("utf-8", "replace").decode("utf-8")
        self._file = module.add_debug_info("DIFile", fields)
        self._int = self._basic_type("int", 32, "DW_ATE_signed")
        self._u8 = self._basic_type("u8", 8, "DW_ATE_unsigned")
        self._variables: list[ir.DIValue] = []
        self._finished = False

    def map_variable(
        self, symbol: str, numbers: list[tuple[str, int]], sizes: list[tuple[str, int]]
    ) -> ir.DIValue:
        """The `!dbg` of a map global: `numbers` are `__uint` members
        (name, positive value), then `sizes` are `__type` members (name,
        size in bytes). Members are 64-bit pointers, in this order."""
        assert not self._finished, "map added after the compile unit was built"
        members = []
        for name, value in numbers:
            assert value > 0, f"__uint({name}) must be positive"
            members.append(self._member(name, self._array(self._int, 32, value), len(members)))
        for name, size in sizes:
            assert size > 0, f"__type({name}) must have a size"
            members.append(self._member(name, self._bytes_type(size), len(members)))
        struct = self._module.add_debug_info("DICompositeType", {
            "tag": ir.DIToken("DW_TAG_structure_type"),
            "size": _POINTER_BITS * len(members),
            "elements": members,
        })  # fmt: skip
        variable = self._module.add_debug_info("DIGlobalVariable", {
            "name": symbol,
            "scope": self._file,
            "file": self._file,
            "type": struct,
            "isLocal": False,
            "isDefinition": True,
        }, is_distinct=True)  # fmt: skip
        expression = self._module.add_debug_info("DIGlobalVariableExpression", {
            "var": variable,
            "expr": self._module.add_debug_info("DIExpression", {}),
        })  # fmt: skip
        self._variables.append(expression)
        return expression

    def finish(self, producer: str, needed: bool = False) -> Optional[ir.DIValue]:
        """Adds the compile unit listing every map, and the module flag, and
        returns the unit. Without any map, and unless `needed` (functions
        are described), there is no debug info at all (none is needed)."""
        if self._finished or not (self._variables or needed):
            self._finished = True
            return None
        self._finished = True
        fields = {
            "language": ir.DIToken("DW_LANG_C99"),
            "file": self._file,
            "producer": producer,
            "isOptimized": True,
            "runtimeVersion": 0,
            "emissionKind": ir.DIToken("FullDebug"),
        }
        if self._variables:  # no empty list: only the shapes known to work
            fields["globals"] = self._variables
        unit = self._module.add_debug_info("DICompileUnit", fields, is_distinct=True)
        self._module.add_named_metadata("llvm.dbg.cu", unit)
        i32 = ir.IntType(32)
        # Behaviour 2 is "warning" on a mismatch; version 3 is what LLVM expects.
        self._module.add_named_metadata("llvm.module.flags", [i32(2), "Debug Info Version", i32(3)])
        return unit

    @property
    def file(self) -> ir.DIValue:
        return self._file

    def _basic_type(self, name: str, bits: int, encoding: str) -> ir.DIValue:
        return self._module.add_debug_info("DIBasicType", {
            "name": name, "size": bits, "encoding": ir.DIToken(encoding),
        })  # fmt: skip

    def _bytes_type(self, size: int) -> ir.DIValue:
        """u8/u16/u32/u64 for the sizes that have one, else u8[size]."""
        if size in (1, 2, 4, 8):
            return self._basic_type(f"u{size * 8}", size * 8, "DW_ATE_unsigned")
        return self._array(self._u8, 8, size)

    def _array(self, element: ir.DIValue, element_bits: int, count: int) -> ir.DIValue:
        subrange = self._module.add_debug_info("DISubrange", {"count": count})
        return self._module.add_debug_info("DICompositeType", {
            "tag": ir.DIToken("DW_TAG_array_type"),
            "baseType": element,
            "size": element_bits * count,
            "elements": [subrange],
        })  # fmt: skip

    def _member(self, name: str, pointee: ir.DIValue, index: int) -> ir.DIValue:
        pointer = self._module.add_debug_info("DIDerivedType", {
            "tag": ir.DIToken("DW_TAG_pointer_type"), "baseType": pointee, "size": _POINTER_BITS,
        })  # fmt: skip
        return self._module.add_debug_info("DIDerivedType", {
            "tag": ir.DIToken("DW_TAG_member"),
            "name": name,
            "baseType": pointer,
            "size": _POINTER_BITS,
            "offset": _POINTER_BITS * index,
        })  # fmt: skip
