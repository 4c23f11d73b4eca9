"""`-f json` output: one JSON object per line, `{"type": T, "data": D}`,
written the way 0.17 writes it (", " and ": " between object members,
no spaces inside tuples and arrays, keys and strings escaped by
values.json_escape()).

    printf, time, cat, join, syscall   {"type": "printf", "data": "text"}
    print(value)                       {"type": "value", "data": 7}
    a map                              {"type": "map", "data": {"@b": {"x": 2}}}
    a hist or lhist map                {"type": "hist", "data": {"@h": [buckets]}}
    an avg or stats map                {"type": "stats", "data": {"@st": {...}}}
    attached probes, lost events       {"type": "attached_probes", "data": {"probes": 1}}

An empty map writes nothing. A multi-key map's key is its parts' text
joined with "," ("1,k").
"""

from __future__ import annotations

from typing import Iterable, Sequence

from ...semantic import types as T
from ..program import MapInfo
from . import hist
from .maps import Entry, aggregation_kind, key_parts, ordered_entries
from .values import ValuePrinter, c_divide, json_escape


def message_json(kind: str, text: str, printer: ValuePrinter) -> str:
    return f'{{"type": "{kind}", "data": "{json_escape(text, printer.style)}"}}\n'


def counter_json(kind: str, field: str, count: int) -> str:
    return f'{{"type": "{kind}", "data": {{"{field}": {count}}}}}\n'


def value_json(t: T.Type, value, printer: ValuePrinter) -> str:
    return f'{{"type": "value", "data": {printer.json(t)(value)}}}\n'


def map_json(
    info: MapInfo, entries: Sequence[Entry], printer: ValuePrinter, top: int = 0, div: int = 0
) -> str:
    """What print(@m, top, div) writes in JSON mode (also used at exit)."""
    if not entries:
        return ""
    style = printer.style
    kind = aggregation_kind(info)
    if kind in ("hist", "lhist"):
        message_type = "hist"
    elif kind in ("avg", "stats"):
        message_type = "stats"
    else:
        message_type = "map"
    elements = []
    for key, value in ordered_entries(info, entries, style, top):
        value_text = _map_value_json(info, value, div, printer)
        if info.scalar:
            elements.append(value_text)
        else:
            key_text = json_escape(",".join(key_parts(info, key, printer)), style)
            elements.append(f'"{key_text}": {value_text}')
    body = ", ".join(elements)
    if not info.scalar:
        body = "{" + body + "}"
    name = json_escape(info.name, style)
    return f'{{"type": "{message_type}", "data": {{"{name}": {body}}}}}\n'


def _map_value_json(info: MapInfo, value, div: int, printer: ValuePrinter) -> str:
    kind = aggregation_kind(info)
    style = printer.style
    agg = info.aggregation
    if kind == "hist":
        return hist.hist_json(value, agg.bits if agg else 0, max(div, 1), style)
    if kind == "lhist":
        return hist.lhist_json(value, agg.min, agg.max, agg.step, style)
    if kind == "avg":
        return str(c_divide(value.average, div) if div > 1 else value.average)
    if kind == "stats":
        average = value.average
        if style.print_args_apply_to_stats and div > 1:
            average = c_divide(average, div)
        return f'{{"count": {value.count}, "average": {average}, "total": {value.total}}}'
    if kind is not None or (isinstance(info.value, T.Int) and div > 1):
        return str(c_divide(value, div) if div > 1 else value)
    return printer.json(info.value)(value)


def exit_json(maps: Iterable[tuple[MapInfo, Sequence[Entry]]], printer: ValuePrinter) -> str:
    """Everything printed when the program ends, in JSON mode: 0.17 writes
    the same two empty lines as in text mode, then one line per non-empty
    map in alphabetical order of name."""
    parts = [printer.style.exit_preamble]
    for info, entries in sorted(maps, key=lambda pair: pair[0].name):
        parts.append(map_json(info, entries, printer))
    return "".join(parts)
