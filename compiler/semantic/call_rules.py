"""Rules about a builtin call that its argument types cannot express: map
functions that need (or must not have) a keyed map, print()'s limits,
warnings about calls that work but may surprise. Mixed into the Checker
through CallChecks; `call_rules` runs once a call's arguments have types.
"""

from __future__ import annotations

from ..syntax import ast
from . import builtins as B
from . import types as T

# Map functions that take a key, and how their message names them.
_KEYED_CALLS = {"has_key": "has_key()", "find": "find()", "delete": "delete() with two arguments"}


class CallRules:
    def call_warnings(self, name: str, node) -> None:
        """Warnings due whatever the arguments are."""
        if name == "debugf":
            self.warn(
                "debugf", "The debugf() builtin is not recommended for production use. "
                "For more information see bpf_trace_printk in bpf-helpers(7).", node.span,
            )  # fmt: skip

    def call_rules(self, name: str, node, args: list, checked: list[B.Arg]) -> None:
        if name in ("delete", "has_key", "find", "len") and args and isinstance(args[0], ast.MapRef):
            self.map_function_rules(name, node, args, checked)
        elif name == "delete" and len(args) == 1 and isinstance(args[0], ast.MapAccess):
            self.deprecated_delete(node, args[0])
        elif name == "print" and args:
            self.print_rules(node, args)
        elif name == "str" and len(checked) == 2:
            length = checked[1].value
            if isinstance(length, int) and not isinstance(length, bool) and length + 1 > self.max_strlen:
                self.warn(
                    "length", f"length param ({length}) is too long and will be shortened to "
                    f"{self.max_strlen} bytes (see BPFTRACE_MAX_STRLEN)", node.span,
                )  # fmt: skip
        elif name == "kstack" and not args and self.stack_mode == "build_id":
            self.warn("stack-mode", "'build_id' stack mode can only be used for ustack. "
                      "Falling back to 'raw' mode.", node.span)  # fmt: skip

    def map_function_rules(self, name: str, node, args: list, checked: list[B.Arg]) -> None:
        """Scalar or keyed: what the map must be, and the key's type."""
        symbol = self.symbols.find_map(self.map_name(args[0].name))
        if symbol is None or symbol.key is None:
            return
        scalar = symbol.key == T.VOID
        if name == "len":
            if scalar:
                self.report("map-key", "call to len() expects a map with explicit keys (non-scalar map)", node.span)
        elif len(args) == 1:  # delete(@m)
            if not scalar:
                self.report(
                    "map-key", "call to delete() with a single argument expects a map without explicit keys "
                    "(scalar map)", node.span,
                )  # fmt: skip
        elif scalar:
            self.report(
                "map-key", f"call to {_KEYED_CALLS[name]} expects a map with explicit keys (non-scalar map)", node.span
            )
        else:
            key = checked[1].type
            if not T.mentions_unknown(key):
                self.check_key_type(symbol, key, args[1].span)

    def deprecated_delete(self, node, access: ast.MapAccess) -> None:
        keys = ", ".join(self.source.slice(k.span) for k in access.keys)
        self.warn(
            "deprecated", "delete() with a map element is deprecated", node.span,
            hints=(f"write delete({access.map.name}, {keys})" if len(access.keys) == 1
                   else f"write delete({access.map.name}, ({keys}))",),
        )  # fmt: skip

    def print_rules(self, node, args: list) -> None:
        first = args[0]
        if isinstance(first, ast.MapRef):
            if self.loops > self.unrolled:
                self.warn(
                    "print-in-loop", "Due to it's asynchronous nature using 'print()' in a loop can lead to "
                    "unexpected behavior. The map will likely be updated before the runtime can 'print' it.",
                    node.span,
                )  # fmt: skip
            symbol = self.symbols.find_map(self.map_name(first.name))
            held = symbol.type if symbol is not None else None
            if isinstance(held, T.Aggregation) and held.kind == "stats" and len(args) > 1:
                self.warn("print", "print()'s top and div arguments are ignored when used on stats() maps.", node.span)
        elif isinstance(first, ast.MapAccess):
            held = self.types.get(first)
            if isinstance(held, T.Aggregation) and not held.readable and held.kind != "stats":
                self.report(
                    "print", f"Map type {held} cannot print the value of individual keys. "
                    "You must print the whole map.", node.span,
                )  # fmt: skip
