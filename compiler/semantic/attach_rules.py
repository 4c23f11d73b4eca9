"""The rules for each provider's attach points, one method per provider.

attach_checks.py decides which attach points to check; `AttachPointRules`
checks one: the number of parts, numbers that must be numbers, names that
must exist, with bpftrace's wording and the span of the part that is wrong.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Optional

from ..diagnostics import Diagnostic, Edit, Fix, error, warning
from ..kernel.facts import KernelFacts, has_wildcard
from ..source import Span
from ..syntax import ast
from ..syntax.ast import Role
from ..syntax.attach_points import PROVIDER_ALIASES, expand_positional
from ..syntax.literals import U64_MAX, parse_int
from .probes import Provider, provider
from .suggest import closest, hint_for, rename_fixes, suggestions

TIME_UNITS = ("hz", "s", "ms", "us")
SIGNALS = ("SIGUSR1",)
UPROBE_LANGUAGES = ("cpp",)
WATCHPOINT_LENGTHS = (1, 2, 4, 8)
# What x86-64 debug registers can trap (they cannot trap reads alone).
WATCHPOINT_MODES = ("rw", "w", "x")
# A wildcard provider (`k*:vfs_read`) matches these lists, as in bpftrace;
# the user-space list is used when the next part is a path.
_KERNEL_LISTED = ("kprobe", "tracepoint", "software", "hardware", "fentry", "iter", "rawtracepoint")
_USER_LISTED = ("uprobe", "usdt")
_REMOVED_WATCHPOINT = re.compile(r"[^:+]+\+arg[0-9]+\Z")
_POSITIONAL = re.compile(r"\$[1-9]")


def _unquoted(raw: str) -> str:
    """The raw text with quoted sections blanked, so that a ':' or '$' in a
    quoted C++ name or path is not taken for syntax."""
    out = []
    in_quotes = False
    i = 0
    while i < len(raw):
        char = raw[i]
        if in_quotes and char == "\\" and i + 1 < len(raw):
            out.append("  ")
            i += 2
            continue
        if char == '"':
            in_quotes = not in_quotes
            out.append(" ")
        else:
            out.append(" " if in_quotes else char)
        i += 1
    return "".join(out)


def to_uint(text: str) -> tuple[int, Optional[str]]:
    """An attach-point number as bpftrace reads one: decimal, 0x hex, 0b
    binary, 0 octal, `_` separators, `1e6`, duration suffixes (in
    nanoseconds). Returns the value and None, or 0 and what is wrong."""
    digits = text.replace("_", "")
    if not digits[:1].isdigit():
        return 0, f"invalid integer: {text}"
    if digits[:2] in ("0b", "0B"):
        try:
            return int(digits[2:], 2), None
        except ValueError:
            return 0, f"invalid integer: {text}"
    value, problems = parse_int(digits)
    for message, _, _ in problems:
        if message.startswith("invalid integer suffix"):
            return 0, f"invalid trailing bytes: {text}"
        if message.startswith("integer literal too large"):
            return 0, f"overflow error, maximum value is {U64_MAX}: {text}"
        return 0, f"{message}: {text}"
    return value, None


def _provider_names() -> list[str]:
    """Names worth suggesting: full names and long aliases of live providers."""
    return [a for a in PROVIDER_ALIASES if len(a) > 2 and not provider(a).removed]


# ------------------------------------------------------ per-provider rules


class AttachPointRules:
    """Checks one attach point; `check_<provider>` holds each provider's rules."""

    def __init__(self, ap, facts: KernelFacts, unsafe, missing_probes, with_pid) -> None:
        self.ap, self.facts, self.unsafe, self.with_pid = ap, facts, unsafe, with_pid
        self.missing_probes = missing_probes
        self.out: list[Diagnostic] = []
        self.body = [p for p in ap.parts if p.role not in (Role.LABEL, Role.PROVIDER)]
        self.raw = _unquoted(ap.raw)
        self.entry: Provider = None  # type: ignore[assignment]
        self.name = ""

    def error(self, message: str, span: Span, code: str = "attach-point", hints=(), fixes=()) -> None:
        self.out.append(error(code, message, span, hints=hints, fixes=fixes))

    def part(self, role: str) -> Optional[ast.AttachPart]:
        return self.ap.part(role)

    def span_of(self, part: Optional[ast.AttachPart]) -> Span:
        """A part's span, or the attach point's when the part is absent or empty."""
        return part.span if part is not None and part.text else self.ap.span

    @property
    def count(self) -> int:
        # ':'-separated pieces after the provider; an offset shares its
        # function's piece.
        return sum(1 for p in self.body if p.role != Role.OFFSET)

    def count_error(self, *expected: int) -> None:
        words = " or ".join(str(n) for n in expected)
        extra = [p for p in self.body if p.role == Role.EXTRA]
        span = Span(extra[0].span.start, extra[-1].span.end) if extra else self.ap.span
        self.error(f"{self.name} probe type requires {words} arguments, found {self.count}", span)

    def run(self) -> None:
        problems = expand_positional(self.ap.raw, [])[1]
        for message in problems:
            self.error(message, self.ap.span)
        head = self.ap.provider
        positional = _POSITIONAL.search(self.raw) is not None
        if problems or head is None or (positional and "$" in head.text):
            return
        if has_wildcard(head.text):
            after = self.body[0].text if self.body else ""
            pool = _USER_LISTED if self.with_pid or "/" in after else _KERNEL_LISTED
            if self.body and not any(fnmatch.fnmatchcase(n, head.text) for n in pool):
                self.error(f"No probe type matched for {head.text}", head.span, "probe-type")
            return
        found = provider(head.text)
        if found is None:
            found = suggestions(head.text, _provider_names(), head.span, fold=True)
            self.error(f"Invalid probe type: {head.text}", head.span, "probe-type", **found)
            return
        self.entry, self.name = found, found.name
        if found.removed:
            message = f"{found.name} probes were removed in bpftrace {found.removed}"
            self.error(message, head.span, "removed", (found.removed_hint,))
        elif "@" in self.raw and found.name not in ("uprobe", "uretprobe"):
            # bpftrace would count the '@' as a part and complain about that.
            message = "'@' is only allowed in uprobe source locations (uprobe:BINARY@FILE:LINE)"
            self.error(message, self.ap.span)
        elif not positional:  # `$N` may expand to any number of parts
            getattr(self, f"check_{found.name}")()

    # -- built-in events

    def check_begin(self) -> None:
        if not (self.count == 1 and self.body[0].text == "*") and self.count:
            self.count_error(0)

    check_end = check_begin

    def check_self(self) -> None:
        if self.count != 2:
            return self.count_error(2)
        trigger, event = self.part(Role.TARGET), self.part(Role.EVENT)
        if trigger.text != "signal":
            self.error(f"{trigger.text} is not a supported trigger", self.span_of(trigger),
                       hints=("the only trigger is 'signal'",))  # fmt: skip
        elif event.text not in SIGNALS:
            self.error(f"{event.text} is not a supported signal", self.span_of(event),
                       hints=("the only supported signal is SIGUSR1",))  # fmt: skip

    def check_test(self) -> None:
        if self.count != 1:
            return self.count_error(1)
        if not self.part(Role.NAME).text:
            self.error(f"{self.name} probes must have a name", self.ap.span)

    check_bench = check_test

    # -- functions: kprobe, uprobe and their return probes

    def check_kprobe(self) -> None:
        if self.count not in (1, 2):
            return self.count_error(1, 2)
        self.check_function(kernel=True)

    check_kretprobe = check_kprobe

    def check_uprobe(self) -> None:
        if "@" in self.raw:
            return self.check_source_location()
        if not (self.count in (2, 3) or (self.with_pid and self.count == 1)):
            return self.count_error(2, 3)
        target, language = self.part(Role.TARGET), self.part(Role.LANGUAGE)
        if target is not None and not target.text:
            self.error(f"{self.name} should have a target", self.ap.span)
        if language is not None and language.text not in UPROBE_LANGUAGES:
            self.error(f"unsupported language type: {language.text}", self.span_of(language),
                       hints=("the only supported language is cpp",))  # fmt: skip
        self.check_function(kernel=False)

    check_uretprobe = check_uprobe

    def check_function(self, kernel: bool) -> None:
        """FUNCTION[+OFFSET] or ADDRESS, for kprobes and uprobes."""
        function, offset = self.part(Role.FUNCTION), self.part(Role.OFFSET)
        address = self.part(Role.ADDRESS)
        if offset is not None or (function is not None and function.text.startswith("+")):
            return self.check_offset(offset or function, in_function=offset is None)
        if address is None and function is not None and function.text[:1].isdigit():
            if to_uint(function.text)[1] is None:  # `1e6` or `0b101`: still an address
                address = function
        if address is not None:
            value, problem = to_uint(address.text)
            target = self.part(Role.TARGET)
            if problem:
                self.error(f"Invalid address: {problem}", address.span)
            elif kernel and not self.unsafe:
                self.error("Probing by address requires --unsafe", address.span, "unsafe")
            elif not kernel and target is not None and has_wildcard(target.text):
                self.error("Cannot use wildcards with absolute address", address.span)
        elif function is None or not function.text:
            if kernel:
                self.error("kprobes should be attached to a function or an address", self.ap.span)
            elif not self.unsafe:  # with --unsafe, offset 0 of any file is allowed
                message = f"{self.name} should be attached to a function and/or address"
                self.error(message, self.ap.span)

    def check_offset(self, part: ast.AttachPart, in_function: bool) -> None:
        if self.entry.is_return:
            self.error("Offset not allowed", part.span)
        elif in_function:  # `kprobe:+4`
            self.error("Invalid offset", part.span)
        elif not part.text:  # `kprobe:f+`: point at the function and the '+'
            self.error("Invalid offset", Span(self.part(Role.FUNCTION).span.start, part.span.end))
        elif "+" in part.text:
            self.error("Cannot take more than one offset", part.span)
        else:
            problem = to_uint(part.text)[1]
            if problem:
                self.error(f"Invalid offset: {problem}", part.span)

    def check_source_location(self) -> None:
        """uprobe:BINARY@FILE:LINE[:COLUMN]"""
        file, line = self.part(Role.FILE), self.part(Role.LINE)
        targets = [p for p in self.body if p.role == Role.TARGET]
        if self.entry.is_return:
            return self.error("Source code location not allowed", self.span_of(file))
        if any(has_wildcard(t.text) for t in targets):
            return self.error("Cannot use wildcards with source code location", targets[0].span)
        extra = any(p.role == Role.EXTRA for p in self.body)
        if len(targets) != 1 or self.raw.count("@") != 1 or extra or not (file and file.text) \
                or not (line and line.text):  # fmt: skip
            message = "Invalid uprobe arguments, expected format: uprobe:TARGET@FILE:LINE[:COL]"
            return self.error(message, self.ap.span)
        if not targets[0].text:
            self.error(f"{self.name} should have a target", self.ap.span)
        for part, what in ((line, "line"), (self.part(Role.COLUMN), "column")):
            problem = to_uint(part.text)[1] if part is not None else None
            if problem:
                self.error(f"Invalid {what} number: {problem}", part.span)

    def check_usdt(self) -> None:
        if not (self.count in (2, 3) or (self.with_pid and self.count == 1)):
            return self.count_error(2, 3)
        target, event = self.part(Role.TARGET), self.part(Role.EVENT)
        if not event.text:
            self.error("usdt probe must have a target function or wildcard", self.ap.span)
        if not self.with_pid and (target is None or not target.text):
            self.error("usdt probe must specify at least path or pid to probe. To target all "
                       "paths/pids set the path to '*'.", self.ap.span)  # fmt: skip

    # -- kernel events

    def check_tracepoint(self) -> None:
        category, event = self.part(Role.TARGET), self.part(Role.EVENT)
        if self.count == 1 and has_wildcard(event.text):
            return self.check_tracepoint_exists("*", event.text, event.span)
        if self.count != 2:
            return self.count_error(2)
        if not category.text or not event.text:
            return self.error("tracepoint probe must have a target", self.ap.span)
        span = Span(category.span.start, event.span.end)
        self.check_tracepoint_exists(category.text, event.text, span)

    def check_tracepoint_exists(self, category: str, event: str, span: Span) -> None:
        if not self.facts.has_tracepoints or self.missing_probes == "ignore":
            return
        known = self.facts.tracepoint_set()
        if has_wildcard(category) or has_wildcard(event):
            if any(fnmatch.fnmatchcase(c, category) and fnmatch.fnmatchcase(e, event)
                   for c, e in known):  # fmt: skip
                return
            hints, fixes = (), ()
        elif (category, event) in known:
            return
        else:
            hints, fixes = _tracepoint_hints(category, event, known, span)
        message = f"No matches for tracepoint {category}:{event}."
        if self.missing_probes == "warn":
            self.out.append(warning("missing-probe", f"{message} Skipping.", span, hints=hints, fixes=fixes))
        else:
            self.error(message, span, "missing-probe", hints, fixes)

    def check_rawtracepoint(self) -> None:
        if self.count not in (1, 2):
            return self.count_error(2, 1)  # bpftrace's order
        if not self.part(Role.EVENT).text:
            self.error("rawtracepoint should be attached to a function", self.ap.span)

    def check_fentry(self) -> None:
        if self.count not in (1, 2, 3):
            return self.count_error(1, 3)
        target, function = self.part(Role.TARGET), self.part(Role.FUNCTION)
        program_id = self.part(Role.NAMESPACE)
        if self.count == 1 and function.text == "bpf":
            message = ("the 'bpf' variant of this probe requires a bpf program name and "
                       "optional bpf program id")  # fmt: skip
            return self.error(message, function.span)
        if target is not None and target.text == "bpf":
            if program_id is not None and program_id.text != "*" and to_uint(program_id.text)[1]:
                self.error("bpf program id must be a number or '*'", self.span_of(program_id))
        elif self.count == 3:
            return self.error("Only the 'bpf' variant of this probe supports 4 arguments",
                              self.ap.span)  # fmt: skip
        if not function.text:
            self.error("fentry/fexit should specify a function", self.ap.span)

    check_fexit = check_fentry

    def check_iter(self) -> None:
        if self.count not in (1, 2):
            extra = [p for p in self.body if p.role == Role.EXTRA]
            span = Span(extra[0].span.start, extra[-1].span.end) if extra else self.ap.span
            return self.error("iter probe type takes 2 arguments (1 optional)", span)
        iterator = self.part(Role.EVENT)
        if any(has_wildcard(p.text) for p in self.body):
            self.error("iter probe type does not support wildcards", self.ap.span)
        elif not iterator.text:
            self.error("iter should specify an iterator's name", self.ap.span)
        elif self.facts.has_types and self.facts.record("struct", f"bpf_iter__{iterator.text}") \
                is None:  # fmt: skip
            self.error(f"iter {iterator.text} not available for your kernel version.",
                       iterator.span, "missing-probe")  # fmt: skip

    # -- timers and perf events

    def check_profile(self) -> None:
        unit, rate = self.part(Role.UNIT), self.part(Role.RATE)
        if self.count == 1:
            if not rate.text:
                return self.error(f"{self.name} probe must have unit of time", self.ap.span)
            if has_wildcard(rate.text):  # allowed, for listing
                return
            value, problem = to_uint(rate.text)
            if problem:
                return self.error(f"Invalid rate of {self.name} probe: {problem}", rate.span)
            if value < 1000:
                self.error(f"Invalid rate of {self.name} probe. Minimum is 1000 or 1us. "
                           f"Found: {value} nanoseconds", rate.span)  # fmt: skip
            return
        if self.count != 2:
            return self.count_error(1, 2)
        if unit.text not in TIME_UNITS:
            hint = "the units are hz, s, ms and us; a number alone is nanoseconds"
            self.error(f"{unit.text} is not an accepted unit of time", self.span_of(unit),
                       hints=(hint,))  # fmt: skip
        value, problem = to_uint(rate.text)
        if problem:
            self.error(f"Invalid rate of {self.name} probe: {problem}", self.span_of(rate))
        elif value == 0:
            self.error(f"{self.name} frequency should be a positive integer", rate.span)

    check_interval = check_profile

    def check_software(self) -> None:
        if self.count not in (1, 2):
            return self.count_error(1, 2)
        kind = self.name
        event, count = self.part(Role.EVENT), self.part(Role.COUNT)
        facts = self.facts
        events = list(facts.software_events() if kind == "software" else facts.hardware_events())
        if not event.text:
            self.error(f"{kind} probe must have a {kind} event name", self.ap.span)
        elif has_wildcard(event.text):
            self.error(f"wildcards are not allowed for {kind} probe type", event.span)
        elif event.text not in events:
            self.error(f"{event.text} is not a {kind} probe", event.span,
                       **suggestions(event.text, events, event.span))  # fmt: skip
        # The docs write `software:event:` for the default count, so allow it.
        if count is not None and count.text not in ("", "*"):
            value, problem = to_uint(count.text)
            if problem:
                self.error(f"Invalid count for {kind} probe: {problem}", count.span)
            elif value == 0:
                self.error(f"{kind} count should be a positive integer", count.span)

    check_hardware = check_software

    def check_watchpoint(self) -> None:
        address = self.part(Role.ADDRESS)
        if address is not None and _REMOVED_WATCHPOINT.match(address.text):
            hint = "watch an absolute address instead: watchpoint:ADDRESS:LENGTH:MODE"
            return self.error("watchpoint:FUNCTION+argN was removed in bpftrace 0.25",
                              address.span, "removed", (hint,))  # fmt: skip
        if self.count != 3:
            return self.count_error(3)
        length, mode = self.part(Role.LENGTH), self.part(Role.MODE)
        value, problem = to_uint(address.text)
        if problem:
            self.error(f"Invalid function/address argument: {problem}", self.span_of(address))
        elif value == 0:
            self.error("watchpoint must be attached to a non-zero address", address.span)
        value, problem = to_uint(length.text)
        if problem:
            self.error(f"Invalid length argument: {problem}", self.span_of(length))
        elif value not in WATCHPOINT_LENGTHS:
            self.error("watchpoint length must be one of (1,2,4,8)", length.span)
        if not mode.text or any(c not in "rwx" for c in mode.text):
            self.error("watchpoint mode must be combination of (r,w,x)", self.span_of(mode))
        elif len(set(mode.text)) != len(mode.text):
            self.error("watchpoint modes may not be duplicated", mode.span)
        elif "".join(sorted(mode.text)) not in WATCHPOINT_MODES:
            self.error(f"invalid watchpoint mode: {''.join(sorted(mode.text))}", mode.span,
                       hints=("supported modes: " + ",".join(WATCHPOINT_MODES),))  # fmt: skip


def _tracepoint_hints(category: str, event: str, known: set[tuple[str, str]], span: Span) -> tuple[tuple, tuple]:
    """Hints and fixes for an unknown `category:event` written at `span`."""
    head, slash, tail = event.partition("/")
    if slash and (category, head) in known:  # `t:sched:sched_switch/pid/`
        at = span.end - len((slash + tail).encode())
        space = Fix("Insert a space before the predicate", (Edit(Span(at, at), " "),), preferred=True)
        return ("put a space between the attach point and the predicate",), (space,)
    elsewhere = sorted(f"{c}:{e}" for c, e in known if e == event)
    if elsewhere:  # the right event in the wrong category: `syscall:sys_enter_read`
        names = elsewhere[:3]
    else:
        same_category = [e for c, e in known if c == category]
        if same_category:  # the usual typo is in the event; compare only those
            names = [f"{category}:{n}" for n in closest(event, same_category)]
        else:
            names = closest(f"{category}:{event}", (f"{c}:{e}" for c, e in known))
    return hint_for(names), rename_fixes(names, span)
