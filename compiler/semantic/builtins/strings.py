"""Strings and buffers, the compile-time questions about values (`is_str`,
`getopt`, `kfunc_exist`...), and the DWARF stack walker `dw_ustack`."""

from __future__ import annotations

from .. import types as T
from .schema import ASYNC, COMPILE_TIME, UNSTABLE, Builtin, CallInfo, Param, Signature, function
from .probe_values import stack_signatures
from .variables import variable

BUFFER_HEADER = 4  # the length word in front of a buf() event
STRINGISH = ("string", "pointer", "array")  # strings, char pointers, char arrays
LENGTH = Param("length", ("int",), doc="the most bytes to read")
STR_DATA = Param("data", ("string", "int", "pointer"), doc="the address of a NUL-terminated string")
BUF_DATA = Param("data", ("int", "string", "pointer", "array"), doc="the bytes to copy")
PATH = Param("path", ("any",), doc="a `struct path *` or `struct path`")


def _negative(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value < 0


def _str_rule(call: CallInfo):
    if len(call.args) == 2:
        length = call.args[1].value
        if _negative(length):
            return f"str() cannot use negative length ({length})"
        if isinstance(length, int) and length + 1 <= call.max_strlen:
            return T.String(length + 1)
    return T.String(call.max_strlen)


def _buf_rule(call: CallInfo):
    largest = call.max_strlen - BUFFER_HEADER
    source = call.args[0].type
    if len(call.args) == 1:
        if isinstance(source, T.Array):
            return T.Buffer(min(source.size, largest))
        if T.is_unknown(source):
            return T.Buffer(largest)
        return f"buf() expects a length argument for non-array type {source}"
    length = call.args[1].value
    if _negative(length):
        return f"buf() cannot use negative length ({length})"
    return T.Buffer(min(length, largest) if isinstance(length, int) else largest)


def _path_rule(call: CallInfo):
    source = call.args[0].type
    if not isinstance(source, (T.Pointer, T.CRecord, T.Unknown)):
        return f"path() only supports pointer or C type argument ({source} provided)"
    size = call.args[1].value if len(call.args) == 2 else None
    return T.String(size if isinstance(size, int) and size > 0 else call.max_strlen)


def _strncmp_rule(call: CallInfo):
    if _negative(call.args[2].value):
        return "Builtin strncmp requires a non-negative literal"
    return T.UINT64


def _strftime_rule(call: CallInfo):
    stamp = call.args[1]
    if _negative(stamp.value):
        return "strftime() does not accept negative timestamps"
    node = stamp.node
    clock = getattr(node, "args", None)
    if type(node).__name__ == "Call" and getattr(node.name, "text", None) == "nsecs" and clock:
        if getattr(clock[0], "name", None) == "monotonic":
            return "strftime() can not take a monotonic timestamp"
    return T.TIMESTAMP


def _getopt_rule(call: CallInfo):
    if len(call.args) == 1:
        return T.BOOL
    default = call.args[1]
    if isinstance(default.type, T.Bool) or isinstance(default.value, bool):
        return T.BOOL
    if isinstance(default.type, T.String):
        return T.String(call.max_strlen)
    if _negative(default.value) or (isinstance(default.type, T.Int) and default.type.signed
                                    and not default.type.flexible):
        return T.INT64
    return T.UINT64


NAME = Param("name", ("string",), literal=True, doc="the option's name, without dashes")
DEFAULT = Param("default", ("int", "string"), literal=True, doc="the default, whose type it takes")
DESCRIPTION = Param("description", ("string",), literal=True, doc="shown by --help")
SIZE = Param("size", ("int",), literal=True, doc="the most bytes to keep")
TIME_FORMAT = Param("fmt", ("string",), literal=True, doc="a strftime(3) format, plus `%f`")
KFUNC = Param("kfunc", ("string",), literal=True, doc="a kfunc name")
EXPR = Param("expr", ("any",), doc="any expression; it is not evaluated")


def _question(name: str, what: str, example: str) -> Builtin:
    return function(
        name,
        Signature((EXPR,), T.BOOL),
        flags={COMPILE_TIME},
        since="0.25",
        doc=f"""Whether `expr` {what}, decided at compile time from its type
(0.25+). Mostly useful in macros with `if comptime`.

```
{example}
```""",
    )


BUILTINS = [
    function(
        "str",
        Signature((STR_DATA,), _str_rule),
        Signature((STR_DATA, LENGTH), _str_rule),
        doc="""Read a NUL-terminated string from `data`, from kernel or user
memory as the pointer says. The result holds up to `max_strlen` bytes
(1024 by default since 0.23); with a literal `length` it is a
`string[length + 1]`. Longer strings are cut and marked with `..`.

```
tracepoint:syscalls:sys_enter_openat { printf("%s\\n", str(args.filename, 64)); }
```""",
    ),
    function(
        "buf",
        Signature((BUF_DATA,), _buf_rule),
        Signature((BUF_DATA, LENGTH), _buf_rule),
        doc="""Copy `length` raw bytes from `data` into a buffer, capped near
`max_strlen`; for an array `length` may be left out. Print a buffer with
`%r` (text with hex escapes), `%rx` (all hex) or `%rh` (spaced hex).

```
kprobe:tcp_sendmsg { printf("%rh\\n", buf(arg1, 16)); }
```""",
    ),
    function(
        "path",
        Signature((PATH,), _path_rule),
        Signature((PATH, SIZE), _path_rule),
        providers=("fentry", "fexit", "iter"),
        doc="""The full file-system path of a `struct path`, resolved by the
kernel's `bpf_d_path` (kernel 5.10+). Only fentry, fexit and iter probes may
call it, and only in kernel functions allowed to use that helper. A literal
`size` (0.22+) bounds the result; a path too long is cut at the front.

```
fentry:vfs_open { printf("%s\\n", path(args.path)); }
```""",
    ),
    function(
        "strncmp",
        Signature(
            (Param("s1", ("string",)), Param("s2", ("string",)),
             Param("n", ("int",), literal=True, doc="how many bytes to compare")),
            _strncmp_rule,
        ),
        doc="""Compare at most `n` bytes of two strings: 0 when they are equal,
non-zero otherwise. `n` must be a non-negative literal. For whole strings,
`==` and `!=` are simpler.

```
tracepoint:syscalls:sys_enter_execve /strncmp(comm, "bash", 4) == 0/ { @[comm] = count(); }
```""",
    ),
    function(
        "strcontains",
        Signature((Param("haystack", STRINGISH), Param("needle", STRINGISH)), T.BOOL),
        doc="""Whether `needle` occurs in `haystack`; a `bool` since 0.24 (an
integer before).

```
tracepoint:syscalls:sys_enter_openat /strcontains(str(args.filename), "/etc/")/ { @[comm] = count(); }
```""",
    ),
    function(
        "strstr",
        Signature((Param("haystack", STRINGISH), Param("needle", STRINGISH)), T.INT64),
        since="0.25",
        doc="""The index of the first `needle` in `haystack`, or -1 when it is
not there (0.25+).

```
tracepoint:syscalls:sys_enter_openat { $i = strstr(str(args.filename), ".so"); if ($i >= 0) { @libs[comm] = count(); } }
```""",
    ),
    function(
        "strlen",
        Signature((Param("s", STRINGISH, doc="a string, char array or char pointer"),), T.UINT64),
        since="0.25",
        doc="""The length of a string-like value, not counting the NUL (0.25+).

```
tracepoint:syscalls:sys_enter_openat { @name_lengths = hist(strlen(str(args.filename))); }
```""",
    ),
    function(
        "strcap",
        Signature((Param("s", STRINGISH, doc="a string, char array or char pointer"),), T.INT64),
        since="0.25",
        doc="""The capacity of a string-like value: the size of a bpftrace string
or char array, or the length for a pointer (0.25+).

```
begin { print(strcap(comm)); }
```""",
    ),
    function(
        "str_concat",
        Signature((Param("s1", STRINGISH), Param("s2", STRINGISH)), T.String(1024)),
        since="0.27",
        doc="""A new string made of `s1` followed by `s2`, up to 1024 bytes. New
after 0.26.1 (not yet in a release).

```
tracepoint:syscalls:sys_enter_execve { print(str_concat(comm, ": exec")); }
```""",
    ),
    function(
        "memcmp",
        Signature(
            (Param("left", ("any",)), Param("right", ("any",)),
             Param("count", ("int",), doc="how many bytes to compare")),
            T.INT32,
        ),
        since="0.25",
        doc="""Compare the first `count` bytes of two values: 0 when equal, a
negative number when the first differing byte of `left` is smaller, else
positive (0.25+).

```
tracepoint:sock:inet_sock_set_state { if (memcmp(args.daddr, pton("127.0.0.1"), 4) == 0) { @loopback = count(); } }
```""",
    ),
    function(
        "strerror",
        Signature((Param("errno", ("int",), doc="an error number such as EPERM"),), T.String(64)),
        doc="""The text for an error number, e.g. "No such file or directory"
for 2. Since 0.25 it is looked up in the kernel and gives a `string[64]`.

```
tracepoint:syscalls:sys_exit_openat /args.ret < 0/ { @errors[strerror(-args.ret)] = count(); }
```""",
    ),
    function(
        "syscall_name",
        Signature((Param("nr", ("int",), doc="a system call number"),), T.String(64)),
        since="0.25",
        doc="""The name of a system call number, e.g. "read" for 0 on x86_64
(0.25+).

```
tracepoint:raw_syscalls:sys_enter { @calls[syscall_name(args.id)] = count(); }
```""",
    ),
    function(
        "signal_name",
        Signature((Param("sig", ("int",), doc="a signal number"),), T.String(64)),
        since="0.26",
        doc="""The name of a signal number, e.g. "SIGKILL" for 9 (0.26+).

```
tracepoint:signal:signal_generate { @sent[signal_name(args.sig)] = count(); }
```""",
    ),
    function(
        "strftime",
        Signature(
            (TIME_FORMAT, Param("ns", ("int",), doc="a boot-clock timestamp such as nsecs")),
            _strftime_rule,
        ),
        flags={ASYNC},
        doc="""Format a timestamp in nanoseconds (from `nsecs`) as wall-clock
time, using strftime(3) plus `%f` for microseconds. It is formatted in user
space, so it can only be printed. Negative literals and `nsecs(monotonic)`
are rejected.

```
tracepoint:syscalls:sys_enter_execve { printf("%s %s\\n", strftime("%H:%M:%S.%f", nsecs), comm); }
```""",
    ),
    function(
        "getopt",
        Signature((NAME,), _getopt_rule),
        Signature((NAME, DEFAULT), _getopt_rule),
        Signature((NAME, DEFAULT, DESCRIPTION), _getopt_rule),
        flags={COMPILE_TIME},
        since="0.24",
        doc="""A named option from the command line after `--` (0.24+). Without a
default it is a flag (`bool`); otherwise the literal default's type (bool,
integer or string) is the option's type. The description (0.25+) is shown by
`--help`.

```
begin { printf("threshold %d\\n", getopt("threshold", 10, "minimum latency in ms")); }
```""",
    ),
    function(
        "kfunc_exist",
        Signature((KFUNC,), T.BOOL),
        flags={COMPILE_TIME},
        since="0.25",
        doc="""Whether the running kernel's BTF has the kfunc `kfunc`, decided at
compile time (0.25+).

```
begin { if comptime kfunc_exist("bpf_task_from_pid") { printf("comm(pid) works\\n"); } }
```""",
    ),
    function(
        "kfunc_allowed",
        Signature((KFUNC,), T.BOOL),
        flags={COMPILE_TIME},
        since="0.25",
        doc="""Whether the kfunc `kfunc` may be called from this probe's program
type, decided at compile time (0.25+).

```
kprobe:do_exit { if comptime kfunc_allowed("bpf_task_from_pid") { print(comm(1)); } }
```""",
    ),
    _question("is_str", "is a string", 'macro say(x) { if comptime is_str(x) { print(x); } }'),
    _question("is_ptr", "is a pointer", "macro get(x) { if comptime is_ptr(x) { *x } else { x } }"),
    _question("is_array", "is an array", "macro head(x) { if comptime is_array(x) { x[0] } else { x } }"),
    _question(
        "is_integer", "is an integer",
        'macro show(x) { if comptime is_integer(x) { printf("%d\\n", x); } }',
    ),
    _question(
        "is_unsigned_integer", "is an unsigned integer",
        "macro abs(x) { if comptime is_unsigned_integer(x) { x } else { x < 0 ? -x : x } }",
    ),
    _question(
        "is_literal", "is written as a literal (`1`, `true`, `\"s\"`)",
        'macro check(x) { static_assert(is_literal(x), "check() needs a literal"); x }',
    ),
    variable(
        "dw_ustack",
        *stack_signatures("dw_ustack", T.USTACK),
        flags={UNSTABLE},
        since="0.26",
        doc="""Like `ustack`, but unwinds with the DWARF `.eh_frame` data, so it
works for programs built without frame pointers (0.26+, x86_64). The target
pids must be known at startup (`-p`, `-c` or `--dwarf-pid`). Unstable: set
`unstable_dw_ustack` to `enable` to silence the warning.

```
config = { unstable_dw_ustack = enable }
uprobe:/usr/bin/python3:PyObject_Malloc { @[dw_ustack(3)] = count(); }
```""",
    ),
]
