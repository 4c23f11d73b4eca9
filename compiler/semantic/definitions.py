"""The program's definitions, gathered before any probe is checked:
macros, fn subprograms, map declarations, the config block and the C
definitions of the preamble. A probe may use any of them wherever they are
written.
"""

from __future__ import annotations

import re

from ..diagnostics import Related
from ..syntax import ast
from . import types as T
from .cdefs import parse_c_definition

MAP_KINDS = ("hash", "lruhash", "percpuhash", "percpulruhash")

# Config keys: (accepted value kinds, allowed identifiers or None).
CONFIG_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...] | None]] = {
    "cache_user_symbols": (("ident", "string"), ("PER_PROGRAM", "PER_PID", "NONE")),
    "cpp_demangle": (("bool", "int"), None),
    "lazy_symbolication": (("bool", "int"), None),
    "license": (("string",), None),
    "log_size": (("int",), None),
    "max_bpf_progs": (("int",), None),
    "max_cat_bytes": (("int",), None),
    "max_map_keys": (("int",), None),
    "max_probes": (("int",), None),
    "max_strlen": (("int",), None),
    "missing_probes": (("ident", "string"), ("error", "warn", "ignore")),
    "on_stack_limit": (("int",), None),
    "perf_rb_pages": (("int",), None),
    "print_maps_on_exit": (("bool", "int"), None),
    "show_debug_info": (("bool", "int"), None),
    "stack_mode": (("ident", "string"), ("bpftrace", "perf", "raw", "build_id")),
    "str_trunc_trailer": (("string",), None),
    "use_blazesym": (("bool", "int"), None),
    "unstable_tseries": (("ident", "string", "bool"), ("error", "warn", "enable")),
    "unstable_typeinfo": (("ident", "string", "bool"), ("error", "warn", "enable")),
    "unstable_dw_ustack": (("ident", "string", "bool"), ("error", "warn", "enable")),
    "unstable_map_decl": (("ident", "string", "bool"), ("error", "warn", "enable")),
    "unstable_macro": (("ident", "string", "bool"), ("error", "warn", "enable")),
    "unstable_import": (("ident", "string", "bool"), ("error", "warn", "enable")),
}
RENAMED = {"strlen": "max_strlen", "no_cpp_demangle": "cpp_demangle",
           "cat_bytes_max": "max_cat_bytes", "map_keys_max": "max_map_keys"}  # fmt: skip
ENVIRONMENT_ONLY = ("btf", "kernel_build", "kernel_source", "vmlinux")
LICENSES = ("GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL")


def collect(checker) -> None:
    checker.reporting = True  # these checks run once, so they report now
    try:
        for item in checker.program.items:
            kind = type(item).__name__
            if kind == "Macro":
                _macro(checker, item)
            elif kind == "Function":
                _function(checker, item)
            elif kind == "MapDecl":
                _map_decl(checker, item)
            elif kind == "Config":
                _config(checker, item)
            elif kind == "CDefinition":
                _c_definition(checker, item)
            elif kind == "CPreprocessor":
                _preprocessor(checker, item)
            elif kind == "Import":
                # We do not read the imported file (the analyser reads no
                # files), so a name it may define is not an error.
                checker.has_imports = True
    finally:
        checker.reporting = False


def _macro(checker, macro: ast.Macro) -> None:
    name = macro.name.text
    _declare(checker, checker.symbols.callable("macro", name), macro.name)
    for param in macro.params:
        if isinstance(param, (ast.Variable, ast.MapRef, ast.Identifier)):
            checker.declared_references[param] = checker.symbols.param(param)
    shape = _shape(macro)
    for other in checker.macros.get(name, []):
        if _same_calls(_shape(other), shape):
            checker.report(
                "macro", f"Redefinition of macro: {name}", macro.name.span,
                related=[Related(other.name.span, "This is the original definition.")],
            )  # fmt: skip
            return
    seen: set[str] = set()
    for param in macro.params:
        label = getattr(param, "name", "")
        if label in seen:
            kind = {"Variable": "Variable", "MapRef": "Map"}.get(type(param).__name__, "Ident")
            checker.report("macro", f"{kind} for macro argument has already been used: {label}", param.span)
        seen.add(label)
    checker.macros.setdefault(name, []).append(macro)


def _declare(checker, symbol, name_node) -> None:
    """A name declared before any walk: a definition the walk keeps."""
    symbol.declarations.append(name_node.span)
    symbol.definitions.append(name_node.span)
    checker.declared_references[name_node] = symbol


def _shape(macro: ast.Macro) -> tuple[str, ...]:
    return tuple(type(p).__name__ for p in macro.params)


def _same_calls(existing: tuple[str, ...], new: tuple[str, ...]) -> bool:
    """Whether the existing definition would take every call the new one is
    for, as bpftrace decides it: a plain parameter (Identifier) takes
    anything, `$v` only a variable, `@m` only a map. So `m($v)` then `m(x)`
    is an overload, but `m(x)` then `m($v)` is a redefinition."""
    if len(existing) != len(new):
        return False
    return all(old == "Identifier" or old == other for old, other in zip(existing, new))


def _function(checker, fn: ast.Function) -> None:
    name = fn.name.text
    _declare(checker, checker.symbols.callable("function", name), fn.name)
    if name in checker.functions:
        checker.report(
            "function", f"Redefinition of function: {name}", fn.name.span,
            related=[Related(checker.functions[name].name.span, "This is the original definition.")],
        )  # fmt: skip
        return
    checker.functions[name] = fn


def _map_decl(checker, decl: ast.MapDecl) -> None:
    kind = decl.kind.text
    if kind not in MAP_KINDS:
        checker.report("map-declaration", f"Invalid bpf map type: {kind}", decl.kind.span,
                       **checker.suggest(kind, MAP_KINDS, decl.kind.span))  # fmt: skip
    if decl.max_entries.value < 1:
        checker.report("map-declaration", "Map declarations need at least one entry", decl.max_entries.span)
    symbol = checker.symbols.map(decl.map.name)
    _declare(checker, symbol, decl.map)
    if symbol.declaration is not None:
        checker.report(
            "map-declaration", f"Redeclaration of map: {decl.map.name}", decl.map.span,
            related=[Related(symbol.declaration, "the map is first declared here")],
        )  # fmt: skip
        return
    symbol.declared_kind, symbol.declaration = kind, decl.map.span


def _config(checker, config: ast.Config) -> None:
    seen: dict[str, ast.ConfigEntry] = {}
    for entry in config.entries:
        key = entry.key.text.lower().removeprefix("bpftrace_")
        if key in RENAMED:
            checker.warn("config", f"{entry.key.text} has been renamed, please use {RENAMED[key]}", entry.key.span)
            key = RENAMED[key]
        if key in ENVIRONMENT_ONLY:
            checker.report("config", f"{entry.key.text}: can only be set as an environment variable",
                           entry.key.span)  # fmt: skip
            continue
        if key not in CONFIG_KEYS:
            checker.report("config", f"Unrecognized config variable: {entry.key.text}", entry.key.span,
                           **checker.suggest(key, CONFIG_KEYS, entry.key.span))  # fmt: skip
            continue
        if key in seen:  # bpftrace takes the last value
            checker.warn(
                "config", f"Duplicate config variable: {entry.key.text}",
                entry.key.span, related=[Related(seen[key].key.span, "first set here")],
            )  # fmt: skip
        seen[key] = entry
        _config_value(checker, key, entry)


def _config_value(checker, key: str, entry: ast.ConfigEntry) -> None:
    kinds, choices = CONFIG_KEYS[key]
    value = entry.value
    kind = {"IntLit": "int", "StrLit": "string", "BoolLit": "bool", "Identifier": "ident"}[type(value).__name__]
    if kind == "bool" and "int" in kinds:
        kind = "int"
    if kind not in kinds:
        wanted = " or ".join({"int": "an integer", "string": "a string", "bool": "a boolean",
                              "ident": "a name"}[k] for k in kinds)  # fmt: skip
        checker.report("config", f"Invalid type for {key}: expected {wanted}", value.span)
        return
    text = value.name if kind == "ident" else value.text if kind == "string" else None
    if choices is not None and text is not None and text not in choices:
        checker.report("config", f"Invalid value for {key}: {text}", value.span,
                       hints=(f"valid values: {', '.join(choices)}",))  # fmt: skip
    if key == "license" and text not in LICENSES:
        checker.report(
            "config", f"Invalid value for license. Found: {text}. Valid values: {', '.join(LICENSES)}",
            value.span,
        )  # fmt: skip
    if key == "max_strlen" and kind == "int":
        checker.max_strlen = value.value
    if key == "stack_mode" and text in choices:
        checker.stack_mode = text


_DEFINE = re.compile(r"#\s*define\s+([A-Za-z_]\w*)(?:\s+(.*))?$", re.S)


def _preprocessor(checker, item: ast.CPreprocessor) -> None:
    """`#define NAME 42` gives NAME a type; an `#include` may define any
    macro, so names we cannot find are no longer errors (clang knows them,
    we do not read the headers)."""
    text = item.text.strip()
    if re.match(r"#\s*include\b", text):
        checker.has_includes = True
        return
    define = _DEFINE.match(text)
    if not define or "(" in define.group(1):
        return
    value = (define.group(2) or "").strip()
    number = re.fullmatch(r"(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)[uUlL]*", value)
    if number:
        digits = number.group(1)
        base = 16 if digits[:2].lower() == "0x" else 8 if digits.startswith("0") and len(digits) > 1 else 10
        checker.defines[define.group(1)] = T.literal_type(int(digits, base))
    elif value.startswith('"') and value.endswith('"'):
        checker.defines[define.group(1)] = T.String(len(value) - 1)
    else:
        checker.defines[define.group(1)] = T.UNKNOWN


def _c_definition(checker, item: ast.CDefinition) -> None:
    record, problem = parse_c_definition(item.text, checker.ctx)
    if problem:
        checker.warn("c-definition", problem, item.span)
    if record is not None:
        checker.ctx.define_record(record)


def unused_maps(checker) -> None:
    for symbol in checker.symbols.maps.values():
        if symbol.declaration is not None and not symbol.written and not symbol.read:
            checker.warn("unused", f"Unused map: {symbol.name}", symbol.declaration)

