"""Calls and bare names: builtins (checked against the table), macros
(expanded in place, hygienically), and fn subprograms. Mixed into the
Checker (checker.py), whose state and helpers it uses.
"""

from __future__ import annotations

import re

from ..diagnostics import Edit, Fix, Related
from ..source import Span
from ..syntax import ast
from . import builtins as B
from . import formats
from . import types as T
from .call_rules import CallRules
from .probe_context import ProbeContext
from .suggest import suggestions

_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")
_FORMAT_FUNCTIONS = ("printf", "errorf", "warnf", "fail", "system", "cat", "debugf")
# Builtins whose values are gone inside the callback a map loop becomes.
_NOT_IN_MAP_LOOPS = ("argN", "sargN", "retval", "args", "func")
# Builtins that read the probe's context, so mean nothing in a fn.
_PROBE_ONLY = ("argN", "sargN", "retval", "args", "func", "probe", "ctx")
# x86_64 passes this many function arguments in registers: arg0..arg5.
_ARGUMENT_REGISTERS = 6


_MISSING = object()
_BY_ARITY: dict[tuple[int, int], tuple] = {}


def _signatures_for(builtin: B.Builtin, count: int) -> tuple:
    """The builtin's signatures that take `count` arguments (the table never
    changes, so this is worked out once per builtin and count)."""
    key = (id(builtin), count)
    cached = _BY_ARITY.get(key)
    if cached is None or cached[0] is not builtin:
        found = tuple(s for s in builtin.signatures if s.min_args <= count <= s.most_args)
        cached = _BY_ARITY[key] = (builtin, found)
    return cached[1]


class CallChecks(CallRules, ProbeContext):
    # ------------------------------------------------------------ names

    def suggest(self, name: str, candidates, span) -> dict:
        """`hints=` and `fixes=` for a report about a misspelt `name` at `span`."""
        return suggestions(name, candidates, span)

    def identifier(self, node: ast.Identifier) -> T.Type:
        name = node.name
        for frame in reversed(self.frames[-1:]):
            if name in frame.idents:
                self.record_name(frame.bindings[name][0], node, "use")
                return frame.idents[name]
        builtin = B.named(name)
        if builtin is not None and builtin.min_args == 0:
            return self.builtin_call(builtin, node, [], statement=False, map_value=False)
        if name in self.macros:
            return self.expand_macro(name, node, [])
        enumerator = self.ctx.enumerator(name)
        if enumerator is not None:
            return enumerator
        if name in self.defines:
            return self.defines[name]
        if self.has_includes and any(c.isupper() for c in name):
            return T.UNKNOWN  # most likely a macro from an included header
        if self.has_imports and builtin is None:
            return T.UNKNOWN  # perhaps a macro of an imported file
        if builtin is not None:
            self.report("call", f"{name}() requires at least {builtin.min_args} argument"
                        f"{'s' * (builtin.min_args != 1)}, so it must be called", node.span)  # fmt: skip
            return T.UNKNOWN
        # Without kernel types an UPPER_CASE name may well be a kernel enum
        # value, so only lower-case names are reported then.
        if self.facts.has_types or not any(c.isupper() for c in name):
            candidates = [b.name for b in B.script_builtins() if b.min_args == 0] + list(self.macros)
            if self.frames:
                candidates += list(self.frames[-1].idents)
            self.report("unknown-identifier", f"Unknown identifier: '{name}'", node.span,
                        **self.suggest(name, candidates, node.span))  # fmt: skip
        return T.UNKNOWN

    # ------------------------------------------------------------- calls

    def call(self, node: ast.Call, *, statement: bool, map_value: bool) -> T.Type:
        name = node.name.text
        if name in self.macros:
            return self.expand_macro(name, node, node.args)
        if name in self.functions:
            return self.fn_call(self.functions[name], node)
        builtin = B.named(name)
        if builtin is None:
            for arg in node.args:
                if self.has_imports and isinstance(arg, ast.MapRef):
                    # An imported macro may assign the map it is given.
                    symbol = self.map_symbol(arg)
                    symbol.read = symbol.written = True
                    self.note(symbol, arg, "use")
                    continue
                self.type_or_expr(arg) if isinstance(arg, ast.TYPE_NODES) else self.expr(arg)
            if self.has_imports:
                return T.UNKNOWN  # perhaps a macro or fn of an imported file
            known = [b.name for b in B.script_builtins()] + list(self.macros) + list(self.functions)
            self.report("unknown-function", f"Unknown function: '{name}'", node.name.span,
                        **self.suggest(name, known, node.name.span))  # fmt: skip
            return T.UNKNOWN
        return self.builtin_call(builtin, node, node.args, statement=statement, map_value=map_value)

    def builtin_call(self, builtin: B.Builtin, node, args: list, *, statement: bool, map_value: bool) -> T.Type:
        name = builtin.name if builtin.name not in ("argN", "sargN") else node_name(node)
        self.check_context(builtin, name, node)
        self.call_warnings(name, node)
        if builtin.has(B.AGGREGATION) and not map_value:
            self.report("aggregation", f"{name}() must be assigned directly to a map", node.span)
        if builtin.has(B.UNSAFE) and not self.options.unsafe:
            self.report("unsafe", f"{name}() is an unsafe function being used in safe mode", node.span,
                        hints=("run with --unsafe to allow it",))  # fmt: skip
        if not self.arity_ok(builtin, name, node, len(args)):
            self.unchecked_arguments(args)
            return T.UNKNOWN
        signature = self.choose_signature(builtin, args)
        if name == "find" and len(args) == 3 and isinstance(args[2], ast.Variable):
            symbol = self.variable_symbol(args[2].name)
            if symbol is not None:  # find() stores the value it found there
                symbol.assigned = True
                self.note(symbol, args[2], "definition")
        errors = self.errors_found
        checked = []
        for index, arg in enumerate(args):
            param = signature.params[index] if index < len(signature.params) else signature.variadic
            checked.append(self.check_argument(builtin, name, param, index, arg))
        if name in _FORMAT_FUNCTIONS and args:
            self.check_format(name, args, checked)
        special = self.context_type(builtin.name, node)
        if self.errors_found > errors:  # the rule would only repeat what is wrong
            return special or T.UNKNOWN
        self.call_rules(name, node, args, checked)
        if name == "find" and len(args) == 3 and isinstance(args[2], ast.Variable) and checked[0].type:
            symbol = self.variable_symbol(args[2].name)
            if symbol is not None and not T.mentions_unknown(checked[0].type):
                self.symbols.widen(symbol, T.as_integer(checked[0].type))  # the value it finds
        result = self.call_result(signature, checked)
        if isinstance(result, str):
            self.report("call", result, node.span)
            return T.UNKNOWN
        return special if special is not None else (result or T.VOID)

    def call_result(self, signature: B.Signature, checked: list):
        """The signature's return type (or its rule's message) for these
        arguments. Without arguments it depends only on the probe and the
        string limit, so it is computed once per analysis for each."""
        if not callable(signature.returns):
            return signature.returns
        provider = self.providers[0] if self.providers else None
        if checked:
            return signature.returns(B.CallInfo(tuple(checked), provider, self.max_strlen))
        key = (id(signature), provider, self.max_strlen)
        cached = self.empty_call_results.get(key, _MISSING)
        if cached is _MISSING:
            cached = signature.returns(B.CallInfo((), provider, self.max_strlen))
            self.empty_call_results[key] = cached
        return cached

    def unchecked_arguments(self, args: list) -> None:
        """After a wrong argument count, give the arguments types without
        judging them: a name may be a mode (`perf`) and a map need no key."""
        for arg in args:
            if isinstance(arg, ast.Identifier):
                continue
            if isinstance(arg, ast.MapRef):
                symbol = self.map_symbol(arg)
                symbol.read = True
                self.note(symbol, arg, "use")
                continue
            self.argument_type(arg)

    def choose_signature(self, builtin: B.Builtin, args: list) -> B.Signature:
        """The first signature with this many parameters whose parameters
        fit the arguments' shapes (a bare map, a name, a variable)."""
        by_arity = _signatures_for(builtin, len(args))
        if len(by_arity) == 1:
            return by_arity[0]  # whatever the shapes, this is the one
        for signature in by_arity:
            params = [signature.params[i] if i < len(signature.params) else signature.variadic for i in range(len(args))]
            if all(self.shape_fits(p, a) for p, a in zip(params, args)):
                return signature
        return by_arity[0]

    def shape_fits(self, param: B.Param, arg) -> bool:
        wants = set(param.accepts)
        if isinstance(arg, ast.MapRef) and "map" in wants:
            return True
        if isinstance(arg, ast.Identifier) and "ident" in wants:
            # A name that is not a choice is still meant as one, unless it
            # names something else (`kstack(LIMIT)` with a #define).
            return not param.choices or arg.name in param.choices or not self.names_something(arg.name)
        if isinstance(arg, ast.TYPE_NODES):
            return "type" in wants or "any" in wants
        if wants <= _STRUCTURAL:
            return ("mapentry" in wants and isinstance(arg, ast.MapAccess)) or (
                "variable" in wants and isinstance(arg, ast.Variable)
            )
        return True

    def names_something(self, name: str) -> bool:
        """Does a bare name mean something here besides a choice word?"""
        if self.frames and name in self.frames[-1].idents:
            return True
        builtin = B.named(name)
        return (
            (builtin is not None and builtin.min_args == 0) or name in self.macros
            or self.ctx.enumerator(name) is not None or name in self.defines
        )  # fmt: skip

    def arity_ok(self, builtin: B.Builtin, name: str, node, count: int) -> bool:
        if _signatures_for(builtin, count):
            return True
        low, high = builtin.min_args, builtin.max_args
        if low == high == 0:
            message = f"{name}() requires no arguments ({count} provided)"
        elif low == high:
            wanted = "one argument" if low == 1 else f"{low} arguments"
            message = f"{name}() requires {wanted} ({count} provided)"
        elif count < low:
            wanted = "one argument" if low == 1 else f"{low} arguments"
            message = f"{name}() requires at least {wanted} ({count} provided)"
        else:
            wanted = "one argument" if high == 1 else f"{high} arguments"
            message = f"{name}() takes up to {wanted} ({count} provided)"
        self.report("arity", message, node.span)
        return False

    def argument_type(self, arg) -> T.Type:
        if isinstance(arg, ast.TYPE_NODES):
            return self.type_or_expr(arg)
        return self.expr(arg)

    def check_argument(self, builtin: B.Builtin, name: str, param: B.Param, index: int, arg) -> B.Arg:
        wants = set(param.accepts)
        ordinal = _ordinal(index)
        if isinstance(arg, ast.Identifier) and "ident" in wants:
            if not param.choices or arg.name in param.choices:
                return B.Arg(arg, T.UNKNOWN, name=arg.name)
            if wants <= {"ident"} or not self.names_something(arg.name):
                self.report(
                    "argument", f"{name}() expects one of {', '.join(param.choices)} as its "
                    f"{ordinal} argument (got '{arg.name}')", arg.span,
                    **self.suggest(arg.name, param.choices, arg.span),
                )  # fmt: skip
                return B.Arg(arg, T.UNKNOWN, name=arg.name)
        if isinstance(arg, ast.MapRef) and wants & {"map"}:
            symbol = self.map_symbol(arg)
            symbol.read = True
            self.note(symbol, arg, "use")
            t = symbol.type or T.UNKNOWN
            self.record(arg, t)
            return B.Arg(arg, t, name=symbol.name)
        t = self.argument_type(arg)
        value = self.literal_value(arg)
        if param.literal and value is None and not T.is_unknown(t):
            kind = "a string" if "string" in wants else "an integer"
            self.report("literal", f"{name}() expects {kind} literal as its {ordinal} argument ({t} provided)",
                        arg.span)  # fmt: skip
        elif not self.accepts(wants, arg, t):
            expected = param.wanted or " or ".join(_describe(w, param) for w in param.accepts)
            self.report("argument", f"{name}() expects {expected} as its {ordinal} argument ({t} provided)", arg.span)
        return B.Arg(arg, t, value=value)

    def accepts(self, wants: set[str], arg, t: T.Type) -> bool:
        if "any" in wants and not isinstance(t, T.Void):
            return True
        if T.is_unknown(t) and not wants <= {"map", "mapentry", "variable", "ident", "type"}:
            return True
        checks = {
            "int": lambda: T.is_integer(t),
            "string": lambda: isinstance(t, T.String),
            "pointer": lambda: isinstance(t, T.Pointer),
            "array": lambda: isinstance(t, T.Array),
            "mapentry": lambda: isinstance(arg, ast.MapAccess),
            "variable": lambda: isinstance(arg, ast.Variable),
            "tuple": lambda: isinstance(t, T.Tuple),
            "record": lambda: isinstance(t, T.Record),
            "inet": lambda: isinstance(t, T.Inet),
            "buffer": lambda: isinstance(t, T.Buffer),
            "ksym": lambda: t == T.KSYM,
            "usym": lambda: t == T.USYM,
            "stack": lambda: t in (T.KSTACK, T.USTACK),
            "timestamp": lambda: t == T.TIMESTAMP,
            "enum": lambda: isinstance(t, T.Int) and t.enum is not None,
            "type": lambda: isinstance(arg, ast.TYPE_NODES),
        }
        for word in wants:
            sized = re.fullmatch(r"(array|string)\[(\d+)\]", word)
            if sized:
                kind, size = sized.group(1), int(sized.group(2))
                if kind == "array" and isinstance(t, T.Array) and t.size == size:
                    return True
                if kind == "string" and isinstance(t, T.String) and t.length == size:
                    return True
            if word in checks and checks[word]():
                return True
        return False

    def substituted(self, node):
        """What a macro's expression parameter stands for at this call."""
        if isinstance(node, ast.Identifier) and self.frames:
            return self.frames[-1].ident_nodes.get(node.name, node)
        return node

    def literal_value(self, arg):
        arg = self.substituted(arg)
        if isinstance(arg, ast.StrLit):
            return arg.value
        if isinstance(arg, ast.BoolLit):
            return arg.value
        return self.constant(arg)

    def check_format(self, name: str, args: list, checked: list) -> None:
        fmt = self.substituted(args[0])
        if not isinstance(fmt, ast.StrLit):
            return
        problems = formats.check_args(fmt.value, [a.type for a in checked[1:]], name)
        for problem in problems:
            argument = None
            if problem.arg_index is not None and problem.arg_index + 1 < len(args):
                argument = args[problem.arg_index + 1]
            span = argument.span if argument is not None else fmt.span
            fixes = self.format_fixes(fmt, problem, argument)
            if problem.severity == "warning":
                self.warn(problem.code, problem.message, span, fixes=fixes)
            else:
                self.report(problem.code, problem.message, span, fixes=fixes)

    def format_fixes(self, fmt: ast.StrLit, problem: formats.FormatError, argument) -> tuple[Fix, ...]:
        """A format problem's fix: another specification, written into the
        literal where it stands, or the argument wrapped in a builtin."""
        if problem.wrap and argument is not None:
            start, end = argument.span.start, argument.span.end
            edits = (Edit(Span(start, start), f"{problem.wrap}("), Edit(Span(end, end), ")"))
            return (Fix(f"Wrap in {problem.wrap}()", edits, True),)
        if not problem.replacement or not self.reporting:
            return ()
        # The problem's offsets are in the decoded string; the literal's raw
        # text has the same specifications unless an escape made one.
        raw = self.source.lines.data[fmt.span.start : fmt.span.end]
        if len(raw) < 2 or raw[:1] != b'"' or raw[-1:] != b'"':
            return ()
        written, _ = formats.parse_format(raw[1:-1])
        decoded, _ = formats.parse_format(fmt.value)
        if [s.conversion for s in written] != [s.conversion for s in decoded]:
            return ()
        for spec, raw_spec in zip(decoded, written):
            if (spec.start, spec.end) == (problem.start, problem.end):
                at = fmt.span.start + 1
                edit = Edit(Span(at + raw_spec.start, at + raw_spec.end), problem.replacement)
                return (Fix(f"Change '{raw_spec.text}' to '{problem.replacement}'", (edit,), True),)
        return ()

    # -------------------------------------------------- probe context

    def check_context(self, builtin: B.Builtin, name: str, node) -> None:
        """Is this builtin allowed in the probe(s) we are in?"""
        if self.map_loops and builtin.name in _NOT_IN_MAP_LOOPS:
            self.report("context", f"'{name}' builtin is not allowed in a for-loop", node.span)
        if self.function is not None and (builtin.providers is not None or builtin.name in _PROBE_ONLY):
            self.report("context", f"Builtin {name} not supported outside probe", node.span)
            return
        if builtin.name == "argN" and int(name[3:]) >= _ARGUMENT_REGISTERS:
            if any(p != "usdt" for p in self.providers):  # USDT arguments are not registers
                self.report("context", f"x86_64 doesn't support {name}", node.span)
                return
        if builtin.providers is None or not self.providers:
            return
        wrong = sorted({p for p in self.providers if p not in builtin.providers})
        if wrong:
            allowed = ", ".join(f"'{p}'" for p in sorted(builtin.providers))
            message = f"The {name} builtin can only be used with {allowed} probes"
            hints = ()
            if builtin.provider_hint and (builtin.hint_when is None or builtin.hint_when & set(wrong)):
                hints = (builtin.provider_hint,)
            self.report("context", message, node.span, hints=hints)

    # ------------------------------------------------------------ macros

    def expand_macro(self, name: str, node, args: list) -> T.Type:
        from .macros import expand  # a module of its own: hygiene rules

        return expand(self, name, node, args)

    def fn_call(self, fn: ast.Function, node: ast.Call) -> T.Type:
        self.record_name(self.symbols.callable("function", fn.name.text), node.name, "use")
        if len(node.args) != len(fn.params):
            self.report(
                "arity", f"Function `{fn.name.text}` requires {len(fn.params)} arguments, "
                f"got {len(node.args)}", node.span,
                related=[Related(fn.name.span, "the function is defined here")],
            )  # fmt: skip
        for arg, param in zip(node.args, fn.params):
            t = self.expr(arg)
            expected = self.resolve_type(param.type)
            if not (T.mentions_unknown(t) or T.mentions_unknown(expected)) and T.join(expected, T.as_integer(t)) is None:
                self.report("argument", f"Expected {expected} for argument `{param.var.name}` got {t}", arg.span)
        return self.resolve_type(fn.return_type)


_STRUCTURAL = {"map", "mapentry", "variable", "ident", "type"}


def node_name(node) -> str:
    if isinstance(node, ast.Identifier):
        return node.name
    if isinstance(node, ast.Call):
        return node.name.text
    return "?"


def _ordinal(index: int) -> str:
    return _ORDINALS[index] if index < len(_ORDINALS) else f"#{index + 1}"


def _describe(word: str, param: B.Param) -> str:
    sized = re.fullmatch(r"(array|string)\[(\d+)\]", word)
    if sized:
        return f"a {sized.group(2)}-byte {sized.group(1)}"
    if word == "ident" and param.choices:
        return "one of " + ", ".join(param.choices)
    return {
        "map": "a map", "mapentry": "a map element", "variable": "a variable", "ident": "a name",
        "type": "a type",
        "int": "an integer", "string": "a string", "pointer": "a pointer", "array": "an array",
        "tuple": "a tuple", "record": "a record", "inet": "an address", "buffer": "a buffer",
        "ksym": "a kernel symbol", "usym": "a user symbol", "stack": "a stack",
        "timestamp": "a timestamp", "enum": "an enum", "any": "a value",
    }.get(word, word)  # fmt: skip
