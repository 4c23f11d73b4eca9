"""Attach-point checks: does each part say what its provider needs?

The splitter (syntax/attach_points.py) has already cut an attach point into
parts with roles. Here each provider's rules are applied to those parts:
how many there are, whether a rate, count, offset or address is a number,
whether an event name exists. Errors use bpftrace's wording but point at the
part that is wrong (the rate, the offset), not at the whole attach point.

What cannot be known before run time is left alone: an attach point with a
positional parameter (`uprobe:$1:main`) is only checked for its provider,
because bpftrace expands `$N` before it splits. Facts that the kernel source
cannot vouch for (NoFacts) never produce "does not exist" errors.
"""

from __future__ import annotations

import fnmatch
from typing import Iterable, Optional

from ..diagnostics import Diagnostic, Related, error
from ..kernel.facts import KernelFacts, has_wildcard, matching
from ..source import Span
from ..syntax import ast
from ..syntax.ast import Role
from .attach_rules import AttachPointRules
from .probes import provider

# Probes that are not attached to the kernel, so they may sit next to iter.
_NOT_ATTACHED = ("begin", "end", "self", "test", "bench")


def check_attach_point(
    ap: ast.AttachPoint,
    facts: KernelFacts,
    *,
    unsafe: bool = False,
    missing_probes: str = "error",
    with_pid: bool = False,
) -> list[Diagnostic]:
    """Diagnostics for one attach point. `missing_probes` is the config
    option of that name (a missing tracepoint is then an error, a warning or
    nothing); `with_pid` says a -p PID will be given, so uprobe and usdt may
    leave out the binary."""
    if ap.is_error:  # the parser has reported it
        return []
    # The answer depends only on the text and the options: an editor asks
    # again on every keystroke, so it is kept, with spans relative to the
    # attach point (it moves when text above it changes).
    key = (id(facts), ap.raw, unsafe, missing_probes, with_pid)
    cached = _CHECKED.get(key)
    if cached is not None and cached[0] is facts:
        return [d.shifted(ap.span.start) for d in cached[1]]
    checker = AttachPointRules(ap, facts, unsafe, missing_probes, with_pid)
    checker.run()
    if all(_within(d, ap.span) for d in checker.out):
        if len(_CHECKED) > 8192:
            _CHECKED.clear()
        _CHECKED[key] = (facts, [d.shifted(-ap.span.start) for d in checker.out])
    return checker.out


_CHECKED: dict[tuple, tuple] = {}


def _within(diagnostic: Diagnostic, span: Span) -> bool:
    spans = [diagnostic.span, *(r.span for r in diagnostic.related)]
    spans += [e.span for f in diagnostic.fixes for e in f.edits]
    return all(span.start <= s.start and s.end <= span.end for s in spans)


def check_probe(
    probe: ast.Probe,
    facts: KernelFacts,
    *,
    unsafe: bool = False,
    missing_probes: str = "error",
    with_pid: bool = False,
) -> list[Diagnostic]:
    """Each attach point's diagnostics, then the rules about a probe's list
    of attach points (iter must stand alone). Options as check_attach_point."""
    options = {"unsafe": unsafe, "missing_probes": missing_probes, "with_pid": with_pid}
    out: list[Diagnostic] = []
    for ap in probe.attach_points:
        out.extend(check_attach_point(ap, facts, **options))
    live = [ap for ap in probe.attach_points if not ap.is_error]
    iters = [ap for ap in live if _provider_of(ap) == "iter"]
    if iters and len(live) > 1:
        related = [Related(ap.span, "also attached here") for ap in live if ap is not iters[0]]
        out.append(
            error("attach-point", "iter probe only supports one attach point", iters[0].span,
                  related=related)
        )  # fmt: skip
    return out


def check_probes(
    probes: Iterable[ast.Probe],
    facts: KernelFacts,
    *,
    unsafe: bool = False,
    missing_probes: str = "error",
    with_pid: bool = False,
) -> list[Diagnostic]:
    """check_probe for each probe, then the rules across probes: test and
    bench names are unique, and an iter probe is the only attached probe."""
    options = {"unsafe": unsafe, "missing_probes": missing_probes, "with_pid": with_pid}
    probes = list(probes)
    out: list[Diagnostic] = []
    for probe in probes:
        out.extend(check_probe(probe, facts, **options))
    seen: dict[tuple[str, str], Span] = {}
    attached: list[ast.Probe] = []
    for probe in probes:
        kinds = set()
        for ap in probe.attach_points:
            kind = None if ap.is_error else _provider_of(ap)
            kinds.add(kind)
            name = ap.part(Role.NAME)
            if kind in ("test", "bench") and name is not None and name.text:
                other = seen.setdefault((kind, name.text), name.span)
                if other is not name.span:
                    message = (f'"{name.text}" was used as the name for more than one '
                               f"{kind.upper()} probe")  # fmt: skip
                    related = [Related(other, "this is the other instance")]
                    out.append(error("duplicate-probe-name", message, name.span, related=related))
        if kinds - set(_NOT_ATTACHED) - {None}:
            attached.append(probe)
    for probe in attached:
        iters = [ap for ap in probe.attach_points if not ap.is_error and _provider_of(ap) == "iter"]
        if iters and len(attached) > 1:
            others = [p.attach_points[0] for p in attached if p is not probe]
            related = [Related(ap.span, "another probe") for ap in others]
            out.append(error("attach-point", "an iter probe must be the only probe in a program",
                             iters[0].span, related=related[:5]))  # fmt: skip
            break
    return out


def canonical_name(ap: ast.AttachPoint) -> str:
    """The attach point with its provider's full name and without quotes or
    a label: `t:syscalls:sys_enter_read` becomes
    `tracepoint:syscalls:sys_enter_read`, as the `probe` builtin shows it."""
    found = provider(ap.provider.text) if ap.provider else None
    name = found.name if found else (ap.provider.text if ap.provider else "")
    pieces: list[str] = []
    for part in ap.parts:
        if part.role in (Role.LABEL, Role.PROVIDER):
            continue
        if part.role in (Role.OFFSET, Role.FILE) and pieces:
            pieces[-1] += ("+" if part.role == Role.OFFSET else "@") + part.text
        else:
            pieces.append(part.text)
    if name in ("begin", "end"):
        pieces = []  # `begin:*` is `begin`
    return ":".join([name, *pieces])


def expand_wildcards(ap: ast.AttachPoint, facts: KernelFacts) -> list[str]:
    """The concrete probes a tracepoint, kprobe, fentry/fexit, uprobe or usdt
    attach point stands for, as canonical names, from what `facts` lists. A
    point without wildcards is [its canonical name]. An empty list means no
    match is known, which is only "none exist" when the facts can tell."""
    found = None if ap.is_error or ap.provider is None else provider(ap.provider.text)
    if found is None:
        return []
    name = canonical_name(ap)
    body = [p for p in ap.parts if p.role not in (Role.LABEL, Role.PROVIDER)]
    if not any(has_wildcard(p.text) for p in body):
        return [name]
    text = {p.role: p.text for p in body}
    target = text.get(Role.TARGET)
    if found.name == "tracepoint":
        category, event = target or "*", text.get(Role.EVENT, "")
        return [f"tracepoint:{c}:{e}" for c, e in sorted(set(facts.tracepoints()))
                if fnmatch.fnmatchcase(c, category) and fnmatch.fnmatchcase(e, event)]  # fmt: skip
    function = text.get(Role.FUNCTION)
    if found.name in ("kprobe", "kretprobe", "fentry", "fexit") and function is not None:
        if target == "bpf":
            return []  # BPF programs are not among the facts
        module = f"{target}:" if target and not has_wildcard(target) else ""
        return [f"{found.name}:{module}{f}" for f in matching(function, facts.kernel_functions())]
    if found.name in ("uprobe", "uretprobe") and target and not has_wildcard(target) \
            and function is not None:  # fmt: skip
        language = f"{text[Role.LANGUAGE]}:" if Role.LANGUAGE in text else ""
        functions = matching(function, facts.binary_functions(target))
        return [f"{found.name}:{target}:{language}{f}" for f in functions]
    if found.name == "usdt" and target and not has_wildcard(target):
        namespace, event = text.get(Role.NAMESPACE, "*"), text.get(Role.EVENT, "")
        return [f"usdt:{target}:{p}:{e}" for p, e in facts.usdt_probes(target)
                if fnmatch.fnmatchcase(p, namespace) and fnmatch.fnmatchcase(e, event)]  # fmt: skip
    return []


# ------------------------------------------------------------------ helpers


def _provider_of(ap: ast.AttachPoint) -> Optional[str]:
    found = provider(ap.provider.text) if ap.provider else None
    return found.name if found else None
