"""`btc --emit types`: every map and variable of a program with its type.

    @calls[string[16]]: count_t
    @start[uint32]: uint64

    tracepoint:syscalls:sys_exit_read (line 12)
      $us: uint64
"""

from __future__ import annotations

from ..syntax import ast
from .scopes import MapSymbol, VariableSymbol


def dump_types(analysis) -> str:
    lines = []
    maps = sorted((s for s in analysis.symbols if isinstance(s, MapSymbol)), key=lambda s: s.name)
    for symbol in maps:
        if symbol.type is None and symbol.key is None:
            continue
        key = "" if symbol.key is None or str(symbol.key) == "void" else f"[{symbol.key}]"
        lines.append(f"{symbol.name}{key}: {symbol.type if symbol.type is not None else 'unknown'}")
    owners = [item for item in analysis.program.items if isinstance(item, (ast.Probe, ast.Function, ast.Macro))]
    variables = [s for s in analysis.symbols if isinstance(s, VariableSymbol) and s.origin is not None]
    for owner in owners:
        inside = sorted(
            (s for s in variables if owner.span.start <= s.origin.start < owner.span.end),
            key=lambda s: s.origin.start,
        )
        if not inside:
            continue
        line, _ = analysis.source.lines.line_col(owner.span.start)
        lines.append("")
        lines.append(f"{_title(owner)} (line {line})")
        seen = set()
        for symbol in inside:
            if (symbol.name, symbol.origin) in seen:
                continue
            seen.add((symbol.name, symbol.origin))
            lines.append(f"  {symbol.name}: {symbol.type if symbol.type is not None else 'unknown'}")
    return "\n".join(lines).lstrip("\n") + "\n" if lines else ""


def _title(owner) -> str:
    if isinstance(owner, ast.Probe):
        return ", ".join(ap.raw or "<error>" for ap in owner.attach_points)
    kind = "fn" if isinstance(owner, ast.Function) else "macro"
    return f"{kind} {owner.name.text}"
