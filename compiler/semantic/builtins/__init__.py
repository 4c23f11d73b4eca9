"""The builtins table: every builtin variable and function of bpftrace,
each declared once (see schema.py for what an entry holds).

    lookup("ntop")      -> Builtin or None (aliases and argN included)
    all_builtins()      -> every entry, in a stable order
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional

from . import addresses, aggregations, maps, output, probe_values, strings, variables
from .schema import (  # noqa: F401  (re-exported for consumers)
    AGGREGATION, ASYNC, COMPILE_TIME, DEPRECATED, MAP_FIRST, STATEMENT, UNSAFE, UNSTABLE,
    Arg, Builtin, CallInfo, Param, Signature,
)  # fmt: skip

_MODULES = [variables, probe_values, aggregations, maps, output, strings, addresses]
# `arg0`, `arg1`, ... all share the entry named "argN"; likewise sargN.
_NUMBERED = re.compile(r"(s?arg)[0-9]+\Z")


@lru_cache(maxsize=1)
def _table() -> dict[str, Builtin]:
    table: dict[str, Builtin] = {}
    for module in _MODULES:
        for entry in module.BUILTINS:
            for name in (entry.name, *entry.aliases):
                if name in table:
                    raise ValueError(f"builtin {name} is declared twice")
                table[name] = entry
    return table


def lookup(name: str) -> Optional[Builtin]:
    table = _table()
    if name in table:
        return table[name]
    numbered = _NUMBERED.match(name)
    if numbered:
        return table.get(numbered.group(1) + "N")
    return None


# The table's names for the numbered families: not names a script can use.
_PLACEHOLDERS = frozenset({"argN", "sargN"})


def named(name: str) -> Optional[Builtin]:
    """The builtin a name written in a script refers to: lookup(), except
    that the family placeholders (`argN`) are not names (`arg0` is)."""
    return None if name in _PLACEHOLDERS else lookup(name)


def all_builtins() -> list[Builtin]:
    seen: dict[str, Builtin] = {}
    for entry in _table().values():
        seen.setdefault(entry.name, entry)
    return sorted(seen.values(), key=lambda b: b.name)


def script_builtins() -> list[Builtin]:
    """all_builtins() but the family placeholders: what a script can name
    (and so what a "did you mean" may offer)."""
    return [b for b in all_builtins() if b.name not in _PLACEHOLDERS]
