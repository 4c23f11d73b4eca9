"""compile_program(): an analysed program in, a CompiledProgram out (the
BPF object and the description the runtime reads).

The analysis must be free of errors. A construct the backend cannot lower
(yet) raises CodegenError at the node concerned; `codegen_diagnostic`
turns it into a diagnostic for the CLI and the editor.
"""

from __future__ import annotations

from typing import Optional

from ..diagnostics import Diagnostic, error
from ..runtime.program import CompiledProgram, ProbeInfo, ProgramInfo
from ..source import Span
from ..syntax import ast
from .bpf_module import BpfModule
from .errors import CodegenError
from .function import FunctionContext
from .isolate import run_isolated
from .lower import Lowerer
from .maps import plan_maps
from .probes import plan_programs
from .unit import Options, Unit


def compile_program(analysis, facts, options: Optional[Options] = None, *, name: str = "bpftrace") -> CompiledProgram:
    options = options or Options()
    analysis = _without_macros(analysis, facts, options)
    _apply_config(analysis.program, options)
    source = analysis.source
    module = BpfModule(name, source_name=_base_name(source.name), source=source.text)
    unit = Unit(module, analysis, facts, options)
    programs = plan_programs(analysis.program, facts)
    if not programs:
        raise CodegenError("the program has no probes to attach")
    unit.program_count = len(programs)
    plan_maps(unit)
    probes = []
    for index, planned in enumerate(programs):
        symbol = f"btls_p{index}"
        line = source.lines.line_col(planned.probe.span.start)[0]
        function = unit.module.add_program(symbol, planned.section, line)
        fn = FunctionContext(unit, function, index, planned.target)
        lowerer = Lowerer(fn)
        try:
            lowerer.probe(planned.probe)
        except CodegenError as exc:
            raise _located(exc, lowerer.node or planned.probe) from None
        probes.append(ProbeInfo(planned.kind, symbol, planned.section, planned.name, planned.attach, line))
    info = ProgramInfo(
        probes=probes,
        maps=[m.info for m in unit.maps.values()],
        events=list(unit.events.events),
        source_name=analysis.source.name,
        max_strlen=options.max_strlen,
        uses_start_time=unit._start_time_map is not None,
        stack_maps=unit.stack_map_names,
    )
    obj = run_isolated(unit.module.compile)
    return CompiledProgram(obj, info, unit.module.ir_text(), locations=unit.locations)


def _base_name(name: str) -> str:
    """The file name the object's line info gives (the verifier prints it)."""
    return name.rsplit("/", 1)[-1] or "stdin"


def _without_macros(analysis, facts, options: Options):
    """The analysis of the program with every macro call expanded (each
    expansion typed on its own), or `analysis` itself when there are none."""
    if not any(isinstance(item, ast.Macro) for item in analysis.program.items):
        return analysis
    from ..semantic.analysis import analyse
    from ..syntax.macro_expansion import expand_macros
    from ..syntax.parser import ParseResult

    expanded = ParseResult(expand_macros(analysis.program), [], analysis.source)
    return analyse(expanded, facts, unsafe=options.unsafe, positional=options.positional)


def _located(exc: CodegenError, fallback) -> CodegenError:
    """Make sure the error carries the node it is about."""
    args = exc.args
    if len(args) >= 2 and isinstance(args[1], ast.Node):
        return exc
    return type(exc)(args[0] if args else str(exc), fallback)


def codegen_diagnostic(exc: CodegenError) -> Diagnostic:
    node = exc.args[1] if len(exc.args) >= 2 and isinstance(exc.args[1], ast.Node) else None
    span = node.span if node is not None else Span(0, 0)
    return error("codegen", str(exc.args[0]) if exc.args else str(exc), span)


def _apply_config(program: ast.Program, options: Options) -> None:
    config = program.config
    for entry in config.entries if config else ():
        key = entry.key.text.lower().removeprefix("bpftrace_")
        value = getattr(entry.value, "value", None)
        if key == "max_strlen" and isinstance(value, int):
            options.max_strlen = value
        elif key in ("max_map_keys", "map_keys_max") and isinstance(value, int):
            options.max_map_keys = value
