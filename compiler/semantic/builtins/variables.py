"""Builtin variables: values about the current task, the probe and time.

Since 0.24 each may also be called (`comm()`); the call forms with arguments
(`nsecs(monotonic)`, `comm(pid)`, `kstack(perf, 5)`) are further signatures.
"""

from __future__ import annotations

import dataclasses

from .. import types as T
from .schema import DEPRECATED, CallInfo, Param, Signature, function

TASK_STRUCT = T.Pointer(T.CRecord("struct", "task_struct"))
KPROBE_LIKE = ("kprobe", "kretprobe", "uprobe", "uretprobe", "usdt")
PERF_EVENT = ("profile", "interval", "software", "hardware", "watchpoint", "asyncwatchpoint")
STACK_MODES = ("bpftrace", "perf", "raw", "build_id")
MAX_STACK_LIMIT = 1024

TASK = Param("task", ("pointer",), doc="a `struct task_struct *`; the current task when omitted")
CLOCK = Param("clock", ("ident",), choices=("boot", "monotonic", "tai", "sw_tai"), doc="a clock")
NAMESPACE = Param("namespace", ("ident",), choices=("curr_ns", "init"),
                  doc="`curr_ns` (bpftrace's pid namespace) or `init` (the root one)")


def variable(name: str, *signatures: Signature, doc: str, **options):
    """A builtin variable, with its call forms as further signatures."""
    return dataclasses.replace(function(name, *signatures, doc=doc, **options), kind="variable")


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


_CONFIG = T.Record(
    tuple((n, T.BOOL) for n in ("cpp_demangle", "lazy_symbolication", "print_maps_on_exit",
                                "use_blazesym", "show_debug_info"))
    + tuple((n, T.UINT64) for n in ("log_size", "max_bpf_progs", "max_cat_bytes", "max_map_keys",
                                    "max_probes", "max_strlen", "on_stack_limit", "perf_rb_pages"))
    + tuple((n, T.String()) for n in ("str_trunc_trailer", "unstable_import_statement",
                                      "unstable_tseries", "unstable_typeinfo", "unstable_dw_ustack",
                                      "missing_probes", "stack_mode", "license"))
)  # fmt: skip

BUILTINS = [
    variable(
        "pid",
        Signature((), T.UINT32),
        Signature((NAMESPACE,), T.UINT32),
        doc="""The process id (the kernel's tgid) of the current task, as seen
from bpftrace's pid namespace; `pid(init)` (0.24+) gives the id in the root
namespace. It is a `uint32` since 0.22.

```
tracepoint:syscalls:sys_enter_openat { @opens[pid, comm] = count(); }
```""",
    ),
    variable(
        "tid",
        Signature((), T.UINT32),
        Signature((NAMESPACE,), T.UINT32),
        doc="""The thread id of the current task. Like `pid`, it takes an
optional namespace, `curr_ns` or `init` (0.24+).

```
kprobe:vfs_write { @writes_by_thread[tid] = count(); }
```""",
    ),
    variable(
        "uid",
        Signature((), T.UINT64),
        doc="""The user id of the current task, in the root user namespace.

```
tracepoint:syscalls:sys_enter_execve /uid != 0/ { printf("%d: %s\\n", uid, str(args.filename)); }
```""",
    ),
    variable(
        "gid",
        Signature((), T.UINT64),
        doc="""The group id of the current task, in the root user namespace.

```
tracepoint:syscalls:sys_enter_openat { @by_group[gid] = count(); }
```""",
    ),
    variable(
        "nsecs",
        Signature((), T.UINT64),
        Signature((CLOCK,), T.UINT64),
        doc="""A timestamp in nanoseconds from the boot clock, which keeps
counting while suspended. `nsecs(monotonic)` (0.19+) leaves suspended time
out, `nsecs(tai)` reads the TAI clock and `nsecs(sw_tai)` estimates it where
the kernel cannot. `strftime()` refuses monotonic timestamps.

```
kprobe:vfs_read { @start[tid] = nsecs; }
kretprobe:vfs_read /@start[tid]/ { @ns = hist(nsecs - @start[tid]); delete(@start, tid); }
```""",
    ),
    variable(
        "elapsed",
        Signature((), T.UINT64),
        doc="""Nanoseconds since bpftrace started.

```
interval:s:1 { printf("%d s\\n", elapsed / 1000000000); }
```""",
    ),
    variable(
        "jiffies",
        Signature((), T.UINT64),
        since="0.20",
        doc="""The kernel's jiffies counter (0.20+).

```
interval:s:1 { printf("jiffies: %d\\n", jiffies); }
```""",
    ),
    variable(
        "numaid",
        Signature((), T.UINT64),
        doc="""The NUMA node the probe runs on.

```
kprobe:kmem_cache_alloc { @allocs_per_node[numaid] = count(); }
```""",
    ),
    variable(
        "cpu",
        Signature((), T.UINT64),
        doc="""The id of the CPU the probe runs on.

```
profile:hz:99 { @samples[cpu] = count(); }
```""",
    ),
    variable(
        "ncpus",
        Signature((), T.UINT64),
        since="0.24",
        doc="""How many CPUs the machine has, fixed at compile time (0.24+).

```
begin { printf("tracing %d CPUs\\n", ncpus); }
```""",
    ),
    variable(
        "comm",
        Signature((), T.String(16)),
        Signature((Param("pid", ("int",), doc="the process to name"),), T.String(64)),
        doc="""The name of the current thread (the kernel's 16-byte `comm`).
`comm(pid)` (0.25+) names another process, as a `string[64]`; it needs a
kernel and probe type that may call the `bpf_task_from_pid` kfunc.

```
tracepoint:syscalls:sys_enter_execve { printf("%s -> %s\\n", comm, str(args.filename)); }
```""",
    ),
    variable(
        "pcomm",
        Signature((), T.String(16)),
        Signature((TASK,), T.String(16)),
        since="0.25",
        doc="""The name of the parent process (`real_parent.comm`) of the current
task, or of `task` (0.25+; before 0.26 it read the group leader's instead).

```
tracepoint:syscalls:sys_enter_execve { printf("%s started by %s\\n", comm, pcomm); }
```""",
    ),
    variable(
        "ppid",
        Signature((), T.INT32),
        Signature((TASK,), T.INT32),
        since="0.24",
        doc="""The pid of the parent process (`real_parent.pid`) of the current
task, or of `task` (0.24+). Its type is the kernel's `pid_t`.

```
tracepoint:sched:sched_process_exec { printf("%d (parent %d) exec %s\\n", pid, ppid, comm); }
```""",
    ),
    variable(
        "leader_comm",
        Signature((), T.String(16)),
        Signature((TASK,), T.String(16)),
        since="0.26",
        doc="""The name of the thread-group leader (`group_leader.comm`) of the
current task, or of `task` (0.26+).

```
kprobe:do_nanosleep { @sleeps[leader_comm] = count(); }
```""",
    ),
    variable(
        "leader_tid",
        Signature((), T.INT32),
        Signature((TASK,), T.INT32),
        since="0.26",
        doc="""The thread id of the thread-group leader (`group_leader.pid`) of
the current task, or of `task` (0.26+).

```
kprobe:do_nanosleep { @sleeps[leader_tid] = count(); }
```""",
    ),
    variable(
        "curtask",
        Signature((), TASK_STRUCT),
        doc="""A pointer to the current task's `struct task_struct`, for the
fields no other builtin gives.

```
kprobe:do_exit { printf("%s exits, prio %d\\n", comm, curtask.prio); }
```""",
    ),
    variable(
        "rand",
        Signature((), T.UINT64),
        doc="""A pseudo-random number from the kernel (32 random bits).

```
profile:hz:99 /rand % 10 == 0/ { @sampled[kstack] = count(); }
```""",
    ),
    variable(
        "cgroup",
        Signature((), T.UINT64),
        doc="""The id of the current task's cgroup (cgroup v2 only); compare it
with `cgroupid("/sys/fs/cgroup/...")`.

```
tracepoint:syscalls:sys_enter_openat /cgroup == cgroupid("/sys/fs/cgroup/system.slice")/ { @[comm] = count(); }
```""",
    ),
    variable(
        "username",
        Signature((), T.USERNAME),
        doc="""The name of the current user. The uid is turned into a name in
user space, so the value can only be printed or used as a map key.

```
tracepoint:syscalls:sys_enter_execve { printf("%s ran %s\\n", username, str(args.filename)); }
```""",
    ),
    variable(
        "usermode",
        Signature((), T.UINT8),
        since="0.24",
        providers=KPROBE_LIKE + PERF_EVENT,
        provider_hint="usermode reads the saved registers, which only these probes have",
        doc="""1 if the CPU was running user code when the probe fired, else 0
(0.24+, x86_64 only).

```
profile:hz:99 { @mode[usermode] = count(); }
```""",
    ),
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
    variable(
        "cpid",
        Signature((), T.UINT64),
        doc="""The pid of the child command run with `-c`. Without `-c` it is 0
and warns at run time (0.25+); test `has_cpid` first.

```
tracepoint:syscalls:sys_enter_write /pid == cpid/ { @bytes = sum(args.count); }
```""",
    ),
    variable(
        "has_cpid",
        Signature((), T.BOOL),
        since="0.25",
        doc="""True when bpftrace runs a child command (`-c`), so `cpid` has a
value (0.25+).

```
begin { if (has_cpid) { printf("tracing child %d\\n", cpid); } }
```""",
    ),
    variable(
        "config",
        Signature((), _CONFIG),
        since="0.27",
        doc="""The effective configuration as a record, e.g.
`config.max_strlen`. New after 0.26.1 (not yet in a release).

```
begin { printf("max_strlen is %d\\n", config.max_strlen); }
```""",
    ),
]
