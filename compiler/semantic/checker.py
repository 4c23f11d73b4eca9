"""The analyser's walk over a program: scopes, statements, and the fixed
point that gives every variable and map its type.

bpftrace fixes a variable's or map's type from all of its assignments, in
any order (`$a = 1; ... $a = (uint64)2;` makes `$a` a uint64 everywhere).
So the checker walks the whole program repeatedly, widening symbol types,
until nothing changes (a few passes at most), and only then walks once more
with reporting switched on. Each pass starts from fresh scopes; symbols live
in a SymbolTable keyed by the node that owns their scope, so every pass
finds the same ones.

Expressions are in check_expressions.py and calls (builtins, macros, fns)
in check_calls.py; this module has the state they share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ..diagnostics import Diagnostic, Related, Severity
from ..kernel.facts import KernelFacts
from ..source import SourceText, Span
from ..syntax import ast
from ..syntax.attach_points import canonical_provider
from . import types as T
from .check_calls import CallChecks
from .check_expressions import ExpressionChecks
from .check_loops import LoopChecks
from .check_symbols import SymbolChecks
from .check_types import TypeChecks
from .context import TypeContext
from .control_flow import first_unreachable, terminates
from .scopes import Scope, SymbolTable

MAX_PASSES = 8


@dataclass
class Options:
    unsafe: bool = False
    max_strlen: int = 1024
    positional: Optional[tuple[str, ...]] = None  # $1, $2... when known (running)


@dataclass
class MacroFrame:
    """One macro expansion in progress: what its parameters stand for."""

    macro: ast.Macro
    call: ast.Call
    variables: dict[str, object]  # $param -> the caller's VariableSymbol
    maps: dict[str, str]  # @param -> the caller's map name
    idents: dict[str, T.Type]  # param -> the type of the caller's expression
    ident_nodes: dict[str, object]  # param -> the caller's expression itself
    caller_scope: Optional[Scope]
    # param name -> (the parameter's own symbol, the caller's argument node):
    # a name in the body is the parameter's, and stands for the argument.
    bindings: dict[str, tuple] = field(default_factory=dict)


class Checker(CallChecks, ExpressionChecks, TypeChecks, SymbolChecks, LoopChecks):
    def __init__(self, program: ast.Program, source: SourceText, facts: KernelFacts, options: Options):
        self.program = program
        self.source = source
        self.facts = facts
        self.options = options
        self.ctx = TypeContext(facts)
        self.symbols = SymbolTable()
        self.types: dict[ast.Node, T.Type] = {}
        self.references: dict[ast.Node, object] = {}
        # Names the definitions pass resolved (macro, fn and map declarations,
        # macro parameters): every walk starts from these.
        self.declared_references: dict[ast.Node, object] = {}
        self.diagnostics: list[Diagnostic] = []
        self.reporting = False
        self._reported: set[tuple[int, int, str]] = set()
        # Every error found, reported or not: a check compares it before and
        # after checking its operands, so as not to pile a second error on
        # one already found (every pass counts the same way).
        self.errors_found = 0
        self.macros: dict[str, list[ast.Macro]] = {}
        self.functions: dict[str, ast.Function] = {}
        self.defines: dict[str, T.Type] = {}  # from `#define NAME value`
        self.has_includes = False  # an `#include` may define any macro
        self.has_imports = False  # an `import "x.bt"` may define macros and fns
        self.max_strlen = options.max_strlen
        self.stack_mode = "bpftrace"  # from config
        # The walk's position.
        self.scope: Optional[Scope] = None
        self.probe: Optional[ast.Probe] = None
        self.providers: tuple[str, ...] = ()
        self.function: Optional[ast.Function] = None
        self.loops = 0
        self.unrolled = 0  # unroll blocks among self.loops: not loops to print()
        self.map_loops = 0  # inside `for ($kv : @map)`, whose body is a callback
        self.args_type: Optional[T.Type] = None
        # Every variable assigned so far in this probe, whatever its block.
        self.probe_variables: dict[str, list] = {}
        self.frames: list[MacroFrame] = []
        self.empty_call_results: dict = {}  # see CallChecks.call_result
        self.probe_args: dict = {}  # probe -> the type of its `args`
        self.quiet = 0  # >0 inside a probe whose header did not parse
        # The reporting walk's record, for the next edit (reuse.py): every
        # use and definition in walk order, and where each item's share of
        # the diagnostics, types, references and that log begins and ends.
        self.name_log: list = []
        self.item_ranges: dict[int, tuple] = {}
        self.replay = None  # reuse.Replay: items whose report can be copied

    # ------------------------------------------------------------ running

    def run(self, seeds=None) -> None:
        """`seeds` (reuse.Seeds, after an edit): the types of the symbols the
        edit cannot have changed, so the first pass need only walk the
        items that may change the others."""
        self.collect_definitions()
        self.references.update(self.declared_references)
        # The first pass gives every symbol a type. Each later pass reports,
        # and if no type widened during it, its report is the answer;
        # otherwise it is thrown away and the walk repeats.
        if seeds is None:
            self.walk()
        else:
            seeds.apply(self.symbols)
            self.replay = seeds.replay
            for _ in range(MAX_PASSES):  # cheap: a few items; to their fixed point
                before = self.symbols.changes
                self.walk(seeds.first_walk)
                if self.symbols.changes == before:
                    break
        for attempt in range(MAX_PASSES):
            self.symbols.reset_uses()
            self.types.clear()
            self.references.clear()
            self.references.update(self.declared_references)
            self.name_log.clear()
            kept, reported = len(self.diagnostics), set(self._reported)
            before = self.symbols.changes
            self.reporting = True
            self.walk()
            if self.symbols.changes == before or attempt == MAX_PASSES - 1:
                return
            del self.diagnostics[kept:]
            self._reported = reported

    def report(
        self, code: str, message: str, span: Span, *, hints=(), related=(), fixes=(), severity=Severity.ERROR
    ) -> None:
        if severity == Severity.ERROR:
            self.errors_found += 1
        if not self.reporting or self.quiet:
            return
        related = list(related)
        for frame in reversed(self.frames):
            name = frame.macro.name.text
            related.append(Related(frame.call.span, f"in the expansion of macro '{name}' here"))
        self.add_reported(Diagnostic(severity, code, message, span, tuple(related), tuple(hints), tuple(fixes)))

    def add_reported(self, diagnostic: Diagnostic) -> None:
        """The diagnostic, unless one at the same place with the same
        message is in already (reuse.Replay adds those it copies here too)."""
        key = (diagnostic.span.start, diagnostic.span.end, diagnostic.message)
        if key not in self._reported:
            self._reported.add(key)
            self.diagnostics.append(diagnostic)

    def warn(self, code: str, message: str, span: Span, **kwargs) -> None:
        self.report(code, message, span, severity=Severity.WARNING, **kwargs)

    def record(self, node: ast.Node, t: T.Type) -> T.Type:
        if not self.frames or node not in self.types:  # a macro body keeps its first expansion's types
            self.types[node] = t
        return t

    # ----------------------------------------------------------- program

    def collect_definitions(self) -> None:
        """Macros, fns, map declarations, config and C definitions: the
        things a probe may refer to, whatever their order."""
        from .definitions import collect  # the module reports about items

        collect(self)

    def walk(self, items=None) -> None:
        ranges = self.item_ranges
        ranges.clear()
        for item in self.program.items if items is None else items:
            if not isinstance(item, (ast.Probe, ast.Function)):
                continue
            start = self._lengths()
            copied = self.reporting and self.replay is not None and self.replay.replays(self, item)
            if not copied:
                self.walk_probe(item) if isinstance(item, ast.Probe) else self.walk_function(item)
            ranges[id(item)] = (start, self._lengths())

    def _lengths(self) -> tuple[int, int, int, int]:
        return len(self.diagnostics), len(self.types), len(self.references), len(self.name_log)

    def walk_probe(self, probe: ast.Probe) -> None:
        self.probe = probe
        real = [ap for ap in probe.attach_points if not ap.is_error and ap.provider]
        self.providers = tuple(canonical_provider(ap.provider.text) or ap.provider.text for ap in real)
        broken_header = len(real) != len(probe.attach_points)
        self.quiet += broken_header
        self.scope = Scope(probe, None)
        self.symbols.enter_item(probe)
        self.loops = 0
        self.probe_variables = {}
        self.args_type = self.args_of(probe)
        try:
            if probe.predicate is not None:
                self.check_condition(probe.predicate)
            self.walk_block(probe.body)
        finally:
            self.quiet -= broken_header
            self.probe = None
            self.providers = ()
            self.scope = None
            self.symbols.enter_item(None)

    def args_of(self, probe: ast.Probe):
        """The type of the probe's `args` (defining its struct in self.ctx),
        worked out once: it is the same in every walk, and reports nothing."""
        if probe not in self.probe_args:
            real = [ap for ap in probe.attach_points if not ap.is_error and ap.provider]
            self.probe_args[probe] = self.probe_args_type(real)
        return self.probe_args[probe]

    def walk_function(self, fn: ast.Function) -> None:
        self.function = fn
        self.providers = ()
        self.probe_variables = {}
        self.scope = Scope(fn, None)
        self.symbols.enter_item(fn)
        try:
            for param in fn.params:
                symbol = self.symbols.variable(fn, param.var.name)
                declared = self.resolve_type(param.type)
                symbol.declared, symbol.declared_type, symbol.assigned = True, declared, True
                symbol.type = declared
                self.add_name(symbol, param.var.span, use=False)
                self.scope.variables[param.var.name] = symbol
                self.references[param.var] = symbol
            self.walk_block(fn.body)
            declared = self.resolve_type(fn.return_type)
            if not isinstance(declared, (T.Void, T.Unknown)) and not terminates(fn.body, ("return",)):
                self.report(
                    "return", f"Function {fn.name.text} is of type {declared}, cannot return void",
                    fn.name.span,
                )  # fmt: skip
        finally:
            self.function = None
            self.scope = None
            self.symbols.enter_item(None)

    # -------------------------------------------------------- statements

    def walk_block(self, block: ast.Block) -> Optional[T.Type]:
        """Walk a block in its own scope; the type of its value, if any."""
        outer = self.scope
        self.scope = Scope(block, outer)
        try:
            for stmt in block.stmts:
                self.statement(stmt)
            value = self.expr(block.value) if block.value is not None else None
        finally:
            self.scope = outer
        unreachable = first_unreachable(block)
        if unreachable is block.value and unreachable is not None:
            self.warn("unreachable", "Unreachable expression; block type is implicitly none.", unreachable.span)
            return T.VOID
        if unreachable is not None:
            self.warn("unreachable", "Unreachable statement.", unreachable.span)
        return value

    def statement(self, stmt) -> None:
        handler = getattr(self, "stmt_" + type(stmt).__name__, None)
        if handler is not None:
            handler(stmt)

    def stmt_ExprStmt(self, stmt: ast.ExprStmt) -> None:
        errors = self.errors_found
        value = self.expr(stmt.expr, statement=True)
        if self.errors_found == errors and self.discards_value(stmt.expr, value):
            self.warn("discarded", "Return value discarded.", stmt.expr.span)

    @staticmethod
    def discards_value(expr, value: T.Type) -> bool:
        """A value computed for nothing, as bpftrace warns. `++` changes
        something, and delete()'s result may be ignored (it warns at run
        time when it fails)."""
        if isinstance(expr, ast.IncDec) or isinstance(value, T.Void) or T.is_unknown(value):
            return False
        return not (isinstance(expr, ast.Call) and expr.name.text == "delete")

    def stmt_Discard(self, stmt: ast.Discard) -> None:
        self.expr(stmt.value)

    def stmt_Assign(self, stmt: ast.Assign) -> None:
        self.assign(stmt)

    def stmt_VarDecl(self, stmt: ast.VarDecl) -> None:
        self.declare_variable(stmt)

    def stmt_Import(self, stmt: ast.Import) -> None:
        pass

    # ---------------------------------------------------------- helpers

    def check_condition(self, cond) -> None:
        t = self.expr(cond)
        if not T.is_truthy(t):
            self.report("condition", f"Invalid condition: {t}", cond.span)

    def constant(self, node) -> Optional[int]:
        """The value of an integer literal (or a negated one), else None."""
        if isinstance(node, ast.IntLit):
            return node.value
        if isinstance(node, ast.Unary) and node.op == "-" and isinstance(node.operand, ast.IntLit):
            return -node.operand.value
        return None

    def variable_symbol(self, name: str):
        """The symbol a `$name` refers to here, through macro parameters."""
        if self.frames and name in self.frames[-1].variables:
            return self.frames[-1].variables[name]
        return self.scope.lookup(name) if self.scope else None

    def map_name(self, name: str) -> str:
        """The map a `@name` refers to here, through macro parameters (bound
        to the caller's names when the expansion began)."""
        if self.frames:
            return self.frames[-1].maps.get(name, name)
        return name
