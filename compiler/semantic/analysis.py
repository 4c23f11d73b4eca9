"""analyse(): a parsed program in, types, symbols and diagnostics out.

The passes, in order:

1. definitions: macros, fns, map declarations, config, C definitions
   (definitions.py), so probes may use them wherever they are written;
2. attach points: providers, shapes, rates, tracepoints that exist
   (attach_checks.py), and kprobes that have a tracepoint
   (kprobe_tracepoints.py);
3. the checker's fixed point over names and types, then its reporting
   walk (checker.py and its check_*.py parts);
4. the end-of-program rules: unused and undefined variables and maps.

Like parse(), analyse() never raises: a bug in a pass becomes one
"internal error" diagnostic, and the rest of the analysis stands.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Optional, Union

from ..diagnostics import Diagnostic, Related, error
from ..kernel.facts import KernelFacts, NoFacts
from ..source import Span
from ..syntax import ParseResult, ast, parse
from . import reuse
from . import types as T
from .attach_checks import check_probes
from .checker import Checker, Options
from .kprobe_tracepoints import kprobe_tracepoint_hints
from .scopes import Symbol
from .suggest import suggestions


@dataclass
class Analysis:
    parsed: ParseResult
    diagnostics: list[Diagnostic]
    types: dict = field(default_factory=dict)  # ast.Node -> Type
    references: dict = field(default_factory=dict)  # ast.Node -> Symbol
    symbols: list[Symbol] = field(default_factory=list)
    # The C types the program saw (kernel BTF and its own definitions):
    # codegen asks it where struct fields are.
    context: Optional[object] = None
    # What the next edit's analysis may reuse (reuse.WalkRecord), and
    # whether this one reused its previous version's.
    walk_record: Optional[object] = field(default=None, repr=False)
    reused: bool = False

    @property
    def program(self) -> ast.Program:
        return self.parsed.program

    @property
    def source(self):
        return self.parsed.source

    def type_of(self, node: ast.Node) -> Optional[T.Type]:
        return self.types.get(node)

    def symbol_of(self, node: ast.Node) -> Optional[Symbol]:
        return self.references.get(node)


def analyse(
    text: Union[str, ParseResult],
    facts: Optional[KernelFacts] = None,
    *,
    unsafe: bool = False,
    name: str = "stdin",
    positional: Optional[tuple[str, ...]] = None,
    previous: Optional["Analysis"] = None,
    reusable: bool = False,
) -> Analysis:
    """`reusable`: keep what the analysis of the next edit may reuse (an
    editor's documents; reuse.py). `previous`: such an analysis of this
    document before an edit, whose parse `text` was reparsed from
    (syntax.incremental); the symbols the edit cannot have changed keep
    their types from it."""
    parsed = text if isinstance(text, ParseResult) else parse(text, name)
    facts = facts if facts is not None else NoFacts()
    options = Options(unsafe=unsafe, positional=positional)
    run = _Run(parsed.program, facts, unsafe, Checker(parsed.program, parsed.source, facts, options))
    if previous is not None and previous.walk_record is not None:
        try:
            run.seeds = reuse.plan(previous.walk_record, parsed.program, parsed.source.data, facts, options)
        except Exception:  # a bug here must cost only the time saved
            run.seeds = None
    for run_pass in PASSES:
        try:
            run_pass(run)
        except RecursionError:
            run.diagnostics.append(error("nesting", "program is nested too deeply to analyse", Span(0, 0)))
        except Exception as exc:  # a bug in a pass must not take the editor down
            where = traceback.extract_tb(exc.__traceback__)[-1]
            message = f"internal error in the analyser: {type(exc).__name__}: {exc} ({where.name}:{where.lineno})"
            run.diagnostics.append(error("internal-error", message, Span(0, 0)))
    checker = run.checker
    diagnostics = list(parsed.diagnostics) + run.diagnostics + checker.diagnostics
    record = None
    if reusable and run.walked and not any(d.code == "internal-error" for d in run.diagnostics):
        record = reuse.record(parsed.program, parsed.source.data, checker, facts, options)
    return Analysis(parsed, diagnostics, checker.types, checker.references, checker.symbols.all(), checker.ctx,
                    walk_record=record, reused=run.seeds is not None)  # fmt: skip


@dataclass
class _Run:
    """What the passes share."""

    program: ast.Program
    facts: KernelFacts
    unsafe: bool
    checker: Checker
    diagnostics: list[Diagnostic] = field(default_factory=list)
    seeds: Optional[reuse.Seeds] = None
    walked: bool = False  # the checker's walks ended normally


def _attach_points(run: _Run) -> None:
    run.diagnostics.extend(
        check_probes(run.program.probes, run.facts, unsafe=run.unsafe, missing_probes=_missing_probes(run.program))
    )
    for probe in run.program.probes:
        run.diagnostics.extend(kprobe_tracepoint_hints(probe, run.facts))


def _names_and_types(run: _Run) -> None:
    run.checker.run(run.seeds)
    if run.seeds is not None:
        run.seeds.prune(run.checker.symbols)
    run.walked = True


def _whole_symbols(run: _Run) -> None:
    _end_of_program(run.checker)


# The passes, in the order the module docstring gives (definitions are the
# checker's first step).
PASSES = (_attach_points, _names_and_types, _whole_symbols)


def _missing_probes(program: ast.Program) -> str:
    """The config's missing_probes policy: error, warn or ignore."""
    config = program.config
    for entry in config.entries if config else ():
        if entry.key.text.lower().removeprefix("bpftrace_") == "missing_probes":
            value = getattr(entry.value, "name", None) or getattr(entry.value, "text", "")
            return value if value in ("error", "warn", "ignore") else "error"
    return "error"


# Declared map kinds, and whether each keeps one value per CPU.
_MAP_KIND_PERCPU = {"hash": False, "lruhash": False, "percpuhash": True, "percpulruhash": True}


def _end_of_program(checker: Checker) -> None:
    """Rules about whole symbols, once every use has been seen."""
    for symbol in checker.symbols.maps.values():
        if symbol.declaration is not None and not symbol.written and not symbol.read:
            checker.warn("unused", f"Unused map: {symbol.name}", symbol.declaration)
        elif symbol.declared_kind in _MAP_KIND_PERCPU and symbol.type is not None:
            needs_percpu = isinstance(symbol.type, T.Aggregation) and symbol.type.kind != "tseries"
            if needs_percpu != _MAP_KIND_PERCPU[symbol.declared_kind]:
                implied = "percpuhash" if needs_percpu else "hash"
                checker.report(
                    "map-declaration", f"Incompatible map types. Type from declaration: "
                    f"{symbol.declared_kind}. Type from value/key type: {implied}",
                    symbol.value_site or symbol.declaration,
                    related=[Related(symbol.declaration, f"{symbol.name} is declared here")],
                )  # fmt: skip
        elif not symbol.written and symbol.uses:
            written = [other.name for other in checker.symbols.maps.values() if other.written]
            for use in symbol.uses:
                checker.report("undefined-map", f"Undefined map: {symbol.name}", use,
                               **suggestions(symbol.name, written, use))  # fmt: skip
    for symbol in checker.symbols.variables.values():
        if symbol.declared and not symbol.assigned and symbol.origin is not None:
            checker.warn("unassigned", f"Variable {symbol.name} was never assigned to.", symbol.origin)
        elif symbol.definitions and not symbol.uses and symbol.origin is not None and not (
            symbol.loop or _meant_unused(symbol.name)
        ):
            checker.warn("unused", f"Unused variable: {symbol.name}", symbol.origin,
                         hints=("assign it to `_` to discard a value on purpose",))  # fmt: skip


def _meant_unused(name: str) -> bool:
    """`$_tmp`, `$ignore`: names that say the value is kept on purpose
    (bpftrace's own tools write `$ignore = delete(...)`)."""
    return name.startswith("$_") or name.startswith("$ignore")
