"""What a builtin is: the shape of one entry in the builtins table.

Every builtin variable and function is one `Builtin`: names, signatures,
return type (a type, or a rule that computes it from the arguments), the
probe kinds it may be used in, flags, and markdown docs. The checker, hover,
completion, signature help, the backend's dispatch and docs/builtins.md all
read these entries; nothing about a builtin is written down twice.

Argument constraints are small words (`Param.accepts`), so that the checker
can both test an argument and say what it wanted:

    int        an integer, bool, or a readable aggregation (count...)
    string     a string value
    pointer    a pointer
    array      an array of any element type; array[N] an array of N bytes
    string[N]  a string of exactly N bytes (a char[N] field)
    map        a bare map (`@m`), no key
    mapentry   a map with a key (`@m[k]`)
    variable   a scratch variable (`$v`)
    tuple, record, inet, buffer, ksym, usym, stack, timestamp, enum
    any        anything that has a value
    ident      a bare name from `Param.choices` (`monotonic`, `perf`...)
    type       a type (`typeof(x)`, `struct task_struct`)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Optional, Sequence, Union

from ..types import Type

# Flags.
AGGREGATION = "aggregation"  # its value may only be assigned to a map
ASYNC = "async"  # done in user space when the event arrives
COMPILE_TIME = "compile-time"  # folded to a constant by the compiler
UNSAFE = "unsafe"  # needs --unsafe
MAP_FIRST = "map-first"  # the first argument is a map, used by name
STATEMENT = "statement"  # returns nothing; use it as a statement
UNSTABLE = "unstable"  # behind an `unstable_*` config option
DEPRECATED = "deprecated"


@dataclass(frozen=True)
class Param:
    name: str
    accepts: tuple[str, ...] = ("any",)
    literal: bool = False  # must be written as a literal
    choices: tuple[str, ...] = ()  # for `ident` parameters
    doc: str = ""
    # What an error message says the parameter wants, when the words of
    # `accepts` would say it badly ("an integer or a 4-byte array...").
    wanted: str = ""
    # How signature help shows its kinds, when not just `accepts` joined.
    label: str = ""

    def describe(self) -> str:
        """The parameter as signature help shows it: `int|uint8[4] addr`."""
        kinds = self.label or "|".join(self.accepts)
        return f"{kinds} {self.name}" if kinds != "any" else self.name


@dataclass(frozen=True)
class Arg:
    """A call argument as a return-type rule or check sees it."""

    node: object  # the AST node
    type: Type
    value: Optional[Union[int, bytes]] = None  # when a literal
    name: Optional[str] = None  # a bare identifier's name


@dataclass(frozen=True)
class CallInfo:
    """What a rule may know about the call site."""

    args: Sequence[Arg]
    provider: Optional[str]  # canonical provider of the enclosing probe
    max_strlen: int = 1024


# A return-type rule: the argument types in, the call's type out. It may
# return a string instead of a type: an error message about the arguments.
ReturnRule = Callable[[CallInfo], Union[Type, str]]


@dataclass(frozen=True)
class Signature:
    params: tuple[Param, ...] = ()
    returns: Union[Type, ReturnRule] = field(default=None)  # type: ignore[assignment]
    variadic: Optional[Param] = None  # then any number of these follow
    max_args: int = 0  # for variadic signatures: the most arguments in all

    @property
    def min_args(self) -> int:
        return len(self.params)

    @property
    def most_args(self) -> int:
        if self.variadic is None:
            return len(self.params)
        return self.max_args or 128

    def label(self, name: str) -> str:
        parts = [p.describe() for p in self.params]
        if self.variadic is not None:
            parts.append(f"{self.variadic.describe()}...")
        return f"{name}({', '.join(parts)})"


@dataclass(frozen=True)
class Builtin:
    name: str
    kind: str  # "function" or "variable"
    signatures: tuple[Signature, ...]
    doc: str  # markdown: what it does, with an example
    aliases: tuple[str, ...] = ()
    # Canonical providers it may be used in; None means anywhere.
    providers: Optional[frozenset[str]] = None
    # A hint given with "can only be used with ... probes": always, or only
    # when the probe it is misused in is one of `hint_when`.
    provider_hint: str = ""
    hint_when: Optional[frozenset[str]] = None
    flags: frozenset[str] = frozenset()
    since: str = ""  # the bpftrace version that added it, when later than 0.17

    @cached_property
    def min_args(self) -> int:
        return min(s.min_args for s in self.signatures)

    @cached_property
    def max_args(self) -> int:
        return max(s.most_args for s in self.signatures)

    def has(self, flag: str) -> bool:
        return flag in self.flags


def function(name: str, *signatures: Signature, doc: str, **options) -> Builtin:
    return Builtin(name, "function", tuple(signatures), doc, **_frozen(options))


def variable(name: str, returns, doc: str, **options) -> Builtin:
    """A builtin variable; at v0.24+ `comm` and `comm()` are the same."""
    return Builtin(name, "variable", (Signature((), returns),), doc, **_frozen(options))


def _frozen(options: dict) -> dict:
    for key in ("providers", "flags", "hint_when"):
        if key in options and options[key] is not None:
            options[key] = frozenset(options[key])
    return options
