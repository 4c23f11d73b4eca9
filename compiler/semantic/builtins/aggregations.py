"""Aggregations: functions whose value may only be assigned to a map."""

from __future__ import annotations

from .. import types as T
from .schema import AGGREGATION, CallInfo, Param, Signature, function

VALUE = Param("value", ("int",), doc="the integer to aggregate")


def _signed_rule(kind: str):
    def rule(call: CallInfo):
        value = T.as_integer(call.args[0].type) if call.args else T.INT64
        signed = not isinstance(value, T.Int) or value.signed or value.flexible
        return T.Aggregation(kind, signed)

    return rule


def _lhist_rule(call: CallInfo):
    low, high, step = (a.value for a in call.args[1:4])
    if isinstance(low, int) and low < 0:
        return "lhist: invalid min value (must be non-negative literal)"
    if not all(isinstance(v, int) for v in (low, high, step)):
        return T.Aggregation("lhist")
    if step < 1:
        return "lhist() step must be >= 1"
    if low > high:
        return "lhist() min must be less than max"
    if step > high - low:
        return "lhist() step is too large for the given range"
    if (high - low) // step > 1000:
        return "lhist() too many buckets, must be <= 1000"
    return T.Aggregation("lhist")


def _hist_rule(call: CallInfo):
    if len(call.args) == 2:
        bits = call.args[1].value
        if isinstance(bits, int) and not 0 <= bits <= 5:
            return "hist: bits must be between 0 and 5"
    return T.Aggregation("hist")


def _tseries_rule(call: CallInfo):
    interval, count = call.args[1].value, call.args[2].value
    if isinstance(interval, int) and interval < 1:
        return "tseries() interval_ns must be >= 1"
    if isinstance(count, int) and not 1 <= count <= 1_000_000:
        return "tseries() num_intervals must be >= 1 and <= 1000000"
    if len(call.args) == 4 and call.args[3].value not in (None, b"avg", b"max", b"min", b"sum"):
        return 'tseries() expects "avg", "max", "min" or "sum" as its aggregation'
    return T.Aggregation("tseries")


BUILTINS = [
    function(
        "count",
        Signature((), T.Aggregation("count", False)),
        flags={AGGREGATION},
        doc="""Count how many times this runs.

```
tracepoint:raw_syscalls:sys_enter { @calls[comm] = count(); }
```

The map prints as a number per key. It may be read as an integer, e.g.
`if (@calls[comm] > 100)`, which sums the per-CPU counts.""",
    ),
    function(
        "sum",
        Signature((VALUE,), _signed_rule("sum")),
        flags={AGGREGATION},
        doc="""Add up `value`.

```
tracepoint:syscalls:sys_exit_read /args.ret > 0/ { @bytes[comm] = sum(args.ret); }
```""",
    ),
    function(
        "min",
        Signature((VALUE,), _signed_rule("min")),
        flags={AGGREGATION},
        doc="""Keep the smallest `value` seen.

```
kretprobe:vfs_read { @smallest = min(retval); }
```""",
    ),
    function(
        "max",
        Signature((VALUE,), _signed_rule("max")),
        flags={AGGREGATION},
        doc="""Keep the largest `value` seen.

```
kretprobe:vfs_read { @largest = max(retval); }
```""",
    ),
    function(
        "avg",
        Signature((VALUE,), _signed_rule("avg")),
        flags={AGGREGATION},
        doc="""Keep the average of `value`: the count and total are stored, and
the integer average is printed.

```
tracepoint:syscalls:sys_exit_read /args.ret > 0/ { @avg_read = avg(args.ret); }
```""",
    ),
    function(
        "stats",
        Signature((VALUE,), _signed_rule("stats")),
        flags={AGGREGATION},
        doc="""Keep the count, average and total of `value`; prints as
`{ .count = N, .average = A, .total = T }`.

```
tracepoint:syscalls:sys_exit_read /args.ret > 0/ { @reads = stats(args.ret); }
```""",
    ),
    function(
        "hist",
        Signature((VALUE,), _hist_rule),
        Signature(
            (VALUE, Param("bits", ("int",), literal=True, doc="0 to 5: 2^bits buckets per power of two")),
            _hist_rule,
        ),
        flags={AGGREGATION},
        doc="""A power-of-two histogram of `value`. With `bits` (0 to 5), each
power of two is split into 2^bits buckets.

```
tracepoint:block:block_rq_issue { @bytes = hist(args.bytes); }
```""",
    ),
    function(
        "lhist",
        Signature(
            (
                VALUE,
                Param("min", ("int",), literal=True, doc="the lowest bucket's start"),
                Param("max", ("int",), literal=True, doc="the end of the highest bucket"),
                Param("step", ("int",), literal=True, doc="the width of each bucket"),
            ),
            _lhist_rule,
        ),
        flags={AGGREGATION},
        doc="""A linear histogram of `value` from `min` to `max` in buckets of
`step`; values outside go to the first and last buckets.

```
tracepoint:syscalls:sys_exit_read { @ret = lhist(args.ret, 0, 1000, 100); }
```""",
    ),
    function(
        "tseries",
        Signature(
            (
                VALUE,
                Param("interval_ns", ("int",), literal=True, doc="the length of one interval"),
                Param("num_intervals", ("int",), literal=True, doc="how many intervals to keep"),
            ),
            _tseries_rule,
        ),
        Signature(
            (
                VALUE,
                Param("interval_ns", ("int",), literal=True),
                Param("num_intervals", ("int",), literal=True),
                Param("aggregation", ("string",), literal=True, doc='"avg", "max", "min" or "sum"'),
            ),
            _tseries_rule,
        ),
        flags={AGGREGATION},
        since="0.24",
        doc="""A time series of `value`: one aggregate per interval, for the
last `num_intervals` intervals (unstable: needs `unstable_tseries`).

```
interval:ms:100 { @load = tseries(nsecs % 100, 1s, 10); }
```""",
    ),
]
