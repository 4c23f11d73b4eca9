"""The probe providers: one `Provider` entry per probe type.

Each entry says what a provider's attach points look like, which probe
context builtins (`args`, `argN`, `retval`, `func`, `ctx`) it defines and
where their types come from, and carries markdown docs for hover and
completion. The checker, the analyser, the language server and any
generated documentation read these entries; nothing about a provider is
written down twice. Aliases are not listed here: they are derived from
`attach_points.PROVIDER_ALIASES`, which the splitter already uses.

The attach-point checks live in attach_checks.py (they need this table);
this module re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..syntax.attach_points import PROVIDER_ALIASES, canonical_provider

# Where a provider's `args` get their fields and types.
ARGS_TRACEPOINT = "tracepoint format"  # tracefs format files; BTF since 0.25
ARGS_BTF = "kernel BTF"  # the function's or raw tracepoint's BTF prototype
ARGS_DWARF = "DWARF"  # the binary's debug info (uprobes)

# The C type of `ctx`, by the kind of BPF program the provider loads.
CTX_REGS = "struct pt_regs *"
CTX_PERF = "struct bpf_perf_event_data *"
CTX_ITER = "struct bpf_iter__<iterator> *"


@dataclass(frozen=True)
class Provider:
    name: str  # canonical, lower case
    summary: str  # one line, for completion lists
    shapes: tuple[str, ...]  # attach-point forms, as docs show them
    doc: str  # markdown: 2-5 sentences and a fenced example
    aliases: tuple[str, ...] = ()
    args: Optional[str] = None  # ARGS_*: where `args` comes from, if defined
    arg_n: bool = False  # arg0, arg1, ...
    retval: bool = False
    func: bool = False
    ctx: Optional[str] = None  # CTX_*: the type of `ctx`, if usable
    is_return: bool = False  # fires when a function returns
    wildcards: bool = False  # may an attach point match many probes?
    since: str = ""  # the bpftrace version that added it, when later than 0.17
    removed: str = ""  # the bpftrace version that removed it
    removed_hint: str = ""  # what to write instead

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def markdown(self) -> str:
        """Hover text: the shapes, then the docs."""
        shapes = "\n".join(f"- `{shape}`" for shape in self.shapes)
        return f"**{self.name}**: {self.summary}\n\n{shapes}\n\n{self.doc}"


def _aliases(name: str) -> tuple[str, ...]:
    return tuple(a for a, canon in PROVIDER_ALIASES.items() if canon == name and a != name)


def _provider(name: str, summary: str, shapes, doc: str, **options) -> Provider:
    return Provider(name, summary, tuple(shapes), doc.strip(), _aliases(name), **options)


_KPROBE_SHAPES = ("kprobe[:module]:function", "kprobe[:module]:function+offset", "kprobe:address")
_UPROBE_SHAPES = (
    "uprobe:binary:function",
    "uprobe:binary:function+offset",
    "uprobe:binary:address",
    "uprobe:binary:cpp:function",
    "uprobe:binary@file:line[:column]",
)

_PROVIDERS = [
    _provider(
        "begin", "runs once, before any other probe is attached", ["begin"],
        """
Runs once when the program starts, before the other probes fire. A program
may have several `begin` probes; they run in the order they are written.
`BEGIN` is the same provider (provider names ignore case).

```
begin { printf("Tracing... Hit Ctrl-C to end.\\n"); }
```
""",
    ),
    _provider(
        "end", "runs once, after every other probe is detached", ["end"],
        """
Runs once when the program stops (Ctrl-C, `exit()`, or the end of `-c`).
Maps that are still non-empty are printed after it; `clear()` them here to
keep them out of the output.

```
end { print(@bytes); clear(@bytes); }
```
""",
    ),
    _provider(
        "self", "an event of the bpftrace process itself", ["self:signal:SIGUSR1"],
        """
Runs in user space when bpftrace itself receives the event. The only event
is the signal `SIGUSR1`, handy for dumping maps on demand.

```
self:signal:SIGUSR1 { print(@counts); }
```
""",
        since="0.22",
    ),
    _provider(
        "test", "a unit test, run with --test", ["test:name"],
        """
A test body that bpftrace runs once in `--test` mode and ignores otherwise.
A non-zero return value, an error or an `exit()` marks the test as failed.

```
test:addition { if (1 + 1 != 2) { return 1; } }
```
""",
        since="0.25",
    ),
    _provider(
        "bench", "a micro-benchmark, run with --bench", ["bench:name"],
        """
A body that bpftrace runs many times in `--bench` mode, to report the
average cost of one run in nanoseconds. Without `--bench` it is ignored.

```
bench:count_map { @c = count(); }
```
""",
        since="0.24",
    ),
    _provider(
        "kprobe", "entry to (or an offset into) a kernel function", _KPROBE_SHAPES,
        """
Fires when a kernel function runs, or at an offset into it. Arguments are
the raw registers `arg0`...`argN`, without types: cast them to what the
function takes. A module may be named to pick the function's module, and
attaching by bare address needs `--unsafe`.

```
kprobe:do_nanosleep { printf("%s sleeps\\n", comm); }
```
""",
        arg_n=True, func=True, ctx=CTX_REGS, wildcards=True,
    ),
    _provider(
        "kretprobe", "return from a kernel function",
        ("kretprobe[:module]:function", "kretprobe:address"),
        """
Fires when a kernel function returns; its return value is `retval`. The
arguments are gone by then, so save what you need in a map on entry.
Offsets are not allowed.

```
kretprobe:vfs_read { @bytes = hist(retval); }
```
""",
        retval=True, func=True, ctx=CTX_REGS, is_return=True, wildcards=True,
    ),
    _provider(
        "uprobe", "entry to (or an offset into) a user-space function", _UPROBE_SHAPES,
        """
Fires when a function in a user binary or library runs. Arguments are
`arg0`...`argN`; when the binary has DWARF debug info they are also typed
fields of `args`. A library may be named without its path (`libc`), `cpp`
selects demangled C++ names, and `binary@file:line` attaches to a source
line.

```
uprobe:/bin/bash:readline { printf("prompt: %s\\n", str(arg0)); }
```
""",
        args=ARGS_DWARF, arg_n=True, func=True, ctx=CTX_REGS, wildcards=True,
    ),
    _provider(
        "uretprobe", "return from a user-space function",
        ("uretprobe:binary:function", "uretprobe:binary:address"),
        """
Fires when a user-space function returns, with its return value in
`retval`. Offsets and source locations are not allowed. Runtimes that move
stacks (such as Go's) can crash when a uretprobe rewrites the return
address.

```
uretprobe:/bin/bash:readline { printf("read: %s\\n", str(retval)); }
```
""",
        retval=True, func=True, ctx=CTX_REGS, is_return=True, wildcards=True,
    ),
    _provider(
        "usdt", "a user-space static tracepoint (SDT note)",
        ("usdt:binary:probe", "usdt:binary:namespace:probe", "usdt:*:probe"),
        """
Fires at a statically defined tracepoint compiled into a user binary. The
namespace may be left out when the probe name is unique; `*` as the binary
means every process (or the `-p` process). Arguments are `arg0`...`argN`.

```
usdt:/usr/lib/libc.so.6:libc:setjmp { @[comm] = count(); }
```
""",
        arg_n=True, ctx=CTX_REGS, wildcards=True,
    ),
    _provider(
        "tracepoint", "a kernel static tracepoint", ["tracepoint:category:event"],
        """
Fires at a tracepoint compiled into the kernel; these are more stable than
kprobes. The event's fields are in `args` (`args.filename`). There is no
`retval`: exit tracepoints carry the result in `args.ret`.

```
tracepoint:syscalls:sys_enter_openat { printf("%s\\n", str(args.filename)); }
```
""",
        args=ARGS_TRACEPOINT, wildcards=True,
    ),
    _provider(
        "rawtracepoint", "a kernel tracepoint with its raw, BTF-typed arguments",
        ("rawtracepoint[:module]:event",),
        """
Attaches to the same kernel tracepoints as `tracepoint`, but receives the
arguments the kernel passes to the tracepoint rather than the formatted
event. They are both `arg0`...`argN` and BTF-typed `args.NAME`. Needs kernel
BTF.

```
rawtracepoint:vmlinux:kfree_skb { printf("%p\\n", args.skb); }
```
""",
        args=ARGS_BTF, arg_n=True, wildcards=True, since="0.18",
    ),
    _provider(
        "fentry", "entry to a kernel function, with BTF-typed arguments",
        ("fentry[:module]:function", "fentry:bpf[:program_id]:program"),
        """
Fires when a kernel function is entered, through a BPF trampoline, which
costs less than a kprobe. The parameters are typed from kernel BTF and read
by name as `args.NAME`. The `bpf` form attaches to a BPF program that is
already loaded. Before 0.20 this provider was called `kfunc`.

```
fentry:vfs_open { printf("%s\\n", str(args.path.dentry.d_name.name)); }
```
""",
        args=ARGS_BTF, func=True, wildcards=True, since="0.20",
    ),
    _provider(
        "fexit", "return from a kernel function, with typed arguments and retval",
        ("fexit[:module]:function", "fexit:bpf[:program_id]:program"),
        """
Fires when a kernel function returns, through a BPF trampoline. Unlike a
kretprobe it still sees the BTF-typed arguments in `args`, next to the
typed return value `retval`. Before 0.20 this provider was called
`kretfunc`.

```
fexit:vfs_read { @[comm] = sum(retval); }
```
""",
        args=ARGS_BTF, retval=True, func=True, is_return=True, wildcards=True, since="0.20",
    ),
    _provider(
        "profile", "sampling on every CPU at a fixed rate",
        ("profile:hz:rate", "profile:s:count", "profile:ms:count", "profile:us:count",
         "profile:nanoseconds", "profile:duration"),
        """
Fires on every CPU at the given rate, which makes it the tool for sampling
what CPUs are doing (`kstack`, `ustack`). The unit is `hz`, `s`, `ms` or
`us`; a single number is nanoseconds (at least 1000) and may carry a
duration suffix such as `10ms`.

```
profile:hz:99 { @[kstack] = count(); }
```
""",
        ctx=CTX_PERF,
    ),
    _provider(
        "interval", "a timer on one CPU",
        ("interval:s:count", "interval:ms:count", "interval:us:count", "interval:hz:rate",
         "interval:nanoseconds", "interval:duration"),
        """
Fires on a single CPU at a fixed interval, for periodic output. The forms
are those of `profile`; `interval:1s`, `interval:s:1` and
`interval:1000000000` are the same.

```
interval:1s { print(@syscalls); clear(@syscalls); }
```
""",
        ctx=CTX_PERF,
    ),
    _provider(
        "software", "a kernel software perf event", ("software:event", "software:event:count"),
        """
Fires on one of the kernel's software perf events (`cpu-clock`,
`page-faults`, `context-switches`, ...), once every `count` occurrences.
Without a count, each event has its own default period.

```
software:page-faults:100 { @[comm] = count(); }
```
""",
        ctx=CTX_PERF,
    ),
    _provider(
        "hardware", "a processor performance counter event",
        ("hardware:event", "hardware:event:count"),
        """
Fires on a hardware performance counter (`cycles`, `instructions`,
`cache-misses`, ...) once every `count` events. It needs a PMU, which many
virtual machines do not have.

```
hardware:cache-misses:1000000 { @[pid] = count(); }
```
""",
        ctx=CTX_PERF,
    ),
    _provider(
        "watchpoint", "a hardware watchpoint on a memory address",
        ("watchpoint:address:length:mode",),
        """
Fires when the CPU reads, writes or executes the watched bytes. The length
is 1, 2, 4 or 8 and the mode combines `r`, `w` and `x` (x86-64 allows `rw`,
`w` and `x`). It needs a target process (`-p` or `-c`). The older
`watchpoint:function+argN` form was removed in 0.25.

```
watchpoint:0x10000000:8:w { @[ustack] = count(); }
```
""",
        ctx=CTX_PERF,
    ),
    _provider(
        "asyncwatchpoint", "removed: an asynchronous watchpoint on a function argument",
        ("asyncwatchpoint:function+argN:length:mode",),
        """
Watched the memory a function argument pointed to. It was removed in
bpftrace 0.25, together with `watchpoint:function+argN`; watch an absolute
address with `watchpoint` instead.

```
watchpoint:0x10000000:8:w { printf("written\\n"); }
```
""",
        removed="0.25", removed_hint="use watchpoint:ADDRESS:LENGTH:MODE",
    ),
    _provider(
        "iter", "a BPF iterator over kernel objects", ("iter:iterator", "iter:iterator:pin"),
        """
Runs once for each kernel object an iterator walks (`task`, `task_file`,
`task_vma`, ...), with the object in `ctx` (`ctx.task`). It must be the only
probe, and wildcards are not allowed. With a pin path the iterator is
pinned under /sys/fs/bpf instead of being read.

```
iter:task { printf("%s %d\\n", ctx.task.comm, ctx.task.pid); }
```
""",
        ctx=CTX_ITER,
    ),
]  # fmt: skip

_BY_NAME = {p.name: p for p in _PROVIDERS}


def provider(name: str) -> Optional[Provider]:
    """The provider a name or alias stands for, ignoring case (except that
    `u` is uprobe and `U` is usdt), or None."""
    canonical = canonical_provider(name)
    return _BY_NAME.get(canonical) if canonical else None


def all_providers() -> tuple[Provider, ...]:
    return tuple(_PROVIDERS)


# The checks live in attach_checks.py, which imports this table; they are
# re-exported here lazily so that either module may be imported first.
_CHECKS = (
    "canonical_name", "check_attach_point", "check_probe", "check_probes", "expand_wildcards",
)  # fmt: skip


def __getattr__(name: str):
    if name in _CHECKS:
        from . import attach_checks

        return getattr(attach_checks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ARGS_BTF", "ARGS_DWARF", "ARGS_TRACEPOINT", "CTX_ITER", "CTX_PERF", "CTX_REGS",
    "Provider", "all_providers", "provider", *_CHECKS,
]  # fmt: skip
