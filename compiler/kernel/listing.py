"""`bpftrace -l`: the probes that match a pattern, one per line, as
bpftrace (HEAD) prints them, from any `KernelFacts`.

Formats (provider names are always the full ones):

    tracepoint:syscalls:sys_enter_openat
    kprobe:vfs_read                  (kprobe:vmlinux:vfs_read with a target part)
    fentry:vmlinux:vfs_read
    rawtracepoint:vmlinux:sched_switch
    software:cpu-clock:              (aliases listed too: software:cpu:)
    hardware:cycles:
    iter:task
    uprobe:/usr/bin/bash:readline    (only with a target)
    usdt:/path/bin:provider:name     (only with a target)

A pattern is a comma-separated list of `provider:rest`; one without a
colon matches every kernel provider (`*open*` is `*:*open*`). The provider
part is matched case-insensitively and through aliases (`t`, `k`, `f`,
`rt`, ...), or as a wildcard over the kernel providers. Wildcards are `*`,
`?` and `[...]` (bpftrace itself knows only `*`). begin/end/self and the
timer providers are not listed, as in bpftrace.

With `verbose`, a tracepoint is followed by its fields (common ones left
out) and a function by its parameters, each as `    TYPE NAME`. Only the
matched tracepoints' formats are read.

Facts that have `raw_tracepoints()`, `iterators()` or
`tracepoint_declarations()` (LiveFacts) are asked; other facts get raw
tracepoints derived from `kernel_functions()` and fields rendered from
the parsed format.
"""

from __future__ import annotations

import os
from fnmatch import fnmatchcase
from typing import Callable, Iterable, Optional

from .ctypes import (
    CArray, CEnumRef, CFunctionPointer, CInt, CPointer, CRecordRef, CType, CUnsupported, CVoid,
)  # fmt: skip
from .facts import HARDWARE_EVENTS, SOFTWARE_EVENTS, KernelFacts, has_wildcard

# Every provider and its aliases (bpftrace's PROBE_LIST); the listable ones.
ALIASES = {
    "kprobe": ("k",), "kretprobe": ("kr",), "uprobe": ("u",), "uretprobe": ("ur",),
    "usdt": ("U",), "tracepoint": ("t",), "profile": ("p",), "interval": ("i",),
    "software": ("s",), "hardware": ("h",), "watchpoint": ("w",), "fentry": ("f", "kfunc"),
    "fexit": ("fr", "kretfunc"), "iter": ("it",), "rawtracepoint": ("rt",),
    "begin": (), "end": (), "self": (), "test": (), "bench": (),
}  # fmt: skip
KERNEL_LISTED = ("fentry", "hardware", "iter", "kprobe", "rawtracepoint", "software", "tracepoint")
USER_LISTED = ("uprobe", "usdt")
# Functions whose BTF names carry a raw tracepoint's name (bpftrace's
# RT_BTF_PREFIXES); the first parameter of their prototypes is not the event's.
RAW_TRACEPOINT_PREFIXES = ("__probestub_", "__traceiter_")


def provider_name(text: str) -> Optional[str]:
    """The full provider name for a name or alias, case-insensitively
    (`T` -> tracepoint; `U` is usdt and `u` uprobe, as both are aliases)."""
    for name, aliases in ALIASES.items():
        if text == name or text in aliases:
            return name
    lowered = text.lower()
    for name, aliases in ALIASES.items():
        if lowered == name or lowered in aliases:
            return name
    return None


def list_probes(facts: KernelFacts, pattern: Optional[str], verbose: bool = False) -> list[str]:
    lines: list[str] = []
    for one in (pattern or "").split(","):
        one = "".join(one.split())
        if not one:
            one = "*:*"
        elif ":" not in one:
            one = "*:" + one
        lines.extend(_list_one(facts, one, verbose))
    return lines


def _list_one(facts: KernelFacts, pattern: str, verbose: bool) -> list[str]:
    parts = pattern.split(":")
    kind_pattern, suffix = parts[0], pattern.partition(":")[2]
    if has_wildcard(kind_pattern) or not kind_pattern:
        # Userspace providers need a target; include them only for a real file.
        specific = len(parts) > 2 and not has_wildcard(parts[1]) and os.path.exists(parts[1])
        candidates = KERNEL_LISTED + (USER_LISTED if specific else ())
        kinds = [k for k in candidates if fnmatchcase(k, kind_pattern or "*")]
    else:
        name = provider_name(kind_pattern)
        kinds = [name] if name else []
    lines = []
    for kind in sorted(kinds):
        lister = _LISTERS.get(kind)
        if lister is not None:
            lines.extend(lister(facts, parts, suffix, verbose))
    return lines


def _emit(kind: str, matches: Iterable[str], params: Optional[Callable[[str], list[str]]]):
    lines = []
    for match in sorted(set(matches)):
        lines.append(f"{kind}:{match}")
        if params is not None:
            lines.extend("    " + p for p in params(match))
    return lines


def _search(parts: list[str], suffix: str) -> str:
    """Target-taking providers match "target:func"; "t:*open*" means any target."""
    return suffix if len(parts) > 2 else "*:" + suffix


def _tracepoints(facts, parts, suffix, verbose):
    search = _search(parts, suffix)
    names = (f"{c}:{e}" for c, e in facts.tracepoints())
    return _emit("tracepoint", (n for n in names if fnmatchcase(n, search)),
                 (lambda m: _tracepoint_fields(facts, m)) if verbose else None)  # fmt: skip


def _tracepoint_fields(facts, match: str) -> list[str]:
    category, _, event = match.partition(":")
    declared = getattr(facts, "tracepoint_declarations", None)
    if declared is not None:
        return list(declared(category, event))
    tp = facts.tracepoint(category, event)
    if tp is None:
        return []
    return [declaration(f.type, f.name) for f in tp.fields if not f.name.startswith("common_")]


def _kernel_functions(facts) -> list[str]:
    # ".part.N" clones cannot be traced; bpftrace hides them.
    return [f for f in facts.kernel_functions() if ".part." not in f]


def _kprobes(facts, parts, suffix, verbose):
    names = _kernel_functions(facts)
    if len(parts) > 2:
        names = ["vmlinux:" + f for f in names]
    params = (lambda m: _params(facts, m.rpartition(":")[2], "kprobe")) if verbose else None
    return _emit("kprobe", (n for n in names if fnmatchcase(n, suffix)), params)


def _fentries(facts, parts, suffix, verbose):
    search = _search(parts, suffix)
    names = ("vmlinux:" + f for f in _kernel_functions(facts))
    params = (lambda m: _params(facts, m.rpartition(":")[2], "fentry")) if verbose else None
    return _emit("fentry", (n for n in names if fnmatchcase(n, search)), params)


def _raw_tracepoints(facts, parts, suffix, verbose):
    search = _search(parts, suffix)
    listed = getattr(facts, "raw_tracepoints", None)
    if listed is not None:
        names = set(listed())
    else:
        names = {f[len(p) :] for f in facts.kernel_functions()
                 for p in RAW_TRACEPOINT_PREFIXES if f.startswith(p)}  # fmt: skip
    params = (lambda m: _params(facts, m.rpartition(":")[2], "rawtracepoint")) if verbose else None
    matches = (m for m in ("vmlinux:" + n for n in names) if fnmatchcase(m, search))
    return _emit("rawtracepoint", matches, params)


def _iterators(facts, parts, suffix, verbose):
    listed = getattr(facts, "iterators", None)
    names = listed() if listed is not None else []
    params = (lambda m: _params(facts, m, "iter")) if verbose else None
    return _emit("iter", (n for n in names if fnmatchcase(n, suffix)), params)


def _events(kind: str, events: Iterable[str]):
    def lister(facts, parts, suffix, verbose):
        # bpftrace matches "cpu-clock:", so `s:cs` finds nothing there;
        # we also accept the bare event name.
        search = suffix or "*"
        matches = (e + ":" for e in events
                   if fnmatchcase(e + ":", search) or fnmatchcase(e, search))  # fmt: skip
        return _emit(kind, matches, None)

    return lister


def _uprobes(facts, parts, suffix, verbose):
    if len(parts) < 3:
        return []
    lines = []
    for path in _resolve(facts, parts[1]):
        search = path + ":" + suffix.partition(":")[2]
        names = (f"{path}:{f}" for f in facts.binary_functions(path))
        lines += _emit("uprobe", (n for n in names if fnmatchcase(n, search)), None)
    return lines


def _usdts(facts, parts, suffix, verbose):
    if len(parts) < 3:
        return []
    rest = suffix.partition(":")[2]
    if ":" not in rest:  # usdt:path:name means any provider
        rest = "*:" + rest
    lines = []
    for path in _resolve(facts, parts[1]):
        names = (f"{path}:{provider}:{name}" for provider, name in facts.usdt_probes(path))
        lines += _emit("usdt", (n for n in names if fnmatchcase(n, path + ":" + rest)), None)
    return lines


def _resolve(facts, target: str) -> list[str]:
    resolve = getattr(facts, "resolve_binary", None)
    return list(resolve(target)) if resolve is not None else [target]


def _params(facts, name: str, kind: str) -> list[str]:
    """Parameter lines as bpftrace's -lv prints them for BTF functions."""
    lookup = {"rawtracepoint": [p + name for p in RAW_TRACEPOINT_PREFIXES],
              "iter": ["bpf_iter_" + name]}.get(kind, [name])  # fmt: skip
    function = next(filter(None, map(facts.function, lookup)), None)
    if function is None:
        return []
    params = list(function.params)
    if kind == "rawtracepoint":  # the first parameter is the probe's own `void *`
        params = params[1:]
    elif kind == "iter":  # the first is `struct bpf_iter_meta *meta`
        params = params[1:]
    if kind == "kprobe":  # registers: argN, floats do not count
        ints = [t for _, t in params if not isinstance(t, CUnsupported)]
        return [declaration(t, f"arg{i}") for i, t in enumerate(ints)]
    return [declaration(t, n) for n, t in params]


def type_name(t: CType) -> str:
    """A C spelling of a type, near what libbpf's btf_dump writes."""
    if isinstance(t, CInt):
        return t.name or f"{'' if t.signed else 'u'}int{t.size * 8}"
    if isinstance(t, CPointer):
        inner = type_name(t.target)
        return inner + ("*" if inner.endswith("*") else " *")
    if isinstance(t, CRecordRef):
        return f"{t.kind} {t.name}" if t.name else f"{t.kind} {{...}}"
    if isinstance(t, CEnumRef):
        return f"enum {t.name}" if t.name else "enum {...}"
    if isinstance(t, CArray):
        return f"{type_name(t.element)}[{t.length}]"
    if isinstance(t, CFunctionPointer):
        return "void (*)()"
    if isinstance(t, CVoid):
        return "void"
    return getattr(t, "description", "") or "?"


def declaration(t: CType, name: str) -> str:
    """`TYPE NAME`, with an array's length after the name (`char comm[16]`)."""
    if isinstance(t, CArray):
        return f"{type_name(t.element)} {name}[{t.length}]"
    return f"{type_name(t)} {name}"


_LISTERS = {
    "tracepoint": _tracepoints, "kprobe": _kprobes, "fentry": _fentries,
    "rawtracepoint": _raw_tracepoints, "iter": _iterators,
    "software": _events("software", SOFTWARE_EVENTS),
    "hardware": _events("hardware", HARDWARE_EVENTS),
    "uprobe": _uprobes, "usdt": _usdts,
}  # fmt: skip
