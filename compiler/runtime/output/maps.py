"""Printing whole maps: the order of their entries, print(@m, top, div),
and the text form of a map (the JSON form is in json.py and shares the
ordering here).

A map's entries come from decode.read_map(): (key, value) pairs, the key
None for a scalar map, aggregations already combined over CPUs and
histograms grouped into {bucket: count} dicts.

Order within a map (0.17's rules):

* int values, count, sum, min, max: ascending by value;
* avg and stats: ascending by average;
* hist and lhist: ascending by the total count;
* anything else: by key; a multi-key is stably sorted on each integer or
  string part from the last to the first, so the first part ends up the
  primary one; other parts are not compared.

Ties keep the order the entries had before sorting. For hist, lhist, avg
and stats maps 0.17 gathers the entries in a std::map, so that order is
the order of the keys' bytes (see _raw_key_order); for other maps it is
the BPF hash's iteration order, random per run, and we use the keys' order
instead so that our output is deterministic. (0.17's std::sort is stable
only up to 16 entries; beyond that its ties cannot be predicted.)
"""

from __future__ import annotations

import operator
from typing import Iterable, Optional, Sequence

from ...semantic import types as T
from ..decode import Address, IntEntries, Stats
from ..program import MapInfo
from . import hist
from .style import Style
from .values import ValuePrinter, c_divide, stats_text

Entry = tuple[object, object]

_U64_MASK = (1 << 64) - 1

# Maps whose entries 0.17 gathers in a std::map keyed by their bytes.
_GATHERED_BY_KEY_BYTES = ("hist", "lhist", "avg", "stats")

# Value types whose maps 0.17 prints without newlines between entries.
_UNSEPARATED_SPECIALS = ("ksym_t", "usym_t", "kstack", "ustack")


def aggregation_kind(info: MapInfo) -> Optional[str]:
    if info.aggregation is not None:
        return info.aggregation.kind
    if isinstance(info.value, T.Aggregation):
        return info.value.kind
    return None


# ------------------------------------------------------------------ order


def ordered_entries(
    info: MapInfo, entries: Sequence[Entry], style: Style, top: int = 0
) -> list[Entry]:
    """The entries in print order, keeping only the last `top` if top > 0."""
    kind = aggregation_kind(info)
    ordered = _by_value_then_int_key(info, kind, entries)
    if ordered is not None:
        pass
    elif not info.scalar and isinstance(info.key, (T.Int, T.String)):
        ordered = sorted(entries, key=_first)  # ints and bytes order as they are: faster
    else:
        ordered = sorted(entries, key=lambda entry: _generic_order(entry[0]))
    gathered = kind in _GATHERED_BY_KEY_BYTES and style.aggregate_ties_in_key_byte_order
    if gathered and not info.scalar:
        ordered.sort(key=lambda entry: _raw_key_order(info.key, entry[0]))
    if kind in ("hist", "lhist"):
        ordered.sort(key=lambda entry: sum(entry[1].values()))
    elif kind in ("avg", "stats"):
        ordered.sort(key=lambda entry: entry[1].average)
    elif kind in ("count", "sum") or isinstance(info.value, T.Int):
        ordered.sort(key=_second)
    elif kind in ("min", "max"):
        if style.min_max_sort_unsigned:
            ordered.sort(key=lambda entry: entry[1] & _U64_MASK)
        else:
            ordered.sort(key=lambda entry: entry[1])
    elif not info.scalar:
        _sort_by_key(info.key, ordered, style)
    if kind == "stats" and not style.print_args_apply_to_stats:
        top = 0
    if top and len(ordered) > top:
        ordered = ordered[len(ordered) - top:]
    return ordered


# Sort keys in C, not a Python call per entry: a map may have 100k entries.
_first = operator.itemgetter(0)
_second = operator.itemgetter(1)


def _by_value_then_int_key(info: MapInfo, kind: Optional[str], entries: Sequence[Entry]) -> Optional[list[Entry]]:
    """The order of the commonest big maps (integer keys, integer values:
    counts, sums), ascending by value with ties by key; None for others."""
    order = _int_order(info, kind, entries)
    if order is None:
        return None
    keys, values = order
    return list(zip(keys, map(values.__getitem__, keys)))


def _int_order(info: MapInfo, kind: Optional[str], entries: Sequence[Entry]) -> Optional[tuple[list, dict]]:
    """(keys in print order, {key: value}) for a map of integer keys and
    integer values, which sorts only the keys, with no tuple compared; None
    for other maps."""
    if info.scalar or not isinstance(info.key, T.Int) or kind in ("hist", "lhist", "avg", "stats"):
        return None
    if kind not in ("count", "sum") and not isinstance(info.value, T.Int):
        return None
    values = entries.as_dict() if isinstance(entries, IntEntries) else dict(entries)
    if len(values) != len(entries):  # a key twice (never from a BPF map): the general path keeps both
        return None
    keys = _sorted_ints(values)
    keys.sort(key=values.__getitem__)  # stable: ties stay in key order
    return keys, values


def _sorted_ints(unique: dict) -> list[int]:
    """The dict's integer keys in ascending order. Keys from a compact
    range (sizes, pids, ports...) are found by walking the range, in C,
    which is several times faster than sorting them."""
    count = len(unique)
    if count >= 64:
        low, high = min(unique), max(unique)
        if high - low + 1 == count:  # every key of the range: nothing to look up
            return list(range(low, high + 1))
        if high - low < 2 * count:
            return list(filter(unique.__contains__, range(low, high + 1)))
    return sorted(unique)


def _sort_by_key(key_type: T.Type, ordered: list[Entry], style: Style) -> None:
    if isinstance(key_type, T.Tuple):
        parts = list(enumerate(key_type.elements))
    else:
        parts = [(None, key_type)]
    for position, part_type in reversed(parts):
        def part(entry: Entry, position=position):
            return entry[0] if position is None else entry[0][position]

        if isinstance(part_type, T.Int):
            def int_order(entry: Entry, part=part, t=part_type) -> int:
                return _int_key_order(part(entry), t, style)

            ordered.sort(key=int_order)
        elif isinstance(part_type, T.String):
            ordered.sort(key=part)


def _int_key_order(value: int, t: T.Int, style: Style) -> int:
    if style.int_keys_sort_unsigned:
        return value & _U64_MASK
    # HEAD compares the key's bytes as a signed integer of its width.
    value &= (1 << t.bits) - 1
    return value - (1 << t.bits) if value >> (t.bits - 1) else value


def _raw_key_order(t: T.Type, value):
    """The order of 0.17's key bytes: integers (and addresses, symbols,
    stack ids) widened to 8 little-endian bytes, strings NUL-padded (which
    orders as the bare bytes), each part of a multi-key in turn."""
    if isinstance(t, T.Tuple):
        return tuple(_raw_key_order(e, part) for e, part in zip(t.elements, value))
    if isinstance(t, (T.Int, T.Bool, T.Pointer)):
        return (int(value) & _U64_MASK).to_bytes(8, "little")
    if isinstance(t, T.Special):
        parts = value if isinstance(value, tuple) else (value,)
        return b"".join((int(p) & _U64_MASK).to_bytes(8, "little") for p in parts)
    if isinstance(t, T.Buffer):
        return bytes([len(value) & 0xFF]) + bytes(value)
    if isinstance(t, T.Inet):
        return value.family.to_bytes(8, "little") + value.data.ljust(16, b"\0")
    if isinstance(t, T.String):
        return bytes(value)
    return _generic_order(value)


def _generic_order(value):
    """A total order over any decoded value, to make ties deterministic."""
    if value is None:
        return (0,)
    if isinstance(value, (bool, int)):
        return (1, int(value))
    if isinstance(value, (bytes, bytearray)):
        return (2, bytes(value))
    if isinstance(value, str):
        return (3, value)
    if isinstance(value, (tuple, list)):
        return (4, tuple(_generic_order(e) for e in value))
    if isinstance(value, Address):
        return (5, value.family, value.data)
    if isinstance(value, Stats):
        return (6, value.count, value.total)
    if isinstance(value, dict):
        return (7, tuple(sorted(value.items())))
    return (8, repr(value))


# ------------------------------------------------------------- text parts


def key_text(info: MapInfo, key, printer: ValuePrinter) -> str:
    """The key's parts as text: a multi-key's parts without the tuple's
    parentheses."""
    return ", ".join(key_parts(info, key, printer))


def key_parts(info: MapInfo, key, printer: ValuePrinter) -> list[str]:
    if info.scalar:
        return []
    if isinstance(info.key, T.Tuple):
        return [printer.key_text(t)(part) for t, part in zip(info.key.elements, key)]
    return [printer.key_text(info.key)(key)]


def map_value_text(info: MapInfo, value, div: int, printer: ValuePrinter) -> str:
    kind = aggregation_kind(info)
    if kind == "avg":
        return str(_average(value, div))
    if kind == "stats":
        # 0.17 ignores div for stats maps (HEAD divides the average).
        average = _average(value, div) if printer.style.print_args_apply_to_stats else value.average
        return stats_text(value.count, average, value.total, printer.style)
    if kind is not None:  # count sum min max
        return str(_divide(value, div))
    if isinstance(info.value, T.Int) and div > 1:
        return str(_divide(value, div))
    return printer.text(info.value)(value)


def _average(value: Stats, div: int) -> int:
    return c_divide(value.average, div) if div > 1 else value.average


def _divide(value: int, div: int) -> int:
    return c_divide(value, div) if div > 1 else value


def _histogram_text(info: MapInfo, counts: dict, div: int, style: Style) -> str:
    agg = info.aggregation
    if aggregation_kind(info) == "hist":
        return hist.hist_text(counts, agg.bits if agg else 0, max(div, 1), style)
    return hist.lhist_text(counts, agg.min, agg.max, agg.step, style)


# ------------------------------------------------------------ whole maps


def map_text(
    info: MapInfo, entries: Sequence[Entry], printer: ValuePrinter, top: int = 0, div: int = 0
) -> str:
    """What print(@m, top, div) writes in text mode (also used at exit)."""
    style = printer.style
    kind = aggregation_kind(info)
    stats_like = kind in ("avg", "stats")
    if not entries:
        if not style.print_empty_maps:
            return ""
        return "\n\n" if stats_like and style.blank_line_after_stats_maps else "\n"
    fast = _fast_text(info, entries, printer, top, div)
    if fast is not None:
        return fast
    ordered = ordered_entries(info, entries, style, top)
    names = _entry_names(info, ordered, printer)
    if kind in ("hist", "lhist"):
        space = " " if style.hist_header_trailing_space else ""
        lines = [f"{name}:{space}\n{_histogram_text(info, value, div, style)}" for name, (_, value) in zip(names, ordered)]
    else:
        # Built once, not per entry: a map may have 100k entries to print.
        value_text = _value_printer(info, div, printer)
        if value_text is str:
            lines = [f"{name}: {value}" for name, (_, value) in zip(names, ordered)]
        else:
            lines = [f"{name}: {value_text(value)}" for name, (_, value) in zip(names, ordered)]
    separator = "\n"
    if _unseparated(info.value) and style.symbol_maps_unseparated:
        separator = ""
    text = separator.join(lines) + "\n"
    if stats_like and style.blank_line_after_stats_maps:
        text += "\n"
    return text


def _fast_text(info: MapInfo, entries: Sequence[Entry], printer: ValuePrinter, top: int, div: int) -> Optional[str]:
    """The text of the commonest big map (integer keys, count or sum
    values, no div): ordered as ordered_entries() does, then every line in
    one %-formatting, which runs in C. None for any other map."""
    style, key, kind = printer.style, info.key, aggregation_kind(info)
    if kind not in ("count", "sum") or div > 1 or not isinstance(key, T.Int) or (key.enum and style.enum_names):
        return None
    order = _int_order(info, kind, entries)
    if order is None:
        return None
    keys, values = order
    if top and len(keys) > top:
        keys = keys[len(keys) - top:]
    if not key.signed and style.int_keys_as_int64 and key.bits == 64 and max(keys) >> 63:
        return None  # keys printed as negative numbers: the general path converts them
    arguments = [0] * (2 * len(keys))
    arguments[0::2] = keys
    arguments[1::2] = list(map(values.__getitem__, keys))
    line = info.name.replace("%", "%%") + "[%d]: %d\n"
    return (line * len(keys)) % tuple(arguments)


def _entry_names(info: MapInfo, ordered: Sequence[Entry], printer: ValuePrinter) -> list[str]:
    """`@m[key]` (or `@m`) for each entry."""
    if info.scalar:
        return [info.name] * len(ordered)
    if isinstance(info.key, T.Tuple):
        parts = [printer.key_text(t) for t in info.key.elements]
        return [f"{info.name}[{', '.join(p(v) for p, v in zip(parts, key))}]" for key, _ in ordered]
    style, name = printer.style, info.name
    if isinstance(info.key, T.Int) and not (info.key.enum and style.enum_names):
        # The common big map, without a call per key.
        if not info.key.signed and style.int_keys_as_int64:
            return [f"{name}[{key - (1 << 64) if key >> 63 else key}]" for key, _ in ordered]
        return [f"{name}[{key}]" for key, _ in ordered]
    text = printer.key_text(info.key)
    return [f"{name}[{text(key)}]" for key, _ in ordered]


def _value_printer(info: MapInfo, div: int, printer: ValuePrinter):
    """The text of one map value, as map_value_text() gives it."""
    kind = aggregation_kind(info)
    if kind in ("count", "sum", "min", "max") or (kind is None and isinstance(info.value, T.Int) and div > 1):
        return str if div <= 1 else (lambda value: str(_divide(value, div)))
    if kind is None:
        return printer.text(info.value)
    return lambda value: map_value_text(info, value, div, printer)


def _unseparated(t: T.Type) -> bool:
    return isinstance(t, T.Inet) or (isinstance(t, T.Special) and t.name in _UNSEPARATED_SPECIALS)


def exit_text(maps: Iterable[tuple[MapInfo, Sequence[Entry]]], printer: ValuePrinter) -> str:
    """Everything printed when the program ends: the preamble, then every
    map in alphabetical order of name."""
    parts = [printer.style.exit_preamble]
    for info, entries in sorted(maps, key=lambda pair: pair[0].name):
        parts.append(map_text(info, entries, printer))
    return "".join(parts)
