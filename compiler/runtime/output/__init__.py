"""Printing what a program produces, byte for byte as bpftrace does: map
contents, print() values, printf text, histograms, in text mode or as
JSON lines (`-f json`).

The runtime picks one output for a run and calls it for each event:

    out = TextOutput(style, resolver)        # or JsonOutput(...)
    write(out.attached_probes(3))
    write(out.printf(formatted_text))        # text from compile_format()
    write(out.map(info, read_map(info, raw_entries), top, div))
    write(out.exit_maps([(info, entries), ...]))

Every method returns the text to write (possibly ""); `encode_output()`
turns it into the bytes for stdout. Which stream a message belongs on
(0.17 writes everything to stdout) is the runtime's choice; see
`Style.attach_message_on_stderr`.

Modules: style (the version differences), values (one value's text and
JSON), printf, hist, maps (ordering and text), json, resolver (symbols,
stacks, user names, time).
"""

from __future__ import annotations

from typing import Iterable, Optional, Sequence

from ...semantic import types as T
from ..program import MapInfo
from . import json as json_lines
from .maps import Entry, exit_text, map_text
from .printf import compile_format
from .resolver import Resolver
from .style import BPFTRACE_0_17, DEFAULT_STYLE, Style
from .resolver import format_strftime, format_time
from .values import ValuePrinter, encode_output

__all__ = [
    "BPFTRACE_0_17", "DEFAULT_STYLE", "JsonOutput", "Resolver", "Style", "TextOutput",
    "ValuePrinter", "compile_format", "encode_output", "format_strftime", "format_time",
    "print_map", "print_value",
]  # fmt: skip


class TextOutput:
    """bpftrace's default output format."""

    def __init__(self, style: Style = DEFAULT_STYLE, resolver: Optional[Resolver] = None) -> None:
        self.style = style
        self.resolver = resolver if resolver is not None else Resolver()
        self.printer = ValuePrinter(style, self.resolver)

    def attached_probes(self, count: int) -> str:
        probes = "probe" if count == 1 else "probes"
        return self.style.attach_message.format(count=count, probes=probes) + "\n"

    def lost_events(self, count: int) -> str:
        return f"Lost {count} events\n"

    def printf(self, text: str) -> str:
        return text

    def time(self, text: Optional[str]) -> str:
        return text or ""

    def cat(self, text: str) -> str:
        return text

    def syscall(self, text: str) -> str:
        return text

    def join(self, text: str) -> str:
        return text + "\n"

    def value(self, t: T.Type, value) -> str:
        """print(value) of a non-map value."""
        return self.printer.text(t)(value) + "\n"

    def map(self, info: MapInfo, entries: Sequence[Entry], top: int = 0, div: int = 0) -> str:
        """print(@m, top, div)."""
        return map_text(info, entries, self.printer, top, div)

    def exit_maps(self, maps: Iterable[tuple[MapInfo, Sequence[Entry]]]) -> str:
        """The maps printed when the program ends (with the empty lines
        before them)."""
        return exit_text(maps, self.printer)


class JsonOutput(TextOutput):
    """`-f json`: one JSON object per line."""

    def attached_probes(self, count: int) -> str:
        return json_lines.counter_json("attached_probes", "probes", count)

    def lost_events(self, count: int) -> str:
        return json_lines.counter_json("lost_events", "events", count)

    def printf(self, text: str) -> str:
        return json_lines.message_json("printf", text, self.printer)

    def time(self, text: Optional[str]) -> str:
        return "" if text is None else json_lines.message_json("time", text, self.printer)

    def cat(self, text: str) -> str:
        return json_lines.message_json("cat", text, self.printer)

    def syscall(self, text: str) -> str:
        return json_lines.message_json("syscall", text, self.printer)

    def join(self, text: str) -> str:
        return json_lines.message_json("join", text, self.printer)

    def value(self, t: T.Type, value) -> str:
        return json_lines.value_json(t, value, self.printer)

    def map(self, info: MapInfo, entries: Sequence[Entry], top: int = 0, div: int = 0) -> str:
        return json_lines.map_json(info, entries, self.printer, top, div)

    def exit_maps(self, maps: Iterable[tuple[MapInfo, Sequence[Entry]]]) -> str:
        return json_lines.exit_json(maps, self.printer)


_DEFAULT_OUTPUT: Optional[TextOutput] = None


def _default_output() -> TextOutput:
    global _DEFAULT_OUTPUT
    if _DEFAULT_OUTPUT is None:
        _DEFAULT_OUTPUT = TextOutput()
    return _DEFAULT_OUTPUT


def print_map(info: MapInfo, entries: Sequence[Entry], top: int = 0, div: int = 0) -> str:
    """A map as print(@m, top, div) shows it in text mode, 0.17 style."""
    return _default_output().map(info, entries, top, div)


def print_value(t: T.Type, value) -> str:
    """A value as print(value) shows it in text mode, 0.17 style."""
    return _default_output().value(t, value)
