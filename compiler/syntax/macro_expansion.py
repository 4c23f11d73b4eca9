"""Macro expansion as a rewrite of the tree, for the backend.

The analyser checks macros in place (semantic/macros.py) and reports what
is wrong with a call. To generate code, each call is replaced by a copy of
the macro's body, as bpftrace's "semantic text replacement" does:

* a `$v` parameter becomes the caller's variable (the body may assign it);
* an `@m` parameter becomes the caller's map;
* a plain parameter `x` becomes a copy of the argument expression,
  evaluated wherever the body uses it;
* the body's own `$variables` get names no script can write
  (`$v~m3`), so expansions never see the caller's or each other's.

The result, a macro-free program, is analysed again, so each expansion
gets its own types. Call this only on a program the analyser accepted.
"""

from __future__ import annotations

import copy
import dataclasses

from . import ast

_MAX_DEPTH = 64  # nested expansions; the analyser reports recursion


def expand_macros(program: ast.Program) -> ast.Program:
    macros: dict[str, list[ast.Macro]] = {}
    for item in program.items:
        if isinstance(item, ast.Macro):
            macros.setdefault(item.name.text, []).append(item)
    if not macros:
        return program
    expander = _Expander(macros)
    items = [expander.rewrite(item) for item in program.items if not isinstance(item, ast.Macro)]
    return dataclasses.replace(program, items=items)


class _Expander:
    def __init__(self, macros: dict[str, list[ast.Macro]]) -> None:
        self.macros = macros
        self.count = 0
        self.depth = 0

    def rewrite(self, node):
        """`node` with every macro call in it expanded (nodes are rebuilt
        where something changed below them)."""
        if isinstance(node, ast.Call) and node.name.text in self.macros:
            return self.expand(node.name.text, node, [self.rewrite(a) for a in node.args])
        if isinstance(node, ast.Identifier) and node.name in self.macros:
            return self.expand(node.name, node, [])
        if not isinstance(node, ast.Node):
            return node
        changes = {}
        for f in dataclasses.fields(node):
            if f.metadata.get("walk") is False:
                continue
            value = getattr(node, f.name)
            if isinstance(value, ast.Node):
                new = self.rewrite(value)
                if new is not value:
                    changes[f.name] = new
            elif isinstance(value, list) and any(isinstance(v, ast.Node) for v in value):
                new_list = [self.rewrite(v) for v in value]
                if any(a is not b for a, b in zip(new_list, value)):
                    changes[f.name] = new_list
        return dataclasses.replace(node, **changes) if changes else node

    def expand(self, name: str, call, args: list):
        macro = _choose(self.macros[name], args)
        if macro is None or self.depth >= _MAX_DEPTH:
            return call  # the analyser has reported it
        self.count += 1
        suffix = f"~m{self.count}"
        variables, maps, expressions = {}, {}, {}
        for param, arg in zip(macro.params, args):
            if isinstance(param, ast.Variable):
                variables[param.name] = arg.name
            elif isinstance(param, ast.MapRef):
                maps[param.name] = arg.name
            else:
                expressions[param.name] = arg
        body = _substitute(copy.deepcopy(macro.body), variables, maps, expressions, suffix)
        self.depth += 1
        try:
            return self.rewrite(body)
        finally:
            self.depth -= 1


def _substitute(node, variables: dict, maps: dict, expressions: dict, suffix: str):
    if isinstance(node, ast.Variable):
        return dataclasses.replace(node, name=variables.get(node.name, node.name + suffix))
    if isinstance(node, ast.MapRef):
        return dataclasses.replace(node, name=maps.get(node.name, node.name))
    if isinstance(node, ast.Identifier) and node.name in expressions:
        return copy.deepcopy(expressions[node.name])
    if not isinstance(node, ast.Node):
        return node
    for f in dataclasses.fields(node):
        if f.metadata.get("walk") is False:
            continue
        value = getattr(node, f.name)
        if isinstance(value, ast.Node):
            setattr(node, f.name, _substitute(value, variables, maps, expressions, suffix))
        elif isinstance(value, list):
            setattr(node, f.name, [_substitute(v, variables, maps, expressions, suffix) for v in value])
    return node


def _choose(candidates: list[ast.Macro], args: list):
    """The first definition whose parameters take these arguments (as the
    analyser chooses: semantic/macros.py)."""
    for macro in candidates:
        if len(macro.params) == len(args) and all(parameter_fits(p, a) for p, a in zip(macro.params, args)):
            return macro
    return None


def parameter_fits(param, arg) -> bool:
    """Whether a macro parameter takes this argument: `$v` only a variable,
    `@m` only a map, a plain name anything."""
    if isinstance(param, ast.Variable):
        return isinstance(arg, ast.Variable)
    if isinstance(param, ast.MapRef):
        return isinstance(arg, ast.MapRef)
    return True
