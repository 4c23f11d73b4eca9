"""Kprobes that have a tracepoint: a hint, and the fix that rewrites the probe.

A kprobe hangs on a kernel function that may be renamed, inlined or made
untraceable by the next kernel, and some kernels are built without kprobes
at all. A tracepoint is a stable interface for the same event. When the
kernel facts list a tracepoint that fires where a kprobe does, the analyser
says so with a hint-severity diagnostic (code `kprobe-tracepoint`; editors
show it faintly, the terminal not at all) and a fix that rewrites the
attach point and what the body reads: `argN` becomes `args.FIELD` when the
tracepoint has that argument as a field, and a kretprobe's `retval` becomes
`args.ret` at a system call's exit. When the body uses something the
tracepoint has no counterpart for (an unmatched `argN`, `sargN`, `func`,
`reg()`, a macro that might read them), the hint comes without a fix.

Which tracepoint:

* System calls. `__x64_sys_NAME`, `__arm64_sys_NAME`, `__ia32_sys_NAME`,
  `__se_sys_NAME`, `__do_sys_NAME`, `ksys_NAME`, `sys_NAME` and
  `do_sys_NAME` become `syscalls:sys_enter_NAME` (a kretprobe:
  `sys_exit_NAME`). The architecture wrappers take a `struct pt_regs *`, so
  their `argN` has no field; the others take the system call's own
  arguments, and `argN` maps to the field of the same name as the
  function's Nth parameter when the facts have its prototype.
* `_KNOWN` below: functions whose tracepoint has another name, with their
  argument fields as the kernel defines them. It wins over the syscall
  rule: `do_sys_openat2` serves open and openat as well as openat2, and
  openat is what almost every program calls.
"""

from __future__ import annotations

import re
from typing import Optional

from ..diagnostics import Diagnostic, Edit, Fix, hint
from ..kernel.facts import KernelFacts, has_wildcard
from ..syntax import ast
from ..syntax.ast import Role
from ..syntax.attach_points import canonical_provider
from . import builtins as B


class _Known:
    def __init__(self, enter: str, args: dict[int, str], exit: Optional[str] = None) -> None:
        self.enter, self.args, self.exit = enter, args, exit


# function -> its tracepoint (category:event), argN -> field, and the
# tracepoint for its return (None: a kretprobe has no counterpart).
_KNOWN = {
    "do_sys_openat2": _Known("syscalls:sys_enter_openat", {0: "dfd", 1: "filename"}, "syscalls:sys_exit_openat"),
    "do_sys_open": _Known("syscalls:sys_enter_openat", {0: "dfd", 1: "filename"}, "syscalls:sys_exit_openat"),
    "tcp_set_state": _Known("sock:inet_sock_set_state", {0: "skaddr", 1: "newstate"}),
    "tcp_retransmit_skb": _Known("tcp:tcp_retransmit_skb", {0: "skaddr", 1: "skbaddr"}),
    "wake_up_new_task": _Known("sched:sched_wakeup_new", {}),
}

_SYSCALL = re.compile(r"(?:__(?P<arch>x64|arm64|ia32)_sys_|__se_sys_|__do_sys_|ksys_|sys_|do_sys_)(?P<name>\w+)\Z")
_ARG = re.compile(r"arg(\d+)\Z")
# Builtins that mean the same in a tracepoint probe.
_PORTABLE_PROVIDERS = "tracepoint"


def kprobe_tracepoint_hints(probe: ast.Probe, facts: KernelFacts) -> list[Diagnostic]:
    """The hint for a probe whose single attach point is a kprobe or
    kretprobe on a function with a tracepoint (see the module docstring)."""
    if not facts.has_tracepoints or len(probe.attach_points) != 1:
        return []
    ap = probe.attach_points[0]
    found = _tracepoint_for(ap, facts)
    if found is None:
        return []
    target, args, is_return = found
    name = f"tracepoint:{target}"
    written = ap.raw.strip()
    message = f"{written} has a stable tracepoint: {name}"
    edits = _rewrite(probe, facts, target, args, is_return)
    fixes = () if edits is None else (Fix(f"Use {name}", (Edit(ap.span, name), *edits), True),)
    return [hint("kprobe-tracepoint", message, ap.span, fixes=fixes)]


def _tracepoint_for(ap: ast.AttachPoint, facts: KernelFacts) -> Optional[tuple[str, dict[int, str], bool]]:
    """(category:event, argN -> field, is a return probe), or None."""
    if ap.is_error or ap.provider is None:
        return None
    kind = canonical_provider(ap.provider.text)
    if kind not in ("kprobe", "kretprobe"):
        return None
    body = [p for p in ap.parts if p.role != Role.PROVIDER]
    if len(body) != 1 or body[0].role != Role.FUNCTION or has_wildcard(body[0].text):
        return None  # a module, an offset, an address, a label or a wildcard
    function, is_return = body[0].text, kind == "kretprobe"
    known = _KNOWN.get(function)
    if known is not None:
        target = known.exit if is_return else known.enter
        args = {} if is_return else known.args
    else:
        match = _SYSCALL.match(function)
        if match is None:
            return None
        target = f"syscalls:sys_{'exit' if is_return else 'enter'}_{match['name']}"
        args = {} if is_return or match["arch"] else _syscall_args(function, facts)
    if target is None or tuple(target.split(":")) not in facts.tracepoint_set():
        return None
    return target, args, is_return


def _syscall_args(function: str, facts: KernelFacts) -> dict[int, str]:
    """argN -> the parameter's name, from the kernel's prototype (checked
    against the tracepoint's fields when the fix is made)."""
    prototype = facts.function(function)
    return {i: name for i, (name, _) in enumerate(prototype.params)} if prototype else {}


def _rewrite(probe, facts, target: str, args: dict[int, str], is_return: bool) -> Optional[list[Edit]]:
    """Edits that make the probe's predicate and body read the tracepoint's
    args, or None when something there has no counterpart."""
    category, event = target.split(":")
    tracepoint = facts.tracepoint(category, event)
    fields = {f.name for f in tracepoint.fields} if tracepoint is not None else set()
    edits = []
    roots = [n for n in (probe.predicate, probe.body) if n is not None]
    for node in (n for root in roots for n in ast.walk(root)):
        if isinstance(node, ast.Call):
            name, span = node.name.text, node.name.span
        elif isinstance(node, ast.Identifier):
            name, span = node.name, node.span
        else:
            continue
        argument = _ARG.match(name)
        if argument is not None:
            field = args.get(int(argument.group(1)))
            if field is None or field not in fields:
                return None
            edits.append(Edit(span, f"args.{field}"))
            continue
        if name == "retval" and is_return:
            if "ret" not in fields:
                return None
            edits.append(Edit(span, "args.ret"))
            continue
        builtin = B.named(name)
        if builtin is None:
            if name.islower():
                return None  # a macro or fn, which may read argN itself
        elif builtin.providers is not None and _PORTABLE_PROVIDERS not in builtin.providers:
            return None  # sargN, func, reg(), override()...
    return edits
