"""Output and control: printing, running commands, exiting, signals and
assertions."""

from __future__ import annotations

from .. import types as T
from .schema import ASYNC, COMPILE_TIME, STATEMENT, UNSAFE, CallInfo, Param, Signature, function

MAX_ARGS = 128  # the format plus up to 127 values
FORMAT = Param("fmt", ("string",), literal=True, doc="a format string, as for printf")
VALUE = Param("value", ("any",), doc="a value for the next conversion in the format")

# The probe types from which bpf_send_signal may be called (HEAD's stdlib).
SIGNAL_PROVIDERS = (
    "kprobe", "kretprobe", "uprobe", "uretprobe", "usdt", "tracepoint", "profile",
    "fentry", "fexit", "rawtracepoint",
)  # fmt: skip
SIGNAL_NAMES = frozenset(
    "SIG" + n
    for n in (
        "ABRT ALRM BUS CHLD CONT FPE HUP ILL INT KILL PIPE POLL QUIT SEGV STOP SYS TERM TRAP "
        "TSTP TTIN TTOU URG USR1 USR2 VTALRM WINCH XCPU XFSZ"
    ).split()
)


def _formatted(*, literal_values: bool = False, max_args: int = MAX_ARGS) -> Signature:
    value = Param("value", ("any",), literal=literal_values, doc=VALUE.doc)
    return Signature((FORMAT,), T.VOID, variadic=value, max_args=max_args)


def _signal_rule(name: str):
    def rule(call: CallInfo):
        arg = call.args[0]
        if isinstance(arg.type, T.String):
            if not isinstance(arg.value, bytes):
                return f"{name}() accepts a string literal or an integer"
            text = arg.value.decode("utf-8", "replace").upper()
            if (text if text.startswith("S") else "SIG" + text) not in SIGNAL_NAMES:
                return f"Invalid string for signal: {arg.value.decode('utf-8', 'replace')}"
        elif isinstance(arg.value, int) and not 1 <= arg.value <= 64:
            return f"{name}() accepts a string literal or an integer between 1 and 64 (inclusive)"
        return T.VOID

    return rule


SIGNAL = Param("sig", ("string", "int"), doc='a signal name literal ("SIGKILL") or a number 1-64')
STRINGS = Param("array", ("pointer", "int"), doc="a NULL-terminated array of strings, e.g. argv")
SEPARATOR = Param("sep", ("string",), literal=True, doc='the separator, " " by default')

BUILTINS = [
    function(
        "printf",
        _formatted(),
        flags={ASYNC, STATEMENT},
        doc="""Print the values formatted by `fmt`, a literal with C-style
conversions (`%d`, `%s`, `%x`, `%-10s`, ...) plus `%r`/`%rx`/`%rh` for
buffers and `%gr` for GFP flags (0.26+). The values are copied when the probe
fires and formatted later in user space.

```
tracepoint:syscalls:sys_enter_openat { printf("%-16s %6d %s\\n", comm, pid, str(args.filename)); }
```""",
    ),
    function(
        "errorf",
        _formatted(),
        flags={ASYNC, STATEMENT},
        since="0.24",
        doc="""Like `printf`, but prints the text to stderr as an error message
that points at the call in the script (0.24+). The program keeps running.

```
kretprobe:vfs_read /(int64)retval < 0/ { errorf("read failed: %d", (int64)retval); }
```""",
    ),
    function(
        "warnf",
        _formatted(),
        flags={ASYNC, STATEMENT},
        since="0.25",
        doc="""Like `errorf`, but the message is a warning, silenced by
`--no-warnings` (0.25+).

```
kretprobe:vfs_read /(int64)retval < 0/ { warnf("read failed: %d", (int64)retval); }
```""",
    ),
    function(
        "fail",
        _formatted(literal_values=True),
        flags={COMPILE_TIME, STATEMENT},
        since="0.25",
        doc="""Stop compilation with the formatted message if this call is
reachable after compile-time evaluation (`if comptime`, macros). Every
argument must be a literal (0.25+).

```
macro half(x) { if comptime (!is_integer(x)) { fail("half() wants an integer, not %s", "that"); } x / 2 }
```""",
    ),
    function(
        "debugf",
        _formatted(max_args=4),
        flags={STATEMENT},
        doc="""Write a message to the kernel's trace pipe
(`/sys/kernel/tracing/trace_pipe`) with `bpf_trace_printk`. At most three
values, and only the `%d %u %x %p %s` conversions. Meant for debugging: it
always warns that it is not for production.

```
kprobe:do_nanosleep { debugf("pid %d sleeps", pid); }
```""",
    ),
    function(
        "time",
        Signature((), T.VOID),
        Signature((Param("fmt", ("string",), literal=True, doc="a strftime(3) format"),), T.VOID),
        flags={ASYNC, STATEMENT},
        doc="""Print the current wall-clock time using a strftime(3) format
(default `%H:%M:%S\\n`). The time is taken when user space handles the event,
not when the probe fired; use `strftime()` for the latter.

```
tracepoint:syscalls:sys_enter_openat { @opens = count(); }
interval:s:1 { time("%H:%M:%S "); printf("%d opens\\n", (uint64)@opens); clear(@opens); }
```""",
    ),
    function(
        "cat",
        _formatted(),
        flags={ASYNC, STATEMENT},
        doc="""Print the contents of the file whose name is made from the format
and values, like `printf`. User space reads the file (at most
`max_cat_bytes`) when it handles the event.

```
tracepoint:syscalls:sys_enter_execve { cat("/proc/%d/status", pid); }
```""",
    ),
    function(
        "system",
        _formatted(),
        flags={ASYNC, STATEMENT, UNSAFE},
        doc="""Run the command made from the format and values, and print its
output. It needs `--unsafe`; bpftrace waits for the command, so slow commands
delay every other event.

```
tracepoint:syscalls:sys_enter_kill /args.sig == 9/ { system("ps -p %d -o pid,comm", args.pid); }
```""",
    ),
    function(
        "join",
        Signature((STRINGS,), T.VOID),
        Signature((STRINGS, SEPARATOR), T.VOID),
        flags={ASYNC, STATEMENT},
        doc="""Print an array of strings such as `argv` on one line, joined by
`sep`. It prints directly; the result cannot be stored.

```
tracepoint:syscalls:sys_enter_execve { join(args.argv, ","); }
```""",
    ),
    function(
        "exit",
        Signature((), T.VOID),
        Signature((Param("code", ("int",), doc="bpftrace's exit status"),), T.VOID),
        flags={ASYNC, STATEMENT},
        doc="""Stop tracing: `end` probes still run and maps are still printed.
The optional exit status needs 0.21+. It may not be called inside a loop
(0.25+).

```
interval:s:10 { exit(); }
```""",
    ),
    function(
        "signal",
        Signature((SIGNAL,), _signal_rule("signal")),
        providers=SIGNAL_PROVIDERS,
        flags={UNSAFE, STATEMENT},
        doc="""Send a signal to the process being traced, given by name or
number. It needs `--unsafe`.

```
tracepoint:syscalls:sys_enter_openat /comm == "victim"/ { signal("SIGSTOP"); }
```""",
    ),
    function(
        "signal_thread",
        Signature((SIGNAL,), _signal_rule("signal_thread")),
        providers=SIGNAL_PROVIDERS,
        flags={UNSAFE, STATEMENT},
        since="0.25",
        doc="""Like `signal`, but only the traced thread receives the signal
(0.25+). It needs `--unsafe`.

```
uprobe:/usr/bin/app:crash_here { signal_thread("SIGTRAP"); }
```""",
    ),
    function(
        "override",
        Signature((Param("rc", ("int",), doc="the value the function will return"),), T.VOID),
        providers=("kprobe",),
        flags={UNSAFE, STATEMENT},
        doc="""Skip the probed kernel function and make it return `rc` instead.
It needs `--unsafe`, a kernel built with `CONFIG_BPF_KPROBE_OVERRIDE`, and a
function marked for error injection.

```
kprobe:__x64_sys_getuid /comm == "id"/ { override(1234); }
```""",
    ),
    function(
        "unwatch",
        Signature((Param("addr", ("int", "pointer"), doc="the watched address"),), T.VOID),
        flags={ASYNC, STATEMENT},
        doc="""Remove the watchpoint on `addr`, so later accesses no longer fire
it.

```
watchpoint:0x10000000:8:w { printf("first write\\n"); unwatch(0x10000000); }
```""",
    ),
    function(
        "assert",
        Signature(
            (Param("cond", ("any",), doc="the condition that must hold"),
             Param("msg", ("string",), doc="the message when it does not")),
            T.VOID,
        ),
        flags={STATEMENT},
        since="0.24",
        doc="""If `cond` is false at run time, print `msg` as an error and exit
with status 1 (0.24+).

```
kretprobe:vfs_read { assert(retval <= 1 << 30, "implausible read size"); }
```""",
    ),
    function(
        "static_assert",
        Signature(
            (Param("cond", ("any",), doc="a condition known at compile time"),
             Param("msg", ("string",), literal=True, doc="the error message")),
            T.VOID,
        ),
        flags={COMPILE_TIME, STATEMENT},
        since="0.25",
        doc="""Fail compilation with `msg` when the compile-time condition
`cond` is false (0.25+). Useful in macros.

```
macro first_byte(x) { static_assert(is_array(x), "first_byte() needs an array"); x[0] }
```""",
    ),
]
