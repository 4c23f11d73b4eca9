"""Map utilities: functions that take a map by name (`clear(@m)`), test or
remove its keys, count them, or print a map or any other value."""

from __future__ import annotations

from .. import types as T
from .schema import ASYNC, MAP_FIRST, STATEMENT, CallInfo, Param, Signature, function

MAP = Param("map", ("map",), doc="a map, written by name without a key: `@m`")
KEY = Param("key", ("any",), doc="a key of the map; a tuple for a multi-key map")
SCALAR_OR_ENTRY = Param(
    "map", ("map", "mapentry"), doc="a scalar `@m`, or (deprecated) `@m[key]`", wanted="a map"
)
RESULT = Param("result", ("variable",), doc="a scratch variable that receives the value")
MAP_OR_STACK = Param("of", ("map", "stack"), doc="a keyed map, or a kstack/ustack value")
VALUE = Param("value", ("any",), doc="any printable value, e.g. `@m[k]`, a tuple or a struct")
TOP = Param("top", ("int",), literal=True, doc="print only the N entries with the highest values")
DIV = Param("div", ("int",), literal=True, doc="divide every value by this before printing")
# print()'s first argument when top/div follow: only a map may have them, but
# any value is let through so that the rule can say what bpftrace says.
PRINTED = Param("map", ("map", "any"), doc="the map to print; other values take no more arguments")


def _print_rule(call: CallInfo):
    if type(call.args[0].node).__name__ != "MapRef":  # a bare `@m`, not `@m[k]` or a value
        return f"Non-map print() only takes 1 argument, {len(call.args)} found"
    return T.VOID

BUILTINS = [
    function(
        "clear",
        Signature((MAP,), T.VOID),
        flags={ASYNC, STATEMENT, MAP_FIRST},
        doc="""Remove every key from `map`. User space does it when the event
arrives, so updates made in the meantime may be lost.

```
tracepoint:syscalls:sys_enter_openat { @opens[comm] = count(); }
interval:s:1 { print(@opens); clear(@opens); }
```""",
    ),
    function(
        "zero",
        Signature((MAP,), T.VOID),
        flags={ASYNC, STATEMENT, MAP_FIRST},
        doc="""Set the value of every key in `map` to zero, keeping the keys.
Like `clear`, it happens in user space.

```
kprobe:vfs_read { @calls[comm] = count(); }
interval:s:1 { print(@calls); zero(@calls); }
```""",
    ),
    function(
        "delete",
        Signature((MAP, KEY), T.BOOL),
        Signature((SCALAR_OR_ENTRY,), T.BOOL),
        doc="""Remove one key from a map: `delete(@m, key)` (0.22+; a multi-key
map takes the keys as a tuple, `delete(@m, (a, b))`), or `delete(@m)` for a
map without keys. The old `delete(@m[key])` form still works but is
deprecated. Since 0.24 it returns whether a key was removed; if that result
is ignored, a failed delete warns at run time.

```
kprobe:vfs_read { @start[tid] = nsecs; }
kretprobe:vfs_read /has_key(@start, tid)/ { @ns = hist(nsecs - @start[tid]); delete(@start, tid); }
```""",
    ),
    function(
        "has_key",
        Signature((MAP, KEY), T.BOOL),
        flags={MAP_FIRST},
        since="0.22",
        doc="""Whether `map` holds `key` (0.22+; a `bool` since 0.24). The map
must have keys: a scalar map is an error.

```
kprobe:vfs_read { @start[tid] = nsecs; }
kretprobe:vfs_read /has_key(@start, tid)/ { @ns = hist(nsecs - @start[tid]); }
```""",
    ),
    function(
        "find",
        Signature((MAP, KEY, RESULT), T.BOOL),
        flags={MAP_FIRST},
        since="0.25",
        doc="""Look `key` up in `map` once: when it is there, store its value in
the scratch variable `result` and return true; otherwise return false and
leave `result` alone (0.25+). Cheaper than `has_key` followed by a read.

```
kprobe:vfs_read { @start[tid] = nsecs; }
kretprobe:vfs_read {
  let $start;
  if (find(@start, tid, $start)) { @ns = hist(nsecs - $start); }
}
```""",
    ),
    function(
        "len",
        Signature((MAP_OR_STACK,), T.INT64),
        since="0.20",
        doc="""The number of keys in a map (0.20+), or the number of frames in a
`kstack`/`ustack` value (0.23+). A scalar map is an error.

```
kprobe:vfs_read { @start[tid] = nsecs; }
interval:s:1 { printf("%d threads seen\\n", len(@start)); }
```""",
    ),
    function(
        "print",
        Signature((MAP,), T.VOID),
        Signature((PRINTED, TOP), _print_rule),
        Signature((PRINTED, TOP, DIV), _print_rule),
        Signature((VALUE,), T.VOID),
        flags={ASYNC, STATEMENT},
        doc="""Print a whole map in the usual map format, optionally only its
`top` entries and with values divided by `div` (both literals), or print any
other value in its default format (one argument only). Maps print by
reference when the event is handled, so they may have changed since the
call; other values are copied.

```
kretprobe:vfs_read { @bytes[comm] = sum(retval); }
interval:s:5 { print(@bytes, 10); print(("done", nsecs)); }
```""",
    ),
]
