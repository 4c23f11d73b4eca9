"""Macro expansion, as the analyser does it: hygienically and in place.

bpftrace macros are "semantic text replacement": a call inlines the body.
Rather than copying the body into the tree, the checker walks the body at
each call, with a frame that says what each parameter stands for:

* `$p`: the caller's variable (the macro may assign it);
* `@p`: the caller's map (by name);
* `p`: an expression, evaluated in the caller's scope; the body sees its type.

The body sees nothing else of the caller (hygiene): its own `$vars` live in
a scope of their own, and a map not passed in is an error.

For navigation, each parameter is a symbol of its own (kind "param"): a
name in the body that stands for a parameter is recorded there, and the
caller's variable or map is used at the call's argument instead
(check_symbols.note). So "find references" of the caller's `$a` lists the
argument, never the `$x` inside the macro, and renaming one leaves the
other alone.
"""

from __future__ import annotations

from ..syntax import ast
from ..syntax.macro_expansion import parameter_fits
from . import types as T
from .scopes import Scope


def expand(checker, name: str, node, args: list) -> T.Type:
    # A bare name (`max_depth`) is a call too: the name is a use of the macro.
    name_node = node.name if isinstance(node, ast.Call) else node
    checker.record_name(checker.symbols.callable("macro", name), name_node, "use")
    candidates = checker.macros[name]
    macro = _choose(candidates, args)
    if macro is None:
        checker.report(
            "macro", f"Call to {name}() has arguments that do not match any definition.", node.span
        )
        for arg in args:
            checker.argument_type(arg)
        return T.UNKNOWN
    chain = [frame.macro for frame in checker.frames]
    if macro in chain:
        names = " > ".join(m.name.text for m in chain + [macro])
        checker.report("macro", f"Recursive macro call detected. Call chain: {names}", node.span)
        return T.UNKNOWN
    frame = _bind(checker, macro, node, args)
    if frame is None:
        return T.UNKNOWN
    outer_scope = checker.scope
    checker.frames.append(frame)
    checker.scope = Scope(node, None)
    try:
        value = checker.walk_block(macro.body)
    finally:
        checker.scope = outer_scope
        checker.frames.pop()
    return value if value is not None else T.VOID


def _choose(candidates: list[ast.Macro], args: list):
    fitting = [m for m in candidates if len(m.params) == len(args)]
    for macro in fitting:
        if all(parameter_fits(param, arg) for param, arg in zip(macro.params, args)):
            return macro
    return fitting[0] if fitting else None


def _bind(checker, macro: ast.Macro, node, args: list):
    from .checker import MacroFrame

    frame = MacroFrame(macro, node if isinstance(node, ast.Call) else _as_call(node), {}, {}, {}, {}, checker.scope)
    ok = True
    for param, arg in zip(macro.params, args):
        if isinstance(param, ast.Variable):
            if not isinstance(arg, ast.Variable):
                _mismatched(checker, macro, param, arg, "a variable")
                ok = False
                continue
            symbol = checker.variable_symbol(arg.name)
            if symbol is None:  # the macro may give the caller's variable its value
                symbol = checker.symbols.variable(checker.scope.owner, arg.name)
                symbol.origin = arg.span
                checker.scope.variables[arg.name] = symbol
            checker.note(symbol, arg, None)  # what the body does with it is noted there
            frame.variables[param.name] = symbol
            frame.bindings[param.name] = (checker.symbols.param(param), arg)
        elif isinstance(param, ast.MapRef):
            if not isinstance(arg, ast.MapRef):
                _mismatched(checker, macro, param, arg, "a map")
                ok = False
                continue
            frame.maps[param.name] = checker.map_name(arg.name)
            checker.map_symbol(arg)
            frame.bindings[param.name] = (checker.symbols.param(param), arg)
        else:
            frame.idents[param.name] = checker.argument_type(arg)
            frame.ident_nodes[param.name] = checker.substituted(arg)
            frame.bindings[param.name] = (checker.symbols.param(param), None)
    return frame if ok else None


def _mismatched(checker, macro: ast.Macro, param, arg, wanted: str) -> None:
    got = "a map" if isinstance(arg, ast.MapRef) else "a variable" if isinstance(arg, ast.Variable) else "an expression"
    checker.argument_type(arg)  # still a use of whatever was passed
    checker.report(
        "macro", f"Mismatched arg. {macro.name.text}() expects {wanted} for arg {param.name} but got {got}.",
        arg.span,
    )  # fmt: skip


def _as_call(node) -> ast.Call:
    """A bare macro name (`max_path_depth`) is a call with no arguments."""
    return ast.Call(node.span, ast.Name(node.span, node.name), [])


def check_hygiene(checker, node: ast.MapRef) -> None:
    """A map used in a macro body must have come in as a parameter."""
    if checker.frames and node.name not in checker.frames[-1].maps:
        checker.report(
            "macro", f"Unhygienic access to map: {node.name}. "
            "Maps must be passed into the macro as arguments.", node.span,
        )  # fmt: skip
