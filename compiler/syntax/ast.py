"""The bpftrace AST: plain dataclasses, each with a byte-offset `span`.

Nodes compare by identity (`eq=False`), so later passes can key tables on
them. Every child that is a node (or a list of nodes) is found by
`children()`, which reads the dataclass fields; a pass never needs to know
the shape of a node it does not handle. `NodeVisitor` dispatches on the class
name (`visit_Probe`) and by default visits the children.

The tree is as complete as the parser could make it: a statement that did
not parse is left out, and an expression that could not be built is an
`ErrorExpr`. Optional fields are `None` when absent, so consumers must not
assume that a broken program has every part.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Iterator, Optional, Union

from ..source import Span

node = dataclass(eq=False, slots=True)


@node
class Node:
    span: Span


# ------------------------------------------------------------------ shared


@node
class Name(Node):
    """An identifier that names something (a field, a macro, a map kind)."""

    text: str


@node
class Comment(Node):
    text: str
    block: bool  # /* ... */ rather than // ...


# --------------------------------------------------------------- top level


@node
class Program(Node):
    items: list["TopLevel"]
    shebang: Optional[str] = None
    # Comments are layout, not structure: `children()` does not return them.
    comments: list[Comment] = field(default_factory=list, metadata={"walk": False})

    def of_type(self, cls):
        return [item for item in self.items if isinstance(item, cls)]

    @property
    def probes(self) -> list["Probe"]:
        return self.of_type(Probe)

    @property
    def macros(self) -> list["Macro"]:
        return self.of_type(Macro)

    @property
    def config(self) -> Optional["Config"]:
        configs = self.of_type(Config)
        return configs[0] if configs else None


@node
class CPreprocessor(Node):
    """A C preprocessor line such as `#include <linux/sched.h>`."""

    text: str


@node
class CDefinition(Node):
    """A C struct/union/enum definition or typedef, kept as text for clang."""

    kind: str  # "struct", "union", "enum" or "typedef"
    name: Optional[str]
    text: str


@node
class Config(Node):
    entries: list["ConfigEntry"]


@node
class ConfigEntry(Node):
    key: Name
    value: "Expr"  # IntLit, StrLit, BoolLit or Identifier


@node
class Import(Node):
    """`import "path";` at the root or as a statement."""

    path: "StrLit"


@node
class MapDecl(Node):
    """`let @name = kind(max_entries);`"""

    map: "MapRef"
    kind: Name
    max_entries: "IntLit"


@node
class Macro(Node):
    name: Name
    params: list["Expr"]  # Variable, MapRef or Identifier
    body: "Block"


@node
class Function(Node):
    """`fn name($a: type, ...): type { ... }` (an experimental subprogram)."""

    name: Name
    params: list["Param"]
    return_type: "Type"
    body: "Block"


@node
class Param(Node):
    var: "Variable"
    type: "Type"


@node
class Probe(Node):
    attach_points: list["AttachPoint"]
    predicate: Optional["Expr"]
    body: "Block"


class Role:
    """What a part of an attach point means; see attach_points.py."""

    LABEL = "label"  # the user's name in `name=provider:...`
    PROVIDER = "provider"
    TARGET = "target"  # binary, module, tracepoint category, signal kind
    NAMESPACE = "namespace"  # usdt provider, fentry:bpf program id
    LANGUAGE = "language"  # uprobe:bin:cpp:func
    FUNCTION = "function"
    EVENT = "event"  # tracepoint, usdt probe, software event, iterator
    OFFSET = "offset"  # func+OFFSET
    ADDRESS = "address"
    UNIT = "unit"  # profile:hz:99
    RATE = "rate"
    COUNT = "count"
    FILE = "file"  # uprobe:bin@file.c:LINE[:COL]
    LINE = "line"
    COLUMN = "column"
    LENGTH = "length"  # watchpoint
    MODE = "mode"
    PIN = "pin"  # iter:task:PIN
    NAME = "name"  # test:NAME, bench:NAME
    EXTRA = "extra"  # more parts than the provider takes


@node
class AttachPart(Node):
    role: str
    text: str  # quotes removed; positional parameters not yet expanded


@node
class AttachPoint(Node):
    raw: str
    parts: list[AttachPart]
    is_error: bool = False  # stands in for a probe header that did not parse

    def part(self, role: str) -> Optional[AttachPart]:
        for part in self.parts:
            if part.role == role:
                return part
        return None

    @property
    def provider(self) -> Optional[AttachPart]:
        return self.part(Role.PROVIDER)


# -------------------------------------------------------------- statements


@node
class Block(Node):
    """`{ stmts; value }`: a statement block, or a block expression."""

    stmts: list["Stmt"]
    value: Optional["Expr"] = None


@node
class ExprStmt(Node):
    expr: "Expr"


@node
class Assign(Node):
    target: "Expr"
    op: str  # "=" or a compound operator such as "+="
    value: "Expr"


@node
class VarDecl(Node):
    var: "Variable"
    type: Optional["Type"]
    value: Optional["Expr"]


@node
class Discard(Node):
    """`_ = expr;`"""

    value: "Expr"


@node
class For(Node):
    var: "Variable"
    iterable: "Expr"  # MapRef or Range
    body: Block


@node
class Range(Node):
    start: "Expr"
    end: "Expr"


@node
class While(Node):
    cond: "Expr"
    body: Block


@node
class Unroll(Node):
    count: "Expr"
    body: Block


@node
class Jump(Node):
    kind: str  # "break", "continue" or "return"
    value: Optional["Expr"] = None


# ------------------------------------------------------------- expressions


@node
class ErrorExpr(Node):
    """Stands in for an expression that could not be built."""


@node
class IntLit(Node):
    value: int
    text: str  # as written, e.g. "1_000", "0x1f", "10ms", "'a'"


@node
class StrLit(Node):
    value: bytes  # escapes decoded; bpftrace strings are byte strings

    @property
    def text(self) -> str:
        return self.value.decode("utf-8", errors="backslashreplace")


@node
class BoolLit(Node):
    value: bool


@node
class Variable(Node):
    name: str  # with its '$'


@node
class PositionalParam(Node):
    index: int  # $1 is 1


@node
class ParamCount(Node):
    """`$#`"""


@node
class MapRef(Node):
    name: str  # with its '@'; "@" alone is the anonymous map


@node
class MapAccess(Node):
    map: MapRef
    keys: list["Expr"]  # @m[a, b] has two keys: the tuple (a, b)


@node
class Identifier(Node):
    """A bare name: a builtin (`pid`), a macro parameter, an enum value..."""

    name: str


@node
class Call(Node):
    name: Name
    args: list[Union["Expr", "Type"]]  # a Type only for `typeof(...)` args


@node
class Binary(Node):
    op: str
    left: "Expr"
    right: "Expr"


@node
class Unary(Node):
    op: str  # "!", "~", "-", "*" (dereference) or "&" (address of)
    operand: "Expr"


@node
class IncDec(Node):
    op: str  # "++" or "--"
    operand: "Expr"
    prefix: bool


@node
class Cast(Node):
    type: "Type"
    operand: "Expr"


@node
class FieldAccess(Node):
    base: "Expr"
    field: Name
    arrow: bool  # written with '->' (an alias of '.')


@node
class TupleAccess(Node):
    base: "Expr"
    index: int


@node
class Index(Node):
    base: "Expr"
    index: "Expr"


@node
class Ternary(Node):
    cond: "Expr"
    then: Optional["Expr"]  # None in the short form `a ?: b`
    orelse: "Expr"


@node
class If(Node):
    cond: "Expr"
    then: Block
    orelse: Optional[Union[Block, "If"]] = None


@node
class Tuple(Node):
    elements: list["Expr"]


@node
class Record(Node):
    fields: list["RecordField"]


@node
class RecordField(Node):
    name: Name
    value: "Expr"


@node
class Sizeof(Node):
    arg: Union["Expr", "Type"]


@node
class Offsetof(Node):
    arg: Union["Expr", "Type"]
    fields: list[Name]


@node
class Typeinfo(Node):
    arg: Union["Expr", "Type"]


@node
class Comptime(Node):
    expr: "Expr"


# ------------------------------------------------------------------- types


@node
class NamedType(Node):
    """`int32`, `string`, `uint64_t`...: a builtin type or a typedef."""

    name: str


@node
class RecordType(Node):
    kind: str  # "struct", "union" or "enum"
    name: Name


@node
class PointerType(Node):
    target: "Type"


@node
class ArrayType(Node):
    """`T[N]`; on string, buffer and inet the N is a size, not a length."""

    element: "Type"
    size: Optional[int]


@node
class TypeofType(Node):
    arg: Union["Expr", "Type"]


TopLevel = Union[CPreprocessor, CDefinition, Config, Import, MapDecl, Macro, Function, Probe]
Stmt = Union[ExprStmt, Assign, VarDecl, Discard, For, While, Unroll, Jump, Import]
Type = Union[NamedType, RecordType, PointerType, ArrayType, TypeofType]
Expr = Union[
    ErrorExpr, IntLit, StrLit, BoolLit, Variable, PositionalParam, ParamCount, MapRef,
    MapAccess, Identifier, Call, Binary, Unary, IncDec, Cast, FieldAccess, TupleAccess,
    Index, Ternary, If, Block, Tuple, Record, Sizeof, Offsetof, Typeinfo, Comptime,
]  # fmt: skip
# The type names bpftrace itself knows (not typedefs from BTF or headers).
# In sizeof(...) and friends, a bare name in this set is a type.
BUILTIN_TYPE_NAMES = frozenset({
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "void",
    "string", "buffer", "inet", "min_t", "max_t", "sum_t", "count_t", "avg_t", "stats_t",
    "umin_t", "umax_t", "usum_t", "uavg_t", "ustats_t", "timestamp", "macaddr_t",
    "cgroup_path_t", "username_t",
})  # fmt: skip
TYPE_NODES = (NamedType, RecordType, PointerType, ArrayType, TypeofType)
STMT_NODES = (ExprStmt, Assign, VarDecl, Discard, For, While, Unroll, Jump, Import)


# --------------------------------------------------------------- traversal

_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(cls: type) -> tuple[str, ...]:
    names = _CHILD_FIELDS.get(cls)
    if names is None:
        names = tuple(
            f.name
            for f in dataclasses.fields(cls)
            if f.name != "span" and f.metadata.get("walk", True)
        )
        _CHILD_FIELDS[cls] = names
    return names


def children(n: Node) -> Iterator[Node]:
    """The direct child nodes of `n`, in source order."""
    for name in _child_fields(type(n)):
        value = getattr(n, name)
        if isinstance(value, Node):
            yield value
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Node):
                    yield item


def walk(root: Node) -> Iterator[Node]:
    """Every node under `root` (itself included), parents before children."""
    stack = [root]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(list(children(n))))


class NodeVisitor:
    """Calls `visit_<ClassName>` for each node; by default visits children."""

    def visit(self, n: Node):
        method = getattr(self, "visit_" + type(n).__name__, None)
        if method is None:
            return self.generic_visit(n)
        return method(n)

    def generic_visit(self, n: Node) -> None:
        for child in children(n):
            self.visit(child)
