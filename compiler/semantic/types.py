"""bpftrace's types: what each one is called, how big it is, and how two
types combine.

Types are immutable values; compare them with `==`. `str(t)` is the name
bpftrace prints in its messages (`int64`, `string[16]`, `struct task *`,
`count_t`), which our messages and hover text use too.

Two types matter most to the analyser:

* `UNKNOWN` stands for "we cannot know here" (a kernel type without kernel
  facts, an expression after an error). Every operation accepts it and
  yields UNKNOWN, so a missing fact never causes a false error.
* `Int` carries a `flexible` flag for non-negative literals: such a literal
  adapts its sign to the other operand, as bpftrace does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass(frozen=True, slots=True)
class Type:
    @property
    def size(self) -> int:
        return 0

    def __str__(self) -> str:  # overridden by every type
        return type(self).__name__.lower()


@dataclass(frozen=True, slots=True)
class Unknown(Type):
    def __str__(self) -> str:
        return "unknown"


@dataclass(frozen=True, slots=True)
class Void(Type):
    def __str__(self) -> str:
        return "void"


@dataclass(frozen=True, slots=True)
class Bool(Type):
    @property
    def size(self) -> int:
        return 1

    def __str__(self) -> str:
        return "bool"


@dataclass(frozen=True, slots=True)
class Int(Type):
    bits: int = 64
    signed: bool = True
    enum: Optional[str] = None  # the enum's name when the value is one
    # A non-negative literal: its sign follows the other operand's.
    flexible: bool = field(default=False, compare=False)

    @property
    def size(self) -> int:
        return self.bits // 8

    def __str__(self) -> str:
        if self.enum:
            return f"enum {self.enum}"
        return f"{'' if self.signed else 'u'}int{self.bits}"

    def fits(self, value: int) -> bool:
        if self.signed:
            return -(1 << (self.bits - 1)) <= value < (1 << (self.bits - 1))
        return 0 <= value < (1 << self.bits)


@dataclass(frozen=True, slots=True)
class String(Type):
    length: int = 0  # bytes including the NUL; 0 while unknown

    @property
    def size(self) -> int:
        return self.length

    def __str__(self) -> str:
        return f"string[{self.length}]" if self.length else "string"


@dataclass(frozen=True, slots=True)
class Buffer(Type):
    length: int = 0

    @property
    def size(self) -> int:
        return self.length

    def __str__(self) -> str:
        return f"buffer[{self.length}]"


@dataclass(frozen=True, slots=True)
class Inet(Type):
    """The result of ntop(): an address family and 4 or 16 address bytes."""

    length: int = 20

    @property
    def size(self) -> int:
        return self.length

    def __str__(self) -> str:
        return f"inet[{self.length}]"


@dataclass(frozen=True, slots=True)
class Pointer(Type):
    target: Type = field(default_factory=Void)
    user: bool = False  # points into user memory rather than the kernel's

    @property
    def size(self) -> int:
        return 8

    def __str__(self) -> str:
        return f"{self.target} *"


@dataclass(frozen=True, slots=True)
class Array(Type):
    element: Type = field(default_factory=Int)
    length: int = 0

    @property
    def size(self) -> int:
        return self.element.size * self.length

    def __str__(self) -> str:
        return f"{self.element}[{self.length}]"


@dataclass(frozen=True, slots=True)
class CRecord(Type):
    """A C struct or union, known by name. Its fields come from kernel facts
    or the script's C definitions (see compiler.semantic.ctypes)."""

    kind: str = "struct"  # "struct" or "union"
    name: str = ""
    # A record is the same type wherever its size was (or was not) known.
    byte_size: int = field(default=0, compare=False)  # 0 while unknown
    key: object = None  # tells anonymous records apart (from kernel facts)

    @property
    def size(self) -> int:
        return self.byte_size

    def __str__(self) -> str:
        return f"{self.kind} {self.name}" if self.name else f"{self.kind} {{...}}"


@dataclass(frozen=True, slots=True)
class Tuple(Type):
    elements: tuple[Type, ...] = ()

    @property
    def size(self) -> int:
        return _aligned_size([e for e in self.elements])

    def __str__(self) -> str:
        return "(" + ",".join(str(e) for e in self.elements) + ")"


@dataclass(frozen=True, slots=True)
class Record(Type):
    """bpftrace's named tuple, `(a=1, b="x")`."""

    fields: tuple[tuple[str, Type], ...] = ()

    @property
    def size(self) -> int:
        return _aligned_size([t for _, t in self.fields])

    def field_type(self, name: str) -> Optional[Type]:
        return next((t for n, t in self.fields if n == name), None)

    def __str__(self) -> str:
        inner = ", ".join(f".{n} = {t}" for n, t in self.fields)
        return f"record {{ {inner} }}"


@dataclass(frozen=True, slots=True)
class Special(Type):
    """Values that only user space interprets: symbols, user names, stacks,
    timestamps... `name` is bpftrace's name for the type."""

    name: str = "ksym_t"
    byte_size: int = 8

    @property
    def size(self) -> int:
        return self.byte_size

    def __str__(self) -> str:
        return self.name


# Aggregation kinds whose values can be read in the kernel as integers.
READABLE_AGGREGATIONS = ("count", "sum", "min", "max", "avg")


@dataclass(frozen=True, slots=True)
class Aggregation(Type):
    """The value type of a map assigned an aggregation, e.g. `@x = count()`."""

    kind: str = "count"  # count sum min max avg stats hist lhist tseries
    signed: bool = True

    @property
    def size(self) -> int:
        return 8

    @property
    def readable(self) -> bool:
        """count/sum/min/max/avg maps can be used as integers (0.21+)."""
        return self.kind in READABLE_AGGREGATIONS

    def __str__(self) -> str:
        signed_kinds = ("sum", "min", "max", "avg", "stats")
        prefix = "u" if self.kind in signed_kinds and not self.signed else ""
        return f"{prefix}{self.kind}_t"


UNKNOWN = Unknown()
VOID = Void()
BOOL = Bool()
INT8, INT16, INT32, INT64 = Int(8), Int(16), Int(32), Int(64)
UINT8, UINT16, UINT32, UINT64 = Int(8, False), Int(16, False), Int(32, False), Int(64, False)
KSYM = Special("ksym_t")
USYM = Special("usym_t")
USERNAME = Special("username_t")
TIMESTAMP = Special("timestamp")
MACADDR = Special("macaddr_t", 6)
CGROUP_PATH = Special("cgroup_path_t")
STRERROR = Special("strerror_t")
TIMESTAMP_MODE = Special("timestamp_mode")
KSTACK = Special("kstack", 8)
USTACK = Special("ustack", 16)


# ----------------------------------------------------------- questions


def is_unknown(t: Type) -> bool:
    return isinstance(t, Unknown)


def mentions_unknown(t: Type) -> bool:
    """UNKNOWN anywhere inside (a pointer to unknown, a tuple of it...)."""
    if isinstance(t, Unknown):
        return True
    if isinstance(t, Pointer):
        return mentions_unknown(t.target)
    if isinstance(t, Array):
        return mentions_unknown(t.element)
    if isinstance(t, Tuple):
        return any(mentions_unknown(e) for e in t.elements)
    if isinstance(t, Record):
        return any(mentions_unknown(f) for _, f in t.fields)
    return False


def is_integer(t: Type) -> bool:
    """Usable as an integer: ints, bools, and readable aggregation maps."""
    return isinstance(t, (Int, Bool)) or (isinstance(t, Aggregation) and t.readable)


def fits_into(value: Int, target: Int) -> bool:
    """Whether every value of one integer type fits another: the same sign
    (or a sign-flexible literal) and no wider, or unsigned into a strictly
    wider signed type. Signed never fits unsigned."""
    if value.signed == target.signed or value.flexible:
        return value.bits <= target.bits
    return not value.signed and value.bits < target.bits


def as_integer(t: Type) -> Type:
    """The integer a value reads as (a count map reads as uint64, ...)."""
    if isinstance(t, Aggregation) and t.readable:
        return INT64 if t.signed and t.kind != "count" else UINT64
    return t


def is_string_like(t: Type) -> bool:
    return isinstance(t, String)


def is_truthy(t: Type) -> bool:
    """Usable as a condition: integers, bools, pointers (0.23+)."""
    return is_unknown(t) or is_integer(t) or isinstance(t, Pointer)


# ---------------------------------------------------------- literals

def literal_type(value: int, negative: bool = False) -> Int:
    """The type of an integer literal (0.26): the smallest signed integer
    that holds it. A non-negative one is flexible (its sign follows the other
    operand's); one above INT64_MAX can only be a uint64."""
    if negative:
        for bits in (8, 16, 32, 64):
            if -(1 << (bits - 1)) <= -value:
                return Int(bits, True)
        return INT64
    for bits in (8, 16, 32, 64):
        if value < (1 << (bits - 1)):
            return Int(bits, True, flexible=True)
    return UINT64


# ------------------------------------------------------------ joining


def join(current: Type, new: Type) -> Optional[Type]:
    """The type a variable or map slot has after holding `current` and then
    `new`, or None when the two cannot share a slot (a type mismatch)."""
    if is_unknown(current) or is_unknown(new):
        return UNKNOWN if is_unknown(current) else current if is_unknown(new) else new
    if current == new:
        return new
    if isinstance(current, Aggregation) or isinstance(new, Aggregation):
        # A map's aggregation is fixed by its first use: count() stays count().
        if type(current) is not type(new) or current.kind != new.kind:
            return None
        return Aggregation(current.kind, current.signed or new.signed)
    if is_integer(current) and is_integer(new):
        return _join_int(as_integer(current), as_integer(new))
    if type(current) is not type(new):
        return None
    if isinstance(current, String):
        return String(max(current.length, new.length))
    if isinstance(current, (Buffer, Inet)):
        return type(current)(max(current.length, new.length))
    if isinstance(current, Tuple):
        if len(current.elements) != len(new.elements):
            return None
        elements = [join(a, b) for a, b in zip(current.elements, new.elements)]
        return None if any(e is None for e in elements) else Tuple(tuple(elements))
    if isinstance(current, Record):
        if [n for n, _ in current.fields] != [n for n, _ in new.fields]:
            return None
        joined = [join(a, b) for (_, a), (_, b) in zip(current.fields, new.fields)]
        if any(j is None for j in joined):
            return None
        return Record(tuple((n, j) for (n, _), j in zip(current.fields, joined)))
    if isinstance(current, Pointer):
        target = join(current.target, new.target)
        return Pointer(target, new.user) if target is not None else None
    return None


def _join_int(current: Type, new: Type) -> Type:
    if isinstance(current, Bool) and isinstance(new, Bool):
        return BOOL
    a = current if isinstance(current, Int) else UINT8
    b = new if isinstance(new, Int) else UINT8
    flexible = a.flexible and b.flexible
    bits = max(a.bits, b.bits)
    if a.signed != b.signed:
        if a.flexible or b.flexible:
            signed = (not a.flexible and a.signed) or (not b.flexible and b.signed)
            return Int(bits, signed, flexible=flexible)
        if a.signed and a.bits > b.bits:
            return Int(a.bits, True)
        if b.signed and b.bits > a.bits:
            return Int(b.bits, True)
        # Two 64-bit integers of opposite sign end as int64, as in bpftrace
        # (whose cast check then warns).
        return Int(min(bits * 2, 64), True)
    return Int(bits, a.signed, flexible=flexible)


def binary_result(op: str, left: Type, right: Type) -> Optional[Type]:
    """The type of `left op right` for integers and bools, or None when
    the operator does not apply (pointer arithmetic is the analyser's)."""
    if op in ("==", "!=", "<", "<=", ">", ">=", "&&", "||"):
        return BOOL
    left, right = as_integer(left), as_integer(right)
    if isinstance(left, Bool) and isinstance(right, Bool) and op in ("&", "|", "^"):
        return BOOL
    left_signed = isinstance(left, Int) and left.signed
    right_signed = isinstance(right, Int) and right.signed
    # A flexible literal takes the other operand's sign.
    if isinstance(left, Int) and left.flexible and not (isinstance(right, Int) and right.flexible):
        left_signed = right_signed
    elif isinstance(right, Int) and right.flexible and not (isinstance(left, Int) and left.flexible):
        right_signed = left_signed
    if op in ("<<", ">>"):
        return Int(64, left_signed)
    return Int(64, left_signed or right_signed or op == "-")


def _aligned_size(types: list[Type]) -> int:
    offset = 0
    largest = 1
    for t in types:
        align = max(1, min(8, _alignment(t)))
        largest = max(largest, align)
        offset = (offset + align - 1) // align * align + t.size
    return (offset + largest - 1) // largest * largest


def _alignment(t: Type) -> int:
    if isinstance(t, (Int, Pointer, Aggregation, Special)):
        return t.size
    if isinstance(t, Array):
        return _alignment(t.element)
    if isinstance(t, (Tuple, Record)):
        members = t.elements if isinstance(t, Tuple) else [x for _, x in t.fields]
        return max((_alignment(m) for m in members), default=1)
    return 1
