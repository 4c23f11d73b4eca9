"""Debug descriptions of functions: a DISubprogram for every function of
the object, and the source location of every instruction lowered from the
script.

Why: LLVM's BPF backend writes each function's DISubprogram as BTF
func_info and the instructions' `!dbg` locations as BTF line_info (both in
.BTF.ext). With line info the kernel's verifier prints, in its log, the
source line above the instructions made from it

    ; while (1) { @ script.bt:3
    14: (05) goto pc-1

and `btc --verify` puts a rejection on the code that produced the failing
instruction: runtime/lineinfo.py reads the line and column of that
instruction back from the object, and the codegen's table of locations
(Unit.locations) says which source span they stand for. bpftool's dumps
of a loaded program show the lines too.

func_info is also what a program that passes a callback to a helper
(bpf_for_each_map_elem) needs: the kernel then wants it for every function
of the program, and the callback must be static.

Only these shapes are built (they compile and load on the target machine;
malformed debug info makes LLVM abort the whole process, see bpf_module.py):

- per function, one distinct DISubprogram: a definition in the compile
  unit, its line the probe's first, its type a DISubroutineType of `long`
  and untyped pointers;
- every argument named: the kernel rejects the whole BTF (and libbpf then
  loads without it: "missing btf func_info") unless each argument of a
  function has a name, which LLVM takes from the DILocalVariables in the
  subprogram's retainedNodes;
- DILocation(line, column, scope: the function's own subprogram) on
  instructions, with the column at most 1023: BTF keeps ten bits of it;
- the DIFile carries the source text (map_debuginfo.py), which LLVM copies
  into BTF line by line for the verifier to quote (without it LLVM would
  read a file of that name from disk).

Those variables point back at their subprogram, and a subprogram must name
the compile unit, which is built last (it lists the maps). llvmlite.ir
numbers metadata as it creates it and cannot write a forward reference, so
subprograms are made in llvmlite without `unit` and `retainedNodes` (the
instructions' locations can point at them from the start), and
`complete()` adds those two fields, and the variables, to the IR text.
"""

from __future__ import annotations

import re

from llvmlite import ir

# BTF line_info packs line and column as `line << 10 | column`.
MAX_COLUMN = (1 << 10) - 1
MAX_LINE = (1 << 22) - 1


class FunctionDebugInfo:
    """The subprograms and locations of one module's functions."""

    def __init__(self, module: ir.Module, file: ir.DIValue) -> None:
        self._module = module
        self._file = file
        self._long = module.add_debug_info("DIBasicType", {
            "name": "long", "size": 64, "encoding": ir.DIToken("DW_ATE_signed"),
        })  # fmt: skip
        self._pointer = module.add_debug_info("DIDerivedType", {
            "tag": ir.DIToken("DW_TAG_pointer_type"), "baseType": None, "size": 64,
        })  # fmt: skip
        self._subprograms: list[tuple[ir.Function, ir.DIValue, int]] = []

    @property
    def has_functions(self) -> bool:
        return bool(self._subprograms)

    def describe(self, function: ir.Function, line: int = 1, static: bool = False) -> ir.DIValue:
        """The subprogram of `function` (attached to it as `!dbg`)."""
        line = _clamp(line, 1, MAX_LINE)
        kinds = [function.function_type.return_type, *function.function_type.args]
        types = self._module.add_metadata([self._type(kind) for kind in kinds])
        prototype = self._module.add_debug_info("DISubroutineType", {"types": types})
        flags = "DISPFlagDefinition | DISPFlagLocalToUnit" if static else "DISPFlagDefinition"
        subprogram = self._module.add_debug_info("DISubprogram", {
            "name": function.name,
            "scope": self._file,
            "file": self._file,
            "line": line,
            "type": prototype,
            "scopeLine": line,
            "spFlags": ir.DIToken(flags),
        }, is_distinct=True)  # fmt: skip
        function.set_metadata("dbg", subprogram)
        self._subprograms.append((function, subprogram, line))
        return subprogram

    def location(self, subprogram: ir.DIValue, line: int, column: int) -> ir.DIValue:
        """A `!dbg` for instructions of the function of `subprogram` (the
        same arguments give the same node)."""
        return self._module.add_debug_info("DILocation", {
            "line": _clamp(line, 1, MAX_LINE),
            "column": _clamp(column, 1, MAX_COLUMN),
            "scope": subprogram,
        })  # fmt: skip

    def complete(self, text: str, unit: str) -> str:
        """`text` (the module's IR) with each subprogram's compile unit
        (`unit`, a reference like `!39`) and named arguments."""
        numbers = [int(n) for n in re.findall(r"^!(\d+) = ", text, re.M)]
        next_number = max(numbers, default=-1) + 1
        lines: list[str] = []
        fields: dict[str, str] = {}  # subprogram reference -> the fields it lacks
        file = self._file.get_reference()
        for function, subprogram, line in self._subprograms:
            reference = subprogram.get_reference()
            if not function.args:
                fields[reference] = f"unit: {unit}"
                continue
            retained = f"!{next_number}"
            variables = [f"!{next_number + 1 + i}" for i in range(len(function.args))]
            next_number += 1 + len(function.args)
            lines.append(f"{retained} = !{{{', '.join(variables)}}}")
            for index, (variable, argument) in enumerate(zip(variables, function.args), 1):
                name = argument.name if argument.name and _NAME.fullmatch(argument.name) else f"arg{index}"
                kind = self._type(argument.type).get_reference()
                lines.append(f'{variable} = !DILocalVariable(name: "{name}", arg: {index}, '
                             f"scope: {reference}, file: {file}, line: {line}, type: {kind})")  # fmt: skip
            fields[reference] = f"unit: {unit}, retainedNodes: {retained}"
        # One pass over the text (a wildcard probe can make hundreds of functions).
        completed = set()

        def add(match: re.Match) -> str:
            reference = match.group(2)
            if reference not in fields:
                return match.group(0)
            completed.add(reference)
            return f"{match.group(1)}, {fields[reference]})"

        text = _SUBPROGRAM.sub(add, text)
        if len(completed) != len(fields):
            raise ValueError("a subprogram is missing from the IR")
        if not text.endswith("\n"):
            text += "\n"
        return text + "".join(line + "\n" for line in lines)

    def _type(self, kind: ir.Type) -> ir.DIValue:
        return self._pointer if isinstance(kind, ir.PointerType) else self._long


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SUBPROGRAM = re.compile(r"^((!\d+) = distinct !DISubprogram\([^\n]*)\)$", re.M)


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(int(value), high))
