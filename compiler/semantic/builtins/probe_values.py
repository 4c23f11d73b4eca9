"""Builtin variables that come from the probe that fired: its name, the
traced function's arguments and return value, the raw context, and the
kernel and user stacks. Most are allowed only in some probe types.
"""

from __future__ import annotations

from .. import types as T
from .schema import DEPRECATED, CallInfo, Param, Signature
from .variables import KPROBE_LIKE, PERF_EVENT, variable

STACK_MODES = ("bpftrace", "perf", "raw", "build_id")
MAX_STACK_LIMIT = 1024


def _func_rule(call: CallInfo):
    if call.provider in ("uprobe", "uretprobe"):
        return T.USYM
    return T.UNKNOWN if call.provider is None else T.KSYM


def _retval_rule(call: CallInfo):
    # fexit's return value has the traced function's BTF type.
    return T.UINT64 if call.provider in ("kretprobe", "uretprobe") else T.UNKNOWN


def _ctx_rule(call: CallInfo):
    if call.provider in KPROBE_LIKE:
        return T.Pointer(T.CRecord("struct", "pt_regs"))
    if call.provider in PERF_EVENT:
        return T.Pointer(T.CRecord("struct", "bpf_perf_event_data"))
    return T.UNKNOWN  # iter: `struct bpf_iter__NAME *`, known from the attach point


def _stack_rule(name: str, result: T.Type):
    def rule(call: CallInfo):
        args = list(call.args)
        if args and args[0].name is not None:
            if args[0].name == "build_id" and name == "kstack":
                return "'build_id' stack mode can only be used for ustack"
            args = args[1:]
        elif len(args) == 2:
            return "Expected stack mode as first argument"
        if args:
            limit = args[0].value
            if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
                return f"{name}: invalid limit value"
            if limit > MAX_STACK_LIMIT:
                most = MAX_STACK_LIMIT
                return f"{name}([int limit]): limit shouldn't exceed {most}, {limit} given"
        return result

    return rule


def stack_signatures(name: str, result: T.Type) -> tuple[Signature, ...]:
    modes = STACK_MODES  # kstack's rule rejects build_id with bpftrace's message
    mode = Param("mode", ("ident",), choices=modes, doc="how frames print")
    limit = Param("limit", ("int",), literal=True, doc="the most frames to keep (up to 1024)")
    either = Param("mode_or_limit", ("ident", "int"), choices=modes, doc="a mode or a frame limit")
    rule = _stack_rule(name, result)
    return (Signature((), result), Signature((either,), rule), Signature((mode, limit), rule))


BUILTINS = [
    variable(
        "probe",
        Signature((), T.String()),
        doc="""The full name of the probe that fired, such as
`tracepoint:syscalls:sys_enter_openat`; handy when one body serves several
attach points. A plain string since 0.23.

```
tracepoint:syscalls:sys_enter_open*, tracepoint:syscalls:sys_enter_creat { @[probe] = count(); }
```""",
    ),
    variable(
        "probetype",
        Signature((), T.String()),
        since="0.25",
        doc="""The kind of the probe that fired, such as `kprobe` or
`tracepoint`; `begin` and `end` are `special` (0.25+).

```
kprobe:vfs_read, tracepoint:syscalls:sys_enter_read { @[probetype] = count(); }
```""",
    ),
    variable(
        "func",
        Signature((), _func_rule),
        providers=("kprobe", "kretprobe", "uprobe", "uretprobe", "fentry", "fexit"),
        doc="""The name of the traced function: a `ksym_t` in kernel probes, a
`usym_t` in uprobes, made into text in user space. Return probes and
fentry/fexit need the kernel's `get_func_ip` helper.

```
kprobe:vfs_* { @calls[func] = count(); }
```""",
    ),
    variable(
        "retval",
        Signature((), _retval_rule),
        providers=("kretprobe", "uretprobe", "fexit"),
        provider_hint="in a tracepoint, read the return value from args.ret",
        hint_when=("tracepoint",),
        doc="""The value the traced function returned: a `uint64` in kretprobe
and uretprobe, the function's own type in fexit. Not allowed in `for` bodies.

```
kretprobe:vfs_read { @bytes = hist(retval); }
```""",
    ),
    variable(
        "argN",
        Signature((), T.UINT64),
        providers=("kprobe", "uprobe", "usdt", "rawtracepoint"),
        provider_hint="tracepoints and fentry/fexit name their arguments: use args.NAME",
        hint_when=("tracepoint", "fentry", "fexit"),
        doc="""`arg0`, `arg1`, ...: the traced function's arguments as raw
`uint64` values from the registers (six on x86_64; usdt probes may have up to
255). Cast them to what they are. Not allowed in `for` bodies.

```
kprobe:do_sys_openat2 { printf("%s opens %s\\n", comm, str(arg1)); }
```""",
    ),
    variable(
        "sargN",
        Signature((), T.INT64),
        providers=("kprobe", "uprobe"),
        flags={DEPRECATED},
        doc="""`sarg0`, `sarg1`, ...: arguments passed on the stack. Deprecated
in 0.21 and removed in 0.25; read the stack through `reg("sp")` instead.

```
uprobe:/bin/app:func { printf("%d\\n", *(uint64 *)(reg("sp") + 8)); }
```""",
    ),
    variable(
        "args",
        Signature((), T.UNKNOWN),
        providers=("tracepoint", "rawtracepoint", "fentry", "fexit", "uprobe"),
        provider_hint="in kprobes and usdt probes, use arg0, arg1, ...",
        hint_when=("kprobe", "kretprobe", "usdt"),
        doc="""The probe's arguments as one struct, with fields named after the
tracepoint's fields or the function's parameters (uprobes need DWARF). Read
one with `args.name` or print all with `print(args)`; `bpftrace -lv` lists
them. A value since 0.19 (`args->name` still works).

```
tracepoint:syscalls:sys_enter_openat { printf("%s %s\\n", comm, str(args.filename)); }
```""",
    ),
    variable(
        "ctx",
        Signature((), _ctx_rule),
        providers=KPROBE_LIKE + PERF_EVENT + ("iter",),
        provider_hint="in a tracepoint, use args instead",
        hint_when=("tracepoint",),
        doc="""A pointer to the probe's raw context: `struct pt_regs *` in
kprobes and uprobes, `struct bpf_perf_event_data *` in perf-event probes and
`struct bpf_iter__NAME *` in iterators, where it is the way to the data.

```
iter:task { printf("%s:%d\\n", ctx.task.comm, ctx.task.pid); }
```""",
    ),
    variable(
        "kstack",
        *stack_signatures("kstack", T.KSTACK),
        doc="""The kernel stack of the current task, symbolised in user space.
`kstack(mode, limit)` sets how frames print (`bpftrace`, `perf` or `raw`,
default from config `stack_mode`; `build_id` is for `ustack` only) and how
many are kept, at most 1024; either may come alone. The limit is a literal.

```
profile:hz:99 { @[kstack(perf, 8)] = count(); }
```""",
    ),
    variable(
        "ustack",
        *stack_signatures("ustack", T.USTACK),
        doc="""The user-space stack of the current task, walked by frame
pointers and symbolised in user space. It takes the same optional mode and
limit as `kstack`, plus the `build_id` mode (0.25+).

```
uprobe:/bin/bash:readline { @[ustack(5)] = count(); }
```""",
    ),
]
