"""Symbols and scopes: what each `$var`, `@map`, macro and fn is, where it
is defined, and where it is used.

Scratch variables are block scoped (bpftrace 0.22+): a variable belongs to
the block where it is first assigned or declared, and is visible in the
blocks inside it. Maps are global. A symbol keeps its type, which only ever
widens (see types.join), and every place it is defined and used: the
language server's navigation, rename and highlights read these lists, so
each span is exactly the name (`@m`, not `@m[k]`; a call's name, not the
call). Macros (one symbol for all overloads), fns and macro parameters are
symbols too; what is known before any walk (their names, `let @m`
declarations) is kept in `declarations` across the fixed point's passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ..source import Span
from . import types as T


@dataclass(eq=False)
class Symbol:
    kind: str  # "variable", "map", "macro", "function", "param"
    name: str
    type: Optional[T.Type] = None  # None until something gives it one
    definitions: list[Span] = field(default_factory=list)  # assignments, declarations
    uses: list[Span] = field(default_factory=list)  # reads
    # Definitions found before any walk (a macro's or fn's name, a macro
    # parameter, `let @m = hash(N)`): kept when the walk's are reset.
    declarations: list[Span] = field(default_factory=list)

    @property
    def first_definition(self) -> Optional[Span]:
        return min(self.definitions, key=lambda s: s.start) if self.definitions else None


@dataclass(eq=False)
class VariableSymbol(Symbol):
    declared: bool = False  # by `let` (maybe with a type)
    declared_type: Optional[T.Type] = None
    assigned: bool = False
    origin: Optional[Span] = None  # where it came into scope
    loop: bool = False  # a for loop's variable: not "unused" when the body ignores it


@dataclass(eq=False)
class MapSymbol(Symbol):
    key: Optional[T.Type] = None  # None: not known yet; T.VOID: a scalar map
    key_site: Optional[Span] = None  # where the key type was first fixed
    value_site: Optional[Span] = None  # where the value type was first fixed
    written: bool = False
    read: bool = False
    declared_kind: Optional[str] = None  # from `let @m = hash(N)`
    declaration: Optional[Span] = None


class Scope:
    """One block's variables; `owner` is the AST node that opened it."""

    def __init__(self, owner, parent: Optional[Scope]) -> None:
        self.owner = owner
        self.parent = parent
        self.variables: dict[str, VariableSymbol] = {}

    def lookup(self, name: str) -> Optional[VariableSymbol]:
        scope: Optional[Scope] = self
        while scope is not None:
            found = scope.variables.get(name)
            if found is not None:
                return found
            scope = scope.parent
        return None


class SymbolTable:
    """All symbols, persisting across the analyser's passes so that types
    can widen to a fixed point. Variables are keyed by the node that owns
    their scope, so each pass finds the same symbol again."""

    def __init__(self) -> None:
        self.variables: dict[tuple[int, str], VariableSymbol] = {}
        self.maps: dict[str, MapSymbol] = {}
        self.others: list[Symbol] = []
        # Macros and fns by (kind, name); macro parameters by the parameter
        # node. All of them are in `others` too.
        self.callables: dict[tuple[str, str], Symbol] = {}
        self.params: dict[int, Symbol] = {}
        self.changes = 0  # bumped whenever a type widens
        # The symbols each probe or fn touched in this analysis's walks, by
        # id() of the item: map names and variable keys. An edit's re-analysis
        # reads them (reuse.py) to tell which items it can leave as they were.
        self.touched: dict[int, set] = {}
        self._here: Optional[set] = None

    def enter_item(self, item) -> None:
        """The walk is now inside this probe or fn (None: outside any)."""
        self._here = None if item is None else self.touched.setdefault(id(item), set())

    def variable(self, owner, name: str) -> VariableSymbol:
        key = (id(owner), name)
        if self._here is not None:
            self._here.add(key)
        symbol = self.variables.get(key)
        if symbol is None:
            symbol = self.variables[key] = VariableSymbol("variable", name)
        return symbol

    def map(self, name: str) -> MapSymbol:
        if self._here is not None:
            self._here.add(name)
        symbol = self.maps.get(name)
        if symbol is None:
            symbol = self.maps[name] = MapSymbol("map", name)
        return symbol

    def find_map(self, name: str) -> Optional[MapSymbol]:
        """The map's symbol if anything made it yet (a look that creates nothing)."""
        if self._here is not None:
            self._here.add(name)
        return self.maps.get(name)

    def callable(self, kind: str, name: str) -> Symbol:
        """The symbol of the macro (all its overloads) or fn called `name`."""
        symbol = self.callables.get((kind, name))
        if symbol is None:
            symbol = self.callables[(kind, name)] = Symbol(kind, name)
            self.others.append(symbol)
        return symbol

    def param(self, node) -> Symbol:
        """The symbol of one macro parameter (`$x`, `@m` or `x`), scoped to
        its macro: uses in the body are its, not the caller's."""
        symbol = self.params.get(id(node))
        if symbol is None:
            symbol = self.params[id(node)] = Symbol("param", node.name, declarations=[node.span])
            symbol.definitions.append(node.span)
            self.others.append(symbol)
        return symbol

    def widen(self, symbol: Symbol, new: T.Type) -> Optional[T.Type]:
        """Join `new` into the symbol's type; None on a mismatch (the type
        then stays as it was)."""
        return self._widen_slot(symbol, "type", new)

    def widen_key(self, symbol: MapSymbol, new: T.Type) -> Optional[T.Type]:
        return self._widen_slot(symbol, "key", new)

    def _widen_slot(self, symbol, slot: str, new: T.Type) -> Optional[T.Type]:
        current = getattr(symbol, slot)
        if current is None or (T.is_unknown(current) and not T.is_unknown(new)):
            # A slot first given an unknown value (one read before it is
            # typed, as `@x = @y + 1` before `@y = 2`) takes a known type later.
            joined = new
        else:
            joined = T.join(current, new)
        if joined is None:
            return None
        if joined != current:
            setattr(symbol, slot, joined)
            self.changes += 1
        return joined

    def reset_uses(self) -> None:
        """Forget definitions and uses; the final pass records them again."""
        for symbol in (*self.variables.values(), *self.maps.values(), *self.others):
            symbol.definitions[:] = symbol.declarations
            symbol.uses.clear()

    def all(self) -> list[Symbol]:
        return [*self.variables.values(), *self.maps.values(), *self.others]
