"""Inlay hints: the inferred type of each `$var` and `@map` where it is
first assigned, and parameter names before the arguments of builtins that
take several.

Types come from the symbols of the snapshot's analysis (their final,
widened type); parameter names from the builtins table. A hint is left out
where it would only repeat what the text says: a type written in a `let`
or a fn's parameter list, a cast's type, an argument already named like
its parameter.
"""

from __future__ import annotations

from lsprotocol import types as lsp

from .guard import guarded

# First parameters that the builtin's own name already explains
# (`hist(value, ...)`, `delete(map, ...)`, `str(data, ...)`).
_OBVIOUS_FIRST = {"value", "map", "data", "fmt", "ptr", "path", "cond"}


def register(server) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_INLAY_HINT)
    @guarded(list)
    def inlay_hints(ls, params: lsp.InlayHintParams) -> list[lsp.InlayHint]:
        snapshot = ls.snapshot(params.text_document.uri)
        within = snapshot.converter.span(params.range)
        settings = ls.settings
        return hints(snapshot, within, types=settings.type_hints, parameters=settings.parameter_hints)


def hints(snapshot, within=None, *, types: bool = True, parameters: bool = True) -> list[lsp.InlayHint]:
    """The hints of a snapshot whose position lies in the byte span `within`
    (inclusive at both ends: a hint at the end of a name still shows)."""
    if not (types or parameters):
        return []
    found: list[tuple[int, lsp.InlayHint]] = []
    walk = _Walk(snapshot)
    if types:
        found += walk.type_hints()
    if parameters:
        found += walk.parameter_hints()
    if within is not None:
        found = [(offset, hint) for offset, hint in found if within.start <= offset <= within.end]
    found.sort(key=lambda item: item[0])
    return [hint for _, hint in found]


class _Walk:
    def __init__(self, snapshot) -> None:
        from compiler.semantic import builtins
        from compiler.semantic import types as T
        from compiler.syntax import ast

        self.ast, self.builtins, self.T = ast, builtins, T
        self.snapshot = snapshot
        self.analysis = snapshot.analysis
        self.converter = snapshot.converter
        self.source = snapshot.source
        program = snapshot.program
        self.user_names = {m.name.text for m in program.macros} | {f.name.text for f in program.of_type(ast.Function)}
        # Assignment targets whose value's type is written out (a cast).
        self.cast_targets: set[int] = set()
        # Where a map access ends, by where its map's name starts: a map's
        # hint goes after its keys (`@m[k]: count_t`), not between.
        self.access_ends: dict[int, int] = {}
        self.calls = []
        # A macro body is shared by all its calls: a type seen there belongs
        # to one caller's variable, so hints are not placed inside it.
        self.macro_spans = [macro.span for macro in program.macros]
        for node in ast.walk(program):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Cast):
                self.cast_targets.add(node.target.span.start)
            elif isinstance(node, ast.Call):
                self.calls.append(node)
            elif isinstance(node, ast.MapAccess):
                self.access_ends[node.span.start] = node.span.end

    # ---------------------------------------------------------------- types

    def type_hints(self) -> list[tuple[int, lsp.InlayHint]]:
        result = []
        for symbol in self.analysis.symbols:
            if symbol.kind not in ("variable", "map"):
                continue
            site = self.first_site(symbol)
            t = symbol.type
            if site is None or t is None or self.T.mentions_unknown(t):
                continue
            if getattr(symbol, "declared_type", None) is not None or site.start in self.cast_targets:
                continue
            end = max(site.end, self.access_ends.get(site.start, site.end)) if symbol.kind == "map" else site.end
            label = f": {t}"
            tooltip = f"{symbol.name}: {t}"
            key = getattr(symbol, "key", None)
            if symbol.kind == "map" and key is not None and not isinstance(key, self.T.Void):
                keys = key.elements if isinstance(key, self.T.Tuple) else (key,)
                tooltip = f"{symbol.name}[{', '.join(map(str, keys))}]: {t}"
            hint = lsp.InlayHint(
                position=self.converter.position(end),
                label=label,
                kind=lsp.InlayHintKind.Type,
                tooltip=tooltip,
                padding_left=False,
                padding_right=False,
            )
            result.append((end, hint))
        return result

    def first_site(self, symbol):
        sites = [
            span for span in symbol.definitions
            if not any(macro.start <= span.start < macro.end for macro in self.macro_spans)
        ]  # fmt: skip
        return min(sites, key=lambda span: span.start) if sites else None

    # ----------------------------------------------------------- parameters

    def parameter_hints(self) -> list[tuple[int, lsp.InlayHint]]:
        result = []
        for call in self.calls:
            name = call.name.text
            if name in self.user_names:
                continue
            builtin = self.builtins.lookup(name)
            if builtin is None:
                continue
            signature = _signature(builtin, len(call.args))
            if signature is None or len(signature.params) < 2:
                continue
            for index, (param, arg) in enumerate(zip(signature.params, call.args)):
                if self.needs_no_name(index, param, arg):
                    continue
                hint = lsp.InlayHint(
                    position=self.converter.position(arg.span.start),
                    label=f"{param.name}:",
                    kind=lsp.InlayHintKind.Parameter,
                    tooltip=param.doc or None,
                    padding_left=False,
                    padding_right=True,
                )
                result.append((arg.span.start, hint))
        return result

    def needs_no_name(self, index: int, param, arg) -> bool:
        ast = self.ast
        if index == 0 and param.name in _OBVIOUS_FIRST:
            return True
        if isinstance(arg, ast.TYPE_NODES) or isinstance(arg, ast.ErrorExpr):
            return True
        if isinstance(arg, ast.Identifier) and arg.name in param.choices:
            return True  # `kstack(perf)`: the word says what it is
        text = self.source.slice(arg.span).strip().lstrip("$@")
        if text == param.name:
            return True
        return isinstance(arg, ast.FieldAccess) and arg.field.text == param.name


def _signature(builtin, count: int):
    """The signature a call with `count` arguments uses: the first whose
    arity fits, as the checker chooses it for calls without special shapes."""
    for signature in builtin.signatures:
        if signature.min_args <= count <= signature.most_args:
            return signature
    return None
