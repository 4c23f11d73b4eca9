"""From probes to BPF programs: which programs a script needs, in which
ELF sections (libbpf picks the program type from the section name), and
where each attaches.

A probe usually becomes one program attached to every target its attach
points name (wildcards expanded from kernel facts). When its body reads
`args` or `probe`, whose meaning differs per target, each target gets a
program of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..kernel import ctypes as C
from ..kernel.elf import resolve_target
from ..kernel.facts import has_wildcard, matching
from ..runtime.program import AttachTarget
from ..syntax import ast
from ..syntax.attach_points import canonical_provider
from ..syntax.literals import parse_int
from .errors import MissingProbe, Unsupported
from .function import ProbeTarget

SECTIONS = {
    "begin": "raw_tp", "end": "raw_tp", "interval": "perf_event", "profile": "perf_event",
    "software": "perf_event", "hardware": "perf_event",
}  # fmt: skip


@dataclass
class PlannedProgram:
    probe: ast.Probe
    kind: str
    section: str
    name: str  # the `probe` builtin's value
    attach: tuple[AttachTarget, ...]
    target: ProbeTarget


def plan_programs(program: ast.Program, facts) -> list[PlannedProgram]:
    planned: list[PlannedProgram] = []
    for probe in program.probes:
        per_target = _reads_target(probe)
        expanded = [(ap, t) for ap in probe.attach_points for t in _expand(ap, facts)]
        kinds = {kind for _, (kind, *_rest) in expanded}
        if len(kinds) > 1 or per_target:
            for ap, item in expanded:
                planned.append(_program(probe, [item]))
        elif expanded:
            planned.append(_program(probe, [item for _, item in expanded]))
    return planned


def _program(probe: ast.Probe, items: list) -> PlannedProgram:
    kind, section, name, attach, tracepoint = items[0]
    user = kind == "tracepoint" and name.split(":")[1] == "syscalls"
    target = ProbeTarget(kind, name, tracepoint, user_pointers=user or kind in ("uprobe", "uretprobe", "usdt"))
    return PlannedProgram(probe, kind, section, name, tuple(i[3] for i in items), target)


def _reads_target(probe: ast.Probe) -> bool:
    for node in ast.walk(probe.body):
        if isinstance(node, ast.Identifier) and node.name in ("args", "probe"):
            return True
        if isinstance(node, ast.Call) and node.name.text in ("probe",):
            return True
    return False


def _expand(ap: ast.AttachPoint, facts) -> list[tuple]:
    """(kind, section, name, AttachTarget, tracepoint format) per target."""
    provider_part = ap.part(ast.Role.PROVIDER)
    written = provider_part.text if provider_part else ap.raw
    kind = canonical_provider(written)
    if kind in ("begin", "end"):
        return [(kind, "raw_tp", written, AttachTarget(), None)]
    if kind == "tracepoint":
        category = ap.part(ast.Role.TARGET).text if ap.part(ast.Role.TARGET) else "*"
        event = ap.part(ast.Role.EVENT).text
        names = [f"{category}:{event}"]
        if has_wildcard(category + event):
            names = matching(f"{category}:{event}", (f"{c}:{e}" for c, e in facts.tracepoints()))
            if not names:
                raise MissingProbe(f"no tracepoint matches {category}:{event}", ap)
        result = []
        for name in names:
            c, e = name.split(":", 1)
            result.append(("tracepoint", f"tracepoint/{c}/{e}", f"tracepoint:{name}", AttachTarget(name),
                           facts.tracepoint(c, e)))  # fmt: skip
        return result
    if kind == "rawtracepoint":
        event = ap.part(ast.Role.EVENT).text
        return [(kind, f"raw_tracepoint/{event}", f"rawtracepoint:{event}", AttachTarget(event), None)]
    if kind in ("interval", "profile"):
        unit_part, rate_part = ap.part(ast.Role.UNIT), ap.part(ast.Role.RATE)
        # `interval:1s` (0.26) is a duration literal, in nanoseconds.
        unit = unit_part.text if unit_part else ("hz" if kind == "profile" and rate_part.text.isdigit() else "ns")
        rate, _ = parse_int(rate_part.text)
        name = f"{kind}:{unit}:{rate_part.text}" if unit_part else f"{kind}:{rate_part.text}"
        return [(kind, "perf_event", name, AttachTarget(unit=unit, rate=rate), None)]
    if kind in ("software", "hardware"):
        event = ap.part(ast.Role.EVENT).text
        count = ap.part(ast.Role.COUNT)
        rate = parse_int(count.text)[0] if count else 0  # 0: the event's default period
        name = f"{kind}:{event}:{count.text if count else ''}".rstrip(":")
        return [(kind, "perf_event", name, AttachTarget(event, rate=rate), None)]
    if kind in ("kprobe", "kretprobe", "fentry", "fexit"):
        function = ap.part(ast.Role.FUNCTION).text
        if has_wildcard(function):
            raise Unsupported(f"wildcard {kind}s are not supported by the backend yet", ap)
        offset = ap.part(ast.Role.OFFSET)
        arguments = _function_arguments(facts, function) if kind in ("fentry", "fexit") else None
        return [(kind, f"{kind}/{function}", f"{kind}:{function}",
                 AttachTarget(function, offset=int(offset.text, 0) if offset else 0), arguments)]  # fmt: skip
    if kind in ("uprobe", "uretprobe"):
        target = ap.part(ast.Role.TARGET)
        function = ap.part(ast.Role.FUNCTION)
        if target is None or function is None or has_wildcard(target.text + function.text):
            raise Unsupported(f"this form of {kind} is not supported by the backend yet", ap)
        paths = resolve_target(target.text)
        if not paths:
            raise MissingProbe(f"{kind} target '{target.text}' was not found", target)
        offset = ap.part(ast.Role.OFFSET)
        return [(kind, kind, f"{kind}:{paths[0]}:{function.text}",
                 AttachTarget(paths[0], function.text, int(offset.text, 0) if offset else 0), None)]  # fmt: skip
    raise Unsupported(f"{kind or written} probes are not supported by the backend yet", ap)


def _function_arguments(facts, function: str):
    """fentry/fexit `args`: a tracing program's context is an array of u64,
    one per argument of the traced function, in order."""
    proto = facts.function(function)
    if proto is None:
        return None
    fields = tuple(C.CField(name, ctype, 8 * i) for i, (name, ctype) in enumerate(proto.params))
    return C.Tracepoint("fentry", function, fields)
