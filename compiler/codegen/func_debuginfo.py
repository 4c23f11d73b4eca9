"""Debug descriptions of functions, for programs that pass a callback to a
helper (bpf_for_each_map_elem).

The kernel wants BTF func_info for every function of such a program, and
the callback must be static. LLVM writes func_info from each function's
DISubprogram, and the kernel rejects the whole BTF (so libbpf loads the
program without it: "missing btf func_info") unless every argument of a
function has a name, which LLVM takes from the DILocalVariables listed in
the subprogram's retainedNodes. Those variables point back at their
subprogram; llvmlite.ir numbers metadata as it creates it and cannot write
that cycle, so this module adds the few lines to the finished IR text.
"""

from __future__ import annotations

import re

from llvmlite import ir


def add_function_debug_info(text: str, functions: list[tuple[ir.Function, bool]], unit: str, file: str) -> str:
    """`text` with a DISubprogram for each (function, is static); `unit`
    and `file` are the references (`!39`) of the compile unit and file."""
    numbers = [int(n) for n in re.findall(r"^!(\d+) = ", text, re.M)]
    next_number = max(numbers, default=-1) + 1
    lines: list[str] = []

    def node(body: str) -> str:
        nonlocal next_number
        reference = f"!{next_number}"
        next_number += 1
        lines.append(f"{reference} = {body}")
        return reference

    long = node('!DIBasicType(name: "long", size: 64, encoding: DW_ATE_signed)')
    pointer = node("!DIDerivedType(tag: DW_TAG_pointer_type, baseType: null, size: 64)")
    for function, static in functions:
        kinds = [function.function_type.return_type, *function.function_type.args]
        types = node("!{" + ", ".join(pointer if isinstance(k, ir.PointerType) else long for k in kinds) + "}")
        prototype = node(f"!DISubroutineType(types: {types})")
        # Numbers known ahead: the subprogram, then its list, then its arguments.
        subprogram, retained = f"!{next_number}", f"!{next_number + 1}"
        arguments = [f"!{next_number + 2 + i}" for i in range(len(function.args))]
        flags = "DISPFlagDefinition | DISPFlagLocalToUnit" if static else "DISPFlagDefinition"
        node(f'distinct !DISubprogram(name: "{function.name}", scope: {file}, file: {file}, line: 1, '
             f"type: {prototype}, scopeLine: 1, spFlags: {flags}, unit: {unit}, retainedNodes: {retained})")
        node("!{" + ", ".join(arguments) + "}")
        for index, argument in enumerate(function.args, 1):
            node(f'!DILocalVariable(name: "arg{index}", arg: {index}, scope: {subprogram}, file: {file}, '
                 f"line: 1, type: {pointer if isinstance(kinds[index], ir.PointerType) else long})")
        text = _attach(text, function.name, subprogram)
    return text + "\n".join(lines) + "\n"


def _attach(text: str, name: str, subprogram: str) -> str:
    """Add `!dbg !N` to the definition line of function `name`."""
    pattern = re.compile(r'^(define [^\n]*@"?' + re.escape(name) + r'"?\([^\n]*?)\s*$', re.M)
    text, count = pattern.subn(lambda m: f"{m.group(1)} !dbg {subprogram}", text, count=1)
    if count != 1:
        raise ValueError(f"no definition of {name} in the IR")
    return text
