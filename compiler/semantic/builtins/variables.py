"""Builtin variables: values about the current task, time and the machine.
(What the probe itself gives, its arguments and stacks, is in probe_values.py.)

Since 0.24 each may also be called (`comm()`); the call forms with arguments
(`nsecs(monotonic)`, `comm(pid)`, `kstack(perf, 5)`) are further signatures.
"""

from __future__ import annotations

import dataclasses

from .. import types as T
from .schema import Param, Signature, function

TASK_STRUCT = T.Pointer(T.CRecord("struct", "task_struct"))
KPROBE_LIKE = ("kprobe", "kretprobe", "uprobe", "uretprobe", "usdt")
PERF_EVENT = ("profile", "interval", "software", "hardware", "watchpoint", "asyncwatchpoint")

TASK = Param("task", ("pointer",), doc="a `struct task_struct *`; the current task when omitted")
CLOCK = Param("clock", ("ident",), choices=("boot", "monotonic", "tai", "sw_tai"), doc="a clock")
NAMESPACE = Param("namespace", ("ident",), choices=("curr_ns", "init"),
                  doc="`curr_ns` (bpftrace's pid namespace) or `init` (the root one)")


def variable(name: str, *signatures: Signature, doc: str, **options):
    """A builtin variable, with its call forms as further signatures."""
    return dataclasses.replace(function(name, *signatures, doc=doc, **options), kind="variable")


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
