"""Analysing an edited program again without walking all of it, twice.

The checker's fixed point (checker.py) walks the whole program once to give
every symbol its type, then again to report. After an edit inside one
probe, most symbols cannot have changed type: a map's type comes from the
items that touch it, and an item's types from the symbols it touches. So
the symbols that may change are found by a closure over what each item
touched in the previous analysis (scopes.SymbolTable.touched): start from
the symbols of the probes the edit replaced and of the probes it made (their
maps, read from their syntax), add every kept item that touched one of them,
and every symbol that item touched, until nothing more is added. Every
other symbol keeps its previous type (its "seed"), exactly, since nothing it
depends on changed; the first pass walks only the affected items. In the
reporting walk, a probe the edit left alone, all of whose symbols kept
their types, would report just what it reported before: its share of the
previous report (Checker.item_ranges) is copied, spans moved (Replay).

This needs the kept probes to be the very objects of the previous parse
(syntax/incremental.py keeps untouched items), the same kernel facts and
options, and the same items other than probes (config, macros, fns, C
definitions), by text. Anything else, or an edited probe that calls a
macro (whose variables several probes may share), analyses from scratch;
with macros in the program, no report is copied (a macro body's nodes are
typed by whichever probe expands it first).
"""

from __future__ import annotations

import bisect
import dataclasses
from dataclasses import dataclass
from typing import Optional

from ..source import Span
from ..syntax import ast
from . import types as T
from .scopes import MapSymbol, SymbolTable, VariableSymbol

# The per-walk state of a map symbol (its declaration comes from the
# definitions pass, which runs every time).
_MAP_STATE = ("type", "key", "key_site", "value_site", "written", "read")


@dataclass(eq=False)
class WalkRecord:
    """What an analysis leaves for the analysis of the next edit."""

    items: tuple  # kept alive: the id()s below are theirs
    starts: list[int]  # each item's span start when analysed, in text order
    ordered: list  # the items in text order
    others: list[tuple[str, bytes]]  # every item that is not a probe: kind and text
    symbols: SymbolTable
    facts: object
    options: object
    # The reporting walk, in walk order, and each item's share of it
    # (Checker.item_ranges): for copying an unaffected probe's report.
    diagnostics: list
    types: list  # (node, type)
    references: list  # (node, symbol)
    names: list  # (symbol, is a use, span)
    ranges: dict[int, tuple]
    has_macros: bool
    probe_args: dict  # probe -> the type of its `args` (Checker.probe_args)
    context: object  # the TypeContext, which defines the structs of those types


def record(program: ast.Program, data: bytes, checker, facts, options) -> WalkRecord:
    ordered = sorted(program.items, key=lambda item: item.span.start)
    return WalkRecord(
        tuple(program.items), [item.span.start for item in ordered], ordered,
        _others(program, data), checker.symbols, facts, options,
        list(checker.diagnostics), list(checker.types.items()), list(checker.references.items()),
        list(checker.name_log), dict(checker.item_ranges), bool(checker.macros), checker.probe_args, checker.ctx,
    )  # fmt: skip


@dataclass
class Seeds:
    """The symbols an edit left alone, and the items the first pass walks."""

    first_walk: list
    maps: dict[str, MapSymbol]
    variables: dict[tuple[int, str], VariableSymbol]
    replay: Optional["Replay"] = None

    def apply(self, symbols: SymbolTable) -> None:
        for name, seed in self.maps.items():
            symbol = symbols.map(name)
            for attribute in _MAP_STATE:
                setattr(symbol, attribute, getattr(seed, attribute))
        symbols.variables.update(self.variables)

    def prune(self, symbols: SymbolTable) -> None:
        """Drops seeded variables that no walk met again (their owner was
        parsed again as a new node): they stand for nothing now."""
        touched = set().union(*symbols.touched.values()) if symbols.touched else set()
        for key in self.variables:
            if key not in touched:
                symbols.variables.pop(key, None)


def plan(previous: Optional[WalkRecord], program: ast.Program, data: bytes, facts, options) -> Optional[Seeds]:
    """The seeds for analysing `program` after `previous`, or None to
    analyse it from scratch."""
    if previous is None or previous.facts is not facts or previous.options != options:
        return None
    old = {id(item): item for item in previous.items}
    kept = [item for item in program.items if old.get(id(item)) is item]
    if not kept or previous.others != _others(program, data):
        return None
    kept_ids = {id(item) for item in kept}
    new_probes = [item for item in program.items if id(item) not in kept_ids and isinstance(item, ast.Probe)]
    macros = {item.name.text for item in program.items if isinstance(item, ast.Macro)}
    changed: set = set()
    for item in new_probes:
        names = _map_names(item, macros)
        if names is None:
            return None  # it calls a macro
        changed |= names
    touched = previous.symbols.touched
    for item in previous.items:
        if id(item) not in kept_ids or isinstance(item, ast.Function):
            changed |= touched.get(id(item), set())
    affected = _closure(kept, touched, changed)
    first_walk = [item for item in program.items
                  if id(item) not in kept_ids or id(item) in affected or isinstance(item, ast.Function)]  # fmt: skip
    moved = _Mover(previous, program)
    maps = {}
    for name, symbol in previous.symbols.maps.items():
        if name not in changed:
            seed = moved.symbol(symbol, ("key_site", "value_site"))
            if seed is None:
                return None
            maps[name] = seed
    variables = {}
    for item in kept:
        if id(item) in affected or isinstance(item, ast.Function):
            continue
        for key in touched.get(id(item), ()):
            if isinstance(key, tuple) and key not in changed:
                symbol = previous.symbols.variables.get(key)
                seed = moved.symbol(symbol, ("origin",)) if symbol is not None else None
                if seed is not None:
                    variables[key] = seed
    replay = None
    if not previous.has_macros and not macros:
        unaffected = {id(item) for item in kept if id(item) not in affected and isinstance(item, ast.Probe)}
        replay = Replay(previous, moved, unaffected)
    return Seeds(first_walk, maps, variables, replay)


class Replay:
    """Copies the report of a probe that the edit left alone, and whose
    symbols all kept their types, from the previous analysis: its
    diagnostics, node types, references, uses and definitions, with spans
    moved, as walking it again would give them."""

    def __init__(self, previous: WalkRecord, mover: "_Mover", items: set[int]) -> None:
        self.previous, self.mover, self.items = previous, mover, items
        self.variable_keys = {id(symbol): key for key, symbol in previous.symbols.variables.items()}

    def replays(self, checker, item) -> bool:
        """Copies the item's report into the checker; False (nothing done)
        when it cannot, and the item must be walked."""
        if id(item) not in self.items or id(item) not in self.previous.ranges:
            return False
        old = self.previous
        (d0, t0, r0, n0), (d1, t1, r1, n1) = old.ranges[id(item)]
        symbols = checker.symbols
        try:  # nothing is changed until all of it is known: a failure here costs only time
            diagnostics = [self.mover.diagnostic(d) for d in old.diagnostics[d0:d1]]
            references = [(node, self.translate(symbols, symbol)) for node, symbol in old.references[r0:r1]]
            names = [(self.translate(symbols, symbol), use, self.mover.span(span))
                     for symbol, use, span in old.names[n0:n1]]  # fmt: skip
        except Exception:
            return False
        if (None in diagnostics or any(symbol is None for _, symbol in references)
                or any(symbol is None or not moved[0] for symbol, _, moved in names)):  # fmt: skip
            return False
        self.adopt_args(checker, item)
        symbols.touched[id(item)] = set(old.symbols.touched.get(id(item), ()))
        for diagnostic in diagnostics:
            checker.add_reported(diagnostic)
        checker.types.update(old.types[t0:t1])
        checker.references.update(references)
        for symbol, use, (_, span) in names:
            checker.add_name(symbol, span, use)
        return True

    def adopt_args(self, checker, probe) -> None:
        """The type of the probe's `args` as worked out before (for a probe
        on many tracepoints, merging their formats again would cost more
        than the rest of the copy), and the struct it names, which the
        copied types refer to, defined in this analysis too."""
        if probe not in self.previous.probe_args:
            checker.args_of(probe)
            return
        args = checker.probe_args[probe] = self.previous.probe_args[probe]
        struct = self.previous.context.local_records.get((args.kind, args.name)) if isinstance(args, T.CRecord) else None
        if struct is not None:
            checker.ctx.define_record(struct)

    def translate(self, symbols: SymbolTable, symbol):
        """The symbol of this analysis that stands for one of the previous."""
        if isinstance(symbol, MapSymbol):
            return symbols.maps.get(symbol.name)
        if isinstance(symbol, VariableSymbol):
            key = self.variable_keys.get(id(symbol))
            return symbols.variables.get(key) if key is not None else None
        if symbol.kind in ("macro", "function"):
            return symbols.callables.get((symbol.kind, symbol.name))
        return None


def _others(program: ast.Program, data: bytes) -> list[tuple[str, bytes]]:
    return [(type(item).__name__, data[item.span.start : item.span.end])
            for item in program.items if not isinstance(item, ast.Probe)]  # fmt: skip


def _map_names(probe: ast.Node, macros: set[str]) -> Optional[set[str]]:
    """The maps a probe names, or None when it calls a macro."""
    names = set()
    for node in ast.walk(probe):
        if isinstance(node, ast.MapRef):
            names.add(node.name)
        elif isinstance(node, ast.Call) and node.name.text in macros:
            return None
    return names


def _closure(kept: list, touched: dict[int, set], changed: set) -> set[int]:
    """The ids of the kept items that touched a changed symbol, adding the
    symbols they touched to `changed` as they are found."""
    touching: dict = {}
    for item in kept:
        for symbol in touched.get(id(item), ()):
            touching.setdefault(symbol, []).append(item)
    affected: set[int] = set()
    pending = list(changed)
    while pending:
        for item in touching.get(pending.pop(), ()):
            if id(item) in affected:
                continue
            affected.add(id(item))
            for symbol in touched.get(id(item), ()):
                if symbol not in changed:
                    changed.add(symbol)
                    pending.append(symbol)
    return affected


class _Mover:
    """Moves a previous analysis's spans to where the same text is now: a
    span inside a kept item moves with it; inside an item that is not a
    probe, to the same item now (the same text, maybe parsed again)."""

    def __init__(self, previous: WalkRecord, program: ast.Program) -> None:
        self.starts = previous.starts
        others_now = sorted((item for item in program.items if not isinstance(item, ast.Probe)),
                            key=lambda item: item.span.start)  # fmt: skip
        others_then = iter(others_now)
        now_ids = {id(item) for item in program.items}
        self.deltas: list[Optional[int]] = []
        for item, start in zip(previous.ordered, previous.starts):
            if not isinstance(item, ast.Probe):
                self.deltas.append(next(others_then).span.start - start)
            elif id(item) in now_ids:
                self.deltas.append(item.span.start - start)  # kept: its span has moved already
            else:
                self.deltas.append(None)
        self.ordered = previous.ordered

    def span(self, span: Optional[Span]) -> tuple[bool, Optional[Span]]:
        if span is None:
            return True, None
        index = bisect.bisect_right(self.starts, span.start) - 1
        delta = self.deltas[index] if index >= 0 else None
        if delta is None:
            return False, None
        return True, Span(span.start + delta, span.end + delta)

    def diagnostic(self, diagnostic):
        """The diagnostic with every span moved, or None."""
        spans = [diagnostic.span, *(r.span for r in diagnostic.related),
                 *(edit.span for fix in diagnostic.fixes for edit in fix.edits)]  # fmt: skip
        moved = [self.span(span) for span in spans]
        if not all(ok for ok, _ in moved):
            return None
        moved_spans = iter(span for _, span in moved)
        span = next(moved_spans)
        related = tuple(dataclasses.replace(r, span=next(moved_spans)) for r in diagnostic.related)
        fixes = tuple(
            dataclasses.replace(fix, edits=tuple(dataclasses.replace(e, span=next(moved_spans)) for e in fix.edits))
            for fix in diagnostic.fixes
        )
        return dataclasses.replace(diagnostic, span=span, related=related, fixes=fixes)

    def symbol(self, symbol, span_fields: tuple[str, ...]):
        """A copy of the symbol's walk state with its spans moved (None
        when a span is in no item that is still there)."""
        moved = {}
        for name in span_fields:
            ok, span = self.span(getattr(symbol, name))
            if not ok:
                return None
            moved[name] = span
        return dataclasses.replace(symbol, definitions=[], uses=[], declarations=list(symbol.declarations), **moved)
