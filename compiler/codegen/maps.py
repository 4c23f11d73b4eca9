"""The program's maps: which BPF map holds each `@map`, and the IR for
building keys, looking values up and storing them.

A map's key and value types are the analyser's (fixed by first use);
integers are stored as 64 bits, as bpftrace does. Aggregations live in
per-CPU hashes, one slot per key (layout.AGGREGATION_VALUE_SIZE), and hist
and lhist maps add a u64 bucket index after the user's key.
"""

from __future__ import annotations

import dataclasses
import re

from llvmlite import ir

from ..runtime import layout
from ..runtime.program import AggregationInfo, MapInfo
from ..semantic import types as T
from ..syntax import ast
from .unit import PlannedMap, Unit, record_type
from .values import I64, PTR, i64, timestamp_type

_DECLARED_KINDS = {"hash": "hash", "lruhash": "lru_hash", "percpuhash": "percpu_hash",
                   "percpulruhash": "percpu_lru_hash"}  # fmt: skip
_BUCKETED = ("hist", "lhist")
BPF_ANY = 0


def plan_maps(unit: Unit) -> None:
    params = _aggregation_params(unit.analysis.program)
    formats = _strftime_formats(unit.analysis.program)
    for symbol in unit.analysis.symbols:
        if symbol.kind != "map" or symbol.type is None or T.mentions_unknown(symbol.type):
            continue
        if symbol.key is not None and T.mentions_unknown(symbol.key):
            continue
        info = _map_info(symbol, params.get(symbol.name), unit.options.max_map_keys)
        if symbol.name in formats and info.value == T.TIMESTAMP:
            info = dataclasses.replace(info, value=timestamp_type(formats[symbol.name]))
        global_ = unit.module.add_map(info.symbol, info.bpf_type, info.key_size, info.value_size, info.max_entries)
        unit.maps[symbol.name] = PlannedMap(info, global_)


def _map_info(symbol, aggregation: AggregationInfo | None, max_keys: int) -> MapInfo:
    key = symbol.key if symbol.key is not None else T.VOID
    key = T.VOID if isinstance(key, T.Void) else record_type(key)
    value = symbol.type
    if isinstance(value, T.Aggregation):
        aggregation = aggregation or AggregationInfo(value.kind)
        bpf_type = "percpu_hash"
    else:
        value = record_type(value)
        aggregation = None
        bpf_type = "hash"
    if symbol.declared_kind in _DECLARED_KINDS:
        bpf_type = _DECLARED_KINDS[symbol.declared_kind]
    key_size = 8 if isinstance(key, T.Void) else layout.size_of(key)
    if aggregation is not None and aggregation.kind in _BUCKETED:
        key_size = (0 if isinstance(key, T.Void) else _round8(key_size)) + 8
    return MapInfo(
        name=symbol.name,
        symbol=_symbol_name(symbol.name),
        bpf_type=bpf_type,
        key=key,
        value=value,
        key_size=key_size,
        value_size=max(1, layout.size_of(value)),
        max_entries=max_keys,
        aggregation=aggregation,
    )


def _symbol_name(name: str) -> str:
    return "AT_" + re.sub(r"\W", "_", name[1:])


def _round8(n: int) -> int:
    return (n + 7) // 8 * 8


def _aggregation_params(program: ast.Program) -> dict[str, AggregationInfo]:
    """hist's bits and lhist's bounds, from the calls assigned to each map."""
    found: dict[str, AggregationInfo] = {}
    for node in ast.walk(program):
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
            continue
        target = node.target.map if isinstance(node.target, ast.MapAccess) else node.target
        if not isinstance(target, ast.MapRef):
            continue
        name, args = node.value.name.text, [_literal(a) for a in node.value.args]
        if name == "hist":
            found[target.name] = AggregationInfo("hist", bits=args[1] if len(args) > 1 and args[1] else 0)
        elif name == "lhist" and len(args) == 4 and None not in args[1:]:
            found[target.name] = AggregationInfo("lhist", min=args[1], max=args[2], step=args[3])
    return found


def _strftime_formats(program: ast.Program) -> dict[str, bytes]:
    """The strftime() format of maps assigned a strftime() value: it
    travels in the value's type (values.timestamp_type)."""
    found: dict[str, bytes] = {}
    for node in ast.walk(program):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and node.value.name.text == "strftime":
            target = node.target.map if isinstance(node.target, ast.MapAccess) else node.target
            fmt = node.value.args[0] if node.value.args else None
            if isinstance(target, ast.MapRef) and isinstance(fmt, ast.StrLit):
                found.setdefault(target.name, fmt.value)
    return found


def _literal(node):
    if isinstance(node, ast.IntLit):
        return node.value
    if isinstance(node, ast.Unary) and node.op == "-" and isinstance(node.operand, ast.IntLit):
        return -node.operand.value
    return None


# ------------------------------------------------------------ operations


def lookup(fn, planned: PlannedMap, key: ir.Value) -> ir.Value:
    """A pointer to the value at `key`, or null."""
    return fn.unit.module.call_helper(fn.builder, "map_lookup_elem", PTR, [planned.global_, key])


def update(fn, planned: PlannedMap, key: ir.Value, value: ir.Value) -> None:
    fn.unit.module.call_helper(fn.builder, "map_update_elem", I64, [planned.global_, key, value, i64(BPF_ANY)])


def delete(fn, planned: PlannedMap, key: ir.Value) -> ir.Value:
    return fn.unit.module.call_helper(fn.builder, "map_delete_elem", I64, [planned.global_, key])


def scalar_key(fn) -> ir.Value:
    """The key of a map without keys: a u64 zero."""
    key = fn.temp(8)
    fn.builder.store(i64(0), key)
    return key
