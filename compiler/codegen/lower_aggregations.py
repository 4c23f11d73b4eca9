"""Aggregations to IR: count, sum, min, max, avg, stats, hist and lhist
update this CPU's slot of a per-CPU map (layout.AGGREGATION_VALUE_SIZE
says what a slot holds), and reading one as an integer (`@c > 10`) sums
every CPU's slot with map_lookup_percpu_elem.

hist and lhist add a u64 bucket index to the key, numbered as bpftrace
numbers them (the runtime labels buckets from these indexes):
  hist(v, k):  0 for v < 0; v + 1 for v < 2**k; else 1 + ((l - k + 1) << k)
               + the k bits after the leading one, where l = floor(log2 v),
               at most 31 (values from 2**31 up share the last bucket, as in 0.17)
  lhist(v, min, max, step): 0 below min; 1 + (max - min) / step above max;
               else 1 + (v - min) / step
"""

from __future__ import annotations

import os

from llvmlite import ir

from ..runtime import layout
from ..semantic import types as T
from ..syntax import ast
from . import maps as M
from .errors import Unsupported
from .values import I32, I64, PTR, Value, byte_ptr, i64, is_signed


class AggregationLowering:
    def aggregate(self, planned, access, call: ast.Call) -> None:
        kind = planned.info.aggregation.kind
        args = [self.expr(a) for a in call.args]
        value = self.as_scalar(args[0]) if args else i64(1)
        if kind in ("hist", "lhist"):
            bucket = self.log2_bucket(value, planned.info.aggregation.bits) if kind == "hist" else \
                self.linear_bucket(value, planned.info.aggregation)
            key = self.bucket_key(planned, access, bucket)
            self.add_to_slot(planned, key, [(0, i64(1))])
        elif kind in ("count", "sum"):
            self.add_to_slot(planned, self.map_key(planned, access), [(0, value if kind == "sum" else i64(1))])
        elif kind in ("avg", "stats"):
            self.add_to_slot(planned, self.map_key(planned, access), [(0, i64(1)), (8, value)])
        elif kind in ("min", "max"):
            self.min_max(planned, self.map_key(planned, access), value, kind, is_signed(self.unit.type_of(call.args[0])))
        else:
            raise Unsupported(f"{kind}() is not supported by the backend yet", call)

    def add_to_slot(self, planned, key: ir.Value, additions: list[tuple[int, ir.Value]]) -> None:
        """Add to the u64 words of this CPU's slot, creating it if missing."""
        b = self.builder
        found = M.lookup(self.fn, planned, key)
        is_null = b.icmp_unsigned("==", found, ir.Constant(PTR, None))
        with b.if_else(is_null) as (missing, present):
            with missing:
                size = planned.info.value_size
                slot = self.fn.temp(size)
                self.fn.zero(slot, size)
                for offset, amount in additions:
                    b.store(amount, byte_ptr(b, slot, offset))
                M.update(self.fn, planned, key, slot)
            with present:
                for offset, amount in additions:
                    word = byte_ptr(b, found, offset)
                    b.store(b.add(b.load(word, typ=I64), amount), word)

    def min_max(self, planned, key: ir.Value, value: ir.Value, kind: str, signed: bool) -> None:
        b = self.builder
        found = M.lookup(self.fn, planned, key)
        is_null = b.icmp_unsigned("==", found, ir.Constant(PTR, None))
        with b.if_else(is_null) as (missing, present):
            with missing:
                slot = self.fn.temp(16)
                b.store(value, slot)
                b.store(i64(1), byte_ptr(b, slot, 8))
                M.update(self.fn, planned, key, slot)
            with present:
                current = b.load(found, typ=I64)
                unset = b.icmp_unsigned("==", b.load(byte_ptr(b, found, 8), typ=I64), i64(0))
                compare = b.icmp_signed if signed else b.icmp_unsigned
                better = compare("<" if kind == "min" else ">", value, current)
                with b.if_then(b.or_(unset, better)):
                    b.store(value, found)
                    b.store(i64(1), byte_ptr(b, found, 8))

    def bucket_key(self, planned, access, bucket: ir.Value) -> ir.Value:
        info = planned.info
        ptr = self.fn.temp(info.key_size)
        user_size = info.key_size - 8
        if user_size:
            self.keys_into(access.keys, ptr, info.key, user_size)
        self.builder.store(bucket, byte_ptr(self.builder, ptr, user_size))
        return ptr

    def log2_bucket(self, value: ir.Value, bits: int) -> ir.Value:
        """hist's bucket index (see the module docstring), branch-free but
        for the sign test so that the verifier sees one short path."""
        b = self.builder
        result = self.fn.temp(8)
        negative = b.icmp_signed("<", value, i64(0))
        small = b.icmp_unsigned("<", value, i64(1 << bits))
        with b.if_else(negative) as (is_negative, non_negative):
            with is_negative:
                b.store(i64(0), result)
            with non_negative:
                with b.if_else(small) as (is_small, is_large):
                    with is_small:
                        b.store(b.add(value, i64(1)), result)
                    with is_large:
                        b.store(self._log2_large(value, bits), result)
        return b.load(result, typ=I64)

    def _log2_large(self, value: ir.Value, bits: int) -> ir.Value:
        b = self.builder
        # l = floor(log2(value)) by binary search over 16, 8, 4, 2, 1 bits.
        # Like bpftrace 0.17, there is no 32-bit step: every value from 2**31
        # up lands in the [2G, 4G) bucket (and the program is shorter).
        n, l = value, i64(0)
        for width in (16, 8, 4, 2, 1):
            big = b.zext(b.icmp_unsigned(">=", n, i64(1 << width)), I64)
            shift = b.mul(big, i64(width))
            n = b.lshr(n, shift)
            l = b.add(l, shift)
        above = b.sub(l, i64(bits))
        following = b.and_(b.lshr(value, above), i64((1 << bits) - 1))
        return b.add(b.add(b.shl(b.add(above, i64(1)), i64(bits)), following), i64(1))

    def linear_bucket(self, value: ir.Value, params) -> ir.Value:
        b = self.builder
        result = self.fn.temp(8)
        below = b.icmp_signed("<", value, i64(params.min))
        above = b.icmp_signed(">", value, i64(params.max))
        with b.if_else(below) as (under, not_under):
            with under:
                b.store(i64(0), result)
            with not_under:
                with b.if_else(above) as (over, inside):
                    with over:
                        b.store(i64(1 + (params.max - params.min) // params.step), result)
                    with inside:
                        offset = b.udiv(b.sub(value, i64(params.min)), i64(params.step))
                        b.store(b.add(offset, i64(1)), result)
        return b.load(result, typ=I64)

    # ----------------------------------------------------------- reading

    def read_aggregation(self, planned, access) -> Value:
        """An aggregation read as an integer: every CPU's slot combined."""
        info = planned.info
        kind = info.aggregation.kind
        b = self.builder
        key = self.map_key(planned, access)
        total, count = self.fn.temp(8), self.fn.temp(8)
        b.store(i64(0), total)
        b.store(i64(0), count)
        for cpu in range(possible_cpus()):
            slot = self.unit.module.call_helper(
                b, "map_lookup_percpu_elem", PTR, [planned.global_, key, ir.Constant(I32, cpu)]
            )
            with b.if_then(b.icmp_unsigned("!=", slot, ir.Constant(PTR, None))):
                first = b.load(slot, typ=I64)
                if kind in ("count", "sum"):
                    b.store(b.add(b.load(total, typ=I64), first), total)
                elif kind == "avg":
                    b.store(b.add(b.load(count, typ=I64), first), count)
                    b.store(b.add(b.load(total, typ=I64), b.load(byte_ptr(b, slot, 8), typ=I64)), total)
                else:  # min, max: only slots that were set
                    self._combine_extreme(kind, slot, total, count, is_signed(info.value))
        result = b.load(total, typ=I64)
        if kind == "avg":
            n = b.load(count, typ=I64)
            safe = b.select(b.icmp_unsigned("==", n, i64(0)), i64(1), n)
            result = b.udiv(result, safe)
        return Value(T.as_integer(info.value), scalar=result)

    def _combine_extreme(self, kind: str, slot, best, seen, signed: bool) -> None:
        b = self.builder
        is_set = b.icmp_unsigned("!=", b.load(byte_ptr(b, slot, 8), typ=I64), i64(0))
        with b.if_then(is_set):
            value = b.load(slot, typ=I64)
            first = b.icmp_unsigned("==", b.load(seen, typ=I64), i64(0))
            compare = b.icmp_signed if signed else b.icmp_unsigned
            better = compare("<" if kind == "min" else ">", value, b.load(best, typ=I64))
            with b.if_then(b.or_(first, better)):
                b.store(value, best)
                b.store(i64(1), seen)


def possible_cpus() -> int:
    """CPUs the kernel may ever bring online: per-CPU maps have a slot each."""
    try:
        text = open("/sys/devices/system/cpu/possible").read().strip()
    except OSError:
        return os.cpu_count() or 1
    total = 0
    for part in text.split(","):
        low, _, high = part.partition("-")
        total += int(high or low) - int(low) + 1
    return total


__all__ = ["AggregationLowering", "layout"]
