"""A compiled program in the kernel: libbpf opens and loads the object,
then each probe is attached the way its kind needs. BEGIN and END are
never attached; they run once through BPF_PROG_TEST_RUN.

    with LoadedProgram(compiled) as program:
        program.run_begin()
        program.attach_all()
        ...                      # poll the ring buffer, read maps
        program.stop_probes()    # or detach_all(), which also waits for the kernel
        program.run_end()

Every failure is a RuntimeFailure whose message says which probe and why;
a program the kernel refused is a ProbeRejected carrying the verifier log.
Whatever fails, `close()` (or leaving the `with`) leaves nothing attached.
How links are taken down (some of it in the background) is in links.py.
"""

from __future__ import annotations

import ctypes as C
import errno
import os
import re
from typing import Optional

from . import libbpf
from .errors import ProbeRejected, RuntimeFailure
from .lineinfo import failing_instruction, logged_line
from .links import Links
from .program import CompiledProgram, ProbeInfo

_VERIFIER_LOG_SIZE = 1 << 20  # the kernel keeps the log's tail when it is longer

# bpftrace's sampling period when a software or hardware probe gives none.
SOFTWARE_EVENTS = {  # name: (perf config, default period)
    "cpu-clock": (0, 1000000), "cpu": (0, 1000000),
    "task-clock": (1, 1),
    "page-faults": (2, 100), "faults": (2, 100),
    "context-switches": (3, 1000), "cs": (3, 1000),
    "cpu-migrations": (4, 1),
    "minor-faults": (5, 100),
    "major-faults": (6, 1),
    "alignment-faults": (7, 1),
    "emulation-faults": (8, 1),
    "dummy": (9, 1),
    "bpf-output": (10, 1),
}  # fmt: skip
HARDWARE_EVENTS = {
    "cpu-cycles": (0, 1000000), "cycles": (0, 1000000),
    "instructions": (1, 1000000),
    "cache-references": (2, 1000000),
    "cache-misses": (3, 1000000),
    "branch-instructions": (4, 100000), "branches": (4, 100000),
    "branch-misses": (5, 100000),
    "bus-cycles": (6, 100000),
    "frontend-stalls": (7, 1000000),
    "backend-stalls": (8, 1000000),
    "ref-cycles": (9, 1000000),
}  # fmt: skip
_NANOSECONDS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000}

_CAP_SYS_ADMIN, _CAP_PERFMON, _CAP_BPF = 21, 38, 39


class LoadedProgram:
    """The object, loaded; its links once attached."""

    def __init__(self, compiled: CompiledProgram, name: str = "btls") -> None:
        self.info = compiled.info
        self._links = Links()
        self._object: Optional[int] = None
        # libbpf reads the ELF from this memory: keep it alive with the object.
        self._elf = C.create_string_buffer(compiled.object, len(compiled.object))
        self._verifier_log = C.create_string_buffer(_VERIFIER_LOG_SIZE)
        try:
            self._open(name)
            self._load()
        except BaseException:
            self.close()
            raise

    # -- loading -------------------------------------------------------------

    def _open(self, name: str) -> None:
        lib = libbpf.lib()
        libbpf.take_log()
        options = libbpf.opts(libbpf.ObjectOpenOpts, object_name=name.encode())
        self._object = lib.bpf_object__open_mem(self._elf, C.sizeof(self._elf), C.byref(options))
        if not self._object:
            code = C.get_errno()
            raise RuntimeFailure(
                f"libbpf cannot open the compiled BPF object: {_reason(libbpf.take_log(), code)}"
            )
        for probe in self.info.probes:
            # Only the failed load of a program writes its verifier log here
            # (libbpf loads without a log and retries with one on failure),
            # so one buffer serves them all.
            lib.bpf_program__set_log_buf(self._program(probe.function), self._verifier_log, _VERIFIER_LOG_SIZE)

    def _load(self) -> None:
        libbpf.take_log()
        result = libbpf.lib().bpf_object__load(self._object)
        if result < 0:
            raise self._load_failure(-result, libbpf.take_log())

    def _load_failure(self, code: int, messages: list[str]) -> RuntimeFailure:
        probe = self._failed_probe(messages)
        if code == errno.EPERM and not _privileged():
            return RuntimeFailure(
                "the kernel refused to load the BPF program (Operation not permitted): bpftrace programs"
                " need root, or the capabilities CAP_BPF and CAP_PERFMON"
            )
        if probe is None:
            return RuntimeFailure(f"the kernel refused to load the BPF program: {_reason(messages, code)}")
        where = f"the probe at line {probe.line} ({probe.name})"
        if code == errno.EPERM and probe.kind in ("fentry", "fexit"):
            return ProbeRejected(
                f"{where}: fentry/fexit programs cannot be loaded here: the kernel refused with EPERM"
                " (function tracing is not permitted)", probe,
            )  # fmt: skip
        log = self._verifier_log.value.decode(errors="replace")
        reason = verifier_reason(log)
        if reason:
            instruction = failing_instruction(log, reason)
            logged = logged_line(log, instruction)
            line = logged[0] if logged else None
            # The line the log puts the failing instruction on (the object's
            # line info: codegen/func_debuginfo.py), when it says more than
            # the probe's.
            at = f" (at line {line})" if line is not None and line != probe.line else ""
            return ProbeRejected(
                f"{where} was rejected by the BPF verifier: {reason}{at}", probe, log, reason, instruction, line,
            )  # fmt: skip
        return ProbeRejected(f"{where} could not be loaded: {_reason(messages, code)}", probe, log)

    def _failed_probe(self, messages: list[str]) -> Optional[ProbeInfo]:
        """The probe whose program libbpf names in its warnings, if any."""
        by_function = {probe.function: probe for probe in self.info.probes}
        for message in messages:
            match = re.match(r"(?:libbpf: )?prog '([^']+)':", message)
            if match and match.group(1) in by_function:
                return by_function[match.group(1)]
        return None

    # -- lookups -------------------------------------------------------------------

    def _program(self, function: str) -> int:
        program = libbpf.lib().bpf_object__find_program_by_name(self._object, function.encode())
        if not program:
            raise RuntimeFailure(f"internal error: the BPF object has no program '{function}'")
        return program

    def program_fd(self, function: str) -> int:
        return libbpf.lib().bpf_program__fd(self._program(function))

    def map_fd(self, symbol: str) -> int:
        bpf_map = libbpf.lib().bpf_object__find_map_by_name(self._object, symbol.encode())
        if not bpf_map:
            raise RuntimeFailure(f"internal error: the BPF object has no map '{symbol}'")
        return libbpf.lib().bpf_map__fd(bpf_map)

    def program_ids(self) -> list[int]:
        """The kernel's ids of the loaded programs (bpftool shows them)."""
        return [libbpf.program_id(self.program_fd(probe.function)) for probe in self.info.probes]

    # -- BEGIN and END -------------------------------------------------------------

    def run_begin(self) -> None:
        self._run("begin")

    def run_end(self) -> None:
        self._run("end")

    def _run(self, kind: str) -> None:
        """Runs the programs of every `kind` probe once, in order, in this
        process (they are SEC("raw_tp") programs, which BPF_PROG_TEST_RUN runs)."""
        for probe in self.info.probes:
            if probe.kind != kind:
                continue
            options = libbpf.opts(libbpf.TestRunOpts)
            result = libbpf.lib().bpf_prog_test_run_opts(self.program_fd(probe.function), C.byref(options))
            if result < 0:
                raise RuntimeFailure(f"cannot run {probe.name}: {os.strerror(-result)}")

    # -- attaching ---------------------------------------------------------------------

    def attach_all(self) -> None:
        """Attaches every probe but BEGIN and END. If one fails, detaches the
        others and raises."""
        if any(probe.kind == "tracepoint" for probe in self.info.probes):
            _ensure_tracefs()
        try:
            for probe in self.info.probes:
                if probe.kind not in ("begin", "end"):
                    self._attach(probe)
        except BaseException:
            self.detach_all()
            raise

    def _attach(self, probe: ProbeInfo) -> None:
        where = f"the probe at line {probe.line} ({probe.name})"
        attach = _ATTACH.get(probe.kind)
        if attach is None:
            raise RuntimeFailure(f"{where}: {probe.kind} probes are not supported yet")
        if not probe.attach:
            raise RuntimeFailure(f"internal error: {where} has no attach target")
        program = self._program(probe.function)
        libbpf.take_log()
        try:
            for target in probe.attach:
                attach(self, program, probe, target)
        except libbpf.LibbpfError as error:
            raise RuntimeFailure(_attach_failure(probe, error, libbpf.take_log())) from None

    def _keep(self, link) -> None:
        self._links.add(link)

    def _attach_tracepoint(self, program, probe, target) -> None:
        from ..kernel.tracefs import find_tracefs  # (attach_all made sure it is mounted)

        category, _, event = target.target.partition(":")
        tracefs = find_tracefs() or "/sys/kernel/tracing"
        self._links.attach_tracepoint(program, libbpf.lib().bpf_program__fd(program), tracefs, category, event)

    def _attach_raw_tracepoint(self, program, probe, target) -> None:
        link = libbpf.lib().bpf_program__attach_raw_tracepoint(program, target.target.encode())
        self._keep(libbpf.check_ptr(link, f"attaching raw tracepoint {target.target}"))

    def _attach_kprobe(self, program, probe, target) -> None:
        options = libbpf.opts(libbpf.KprobeOpts, offset=target.offset, retprobe=probe.kind == "kretprobe")
        link = libbpf.lib().bpf_program__attach_kprobe_opts(program, target.target.encode(), C.byref(options))
        self._keep(libbpf.check_ptr(link, f"attaching {probe.kind} {target.target}"))

    def _attach_uprobe(self, program, probe, target) -> None:
        options = libbpf.opts(
            libbpf.UprobeOpts, retprobe=probe.kind == "uretprobe", func_name=target.function.encode() or None,
        )  # fmt: skip
        link = libbpf.lib().bpf_program__attach_uprobe_opts(
            program, -1, target.target.encode(), target.offset, C.byref(options)
        )
        self._keep(libbpf.check_ptr(link, f"attaching {probe.kind} {target.target}:{target.function}"))

    def _attach_trace(self, program, probe, target) -> None:
        self._keep(libbpf.check_ptr(libbpf.lib().bpf_program__attach_trace(program), f"attaching {probe.name}"))

    def _attach_interval(self, program, probe, target) -> None:
        cpu = libbpf.online_cpus()[0]  # a timer, not a sampler: one CPU, as bpftrace does
        self._attach_cpu_clock(program, cpu, target)

    def _attach_profile(self, program, probe, target) -> None:
        for cpu in libbpf.online_cpus():
            self._attach_cpu_clock(program, cpu, target)

    def _attach_cpu_clock(self, program, cpu: int, target) -> None:
        period, freq = _period_or_frequency(target.unit, target.rate)
        self._attach_perf_event(
            program, libbpf.PERF_TYPE_SOFTWARE, libbpf.PERF_COUNT_SW_CPU_CLOCK, cpu, period=period, freq=freq
        )

    def _attach_counter(self, program, probe, target) -> None:
        """software:event[:count] and hardware:event[:count], on every CPU."""
        events, event_type = (
            (SOFTWARE_EVENTS, libbpf.PERF_TYPE_SOFTWARE) if probe.kind == "software"
            else (HARDWARE_EVENTS, libbpf.PERF_TYPE_HARDWARE)
        )  # fmt: skip
        if target.target not in events:
            raise RuntimeFailure(
                f"the probe at line {probe.line} ({probe.name}): unknown {probe.kind} event '{target.target}'"
            )
        config, default_period = events[target.target]
        for cpu in libbpf.online_cpus():
            self._attach_perf_event(program, event_type, config, cpu, period=target.rate or default_period)

    def _attach_perf_event(self, program, event_type: int, config: int, cpu: int, period=0, freq=0) -> None:
        event = libbpf.perf_event_open(event_type, config, cpu, period=period, freq=freq)
        link = libbpf.lib().bpf_program__attach_perf_event(program, event)
        if not link:
            code = C.get_errno()
            os.close(event)  # once attached, the link owns the event and closes it
            raise libbpf.LibbpfError(code, f"attaching to perf event on CPU {cpu}: {os.strerror(code)}")
        self._keep(link)

    # -- taking down ---------------------------------------------------------------------

    def detach_all(self) -> None:
        """Detaches every probe and waits until the kernel is done; never raises."""
        self._links.detach()

    def stop_probes(self) -> None:
        """Returns as soon as no probe can run the program any more (its maps
        hold their final values); the kernel's slow part of detaching goes on
        in the background until close(), which waits for it."""
        self._links.stop()

    def close(self) -> None:
        """Detaches everything and frees the object (its programs and maps
        go away with their last reference). Safe to call twice."""
        try:
            self._links.stop(background=False)
        finally:
            self._links.wait()
            obj, self._object = self._object, None
            if obj:
                libbpf.lib().bpf_object__close(obj)

    def __enter__(self) -> LoadedProgram:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_ATTACH = {
    "tracepoint": LoadedProgram._attach_tracepoint,
    "rawtracepoint": LoadedProgram._attach_raw_tracepoint,
    "kprobe": LoadedProgram._attach_kprobe,
    "kretprobe": LoadedProgram._attach_kprobe,
    "uprobe": LoadedProgram._attach_uprobe,
    "uretprobe": LoadedProgram._attach_uprobe,
    "fentry": LoadedProgram._attach_trace,
    "fexit": LoadedProgram._attach_trace,
    "interval": LoadedProgram._attach_interval,
    "profile": LoadedProgram._attach_profile,
    "software": LoadedProgram._attach_counter,
    "hardware": LoadedProgram._attach_counter,
}


def _period_or_frequency(unit: str, rate: int) -> tuple[int, int]:
    """(sample period in ns, 0) for s/ms/us, (0, frequency) for hz."""
    if unit == "hz":
        return 0, rate
    if unit in _NANOSECONDS:
        return rate * _NANOSECONDS[unit], 0
    raise RuntimeFailure(f"unknown timer unit '{unit}'")


def _attach_failure(probe: ProbeInfo, error: libbpf.LibbpfError, messages: list[str]) -> str:
    where = f"the probe at line {probe.line} ({probe.name})"
    if probe.kind in ("kprobe", "kretprobe") and not kprobes_available():
        return f"{where}: kprobes are not supported by this kernel (no kprobe PMU or kprobe_events)"
    if probe.kind == "tracepoint" and error.errno == errno.ENOENT:
        if _tracefs_missing():
            return (
                f"{where} could not be attached: tracefs is not mounted"
                " (mount it with `mount -t tracefs nodev /sys/kernel/tracing`)"
            )
        return f"{where} could not be attached: the kernel has no such tracepoint"
    if probe.kind == "hardware" and error.errno in (errno.ENOENT, errno.EOPNOTSUPP, errno.ENODEV):
        return f"{where}: this machine has no hardware performance counters for it ({error.strerror})"
    # Without a libbpf warning, the error itself names the failing call.
    detail = _reason(messages, error.errno) if messages else error.strerror
    return f"{where} could not be attached: {detail}"


def verifier_reason(log: str) -> str:
    """The verifier's complaint: the last line of its log that is not a
    statistic ("processed N insns ..."), a state dump, a source line
    annotation ("; x = 1; @ file.bt:3") or the dump of an instruction."""
    for line in reversed(log.strip().splitlines()):
        line = line.strip()
        if not line or line.startswith(("processed ", "verification time", "stack depth", "old state", "cur state")):
            continue
        if re.match(r"\d+: \(", line) or re.match(r"; .* @ .*:\d+$", line):  # "12: (79) r1 = *(u64 *)(r0 +0)"
            continue
        return line
    return ""


def _reason(messages: list[str], code: int) -> str:
    """libbpf's last warning (without the program it names: the caller
    says which probe), else the error's name."""
    text = os.strerror(code) if code else "unknown error"
    warnings = [re.sub(r"^(libbpf: )?(prog '[^']*': )?", "", m).strip() for m in messages if m.strip()]
    if not warnings:
        return text
    return warnings[-1] if warnings[-1].endswith(text) else f"{warnings[-1]} ({text})"


def _ensure_tracefs() -> None:
    """libbpf finds a tracepoint's id in tracefs: mount it if it is not
    (root only; when that fails, attaching reports it)."""
    if _tracefs_missing():
        from ..kernel.tracefs import mount_tracefs

        mount_tracefs()


def kprobes_available() -> bool:
    """Whether the kernel can create kprobes: through the kprobe PMU, or the
    legacy kprobe_events file of tracefs."""
    places = (
        "/sys/bus/event_source/devices/kprobe/type",
        "/sys/kernel/tracing/kprobe_events",
        "/sys/kernel/debug/tracing/kprobe_events",
    )
    return any(os.path.exists(place) for place in places)


def _privileged() -> bool:
    """CAP_SYS_ADMIN, or both CAP_BPF and CAP_PERFMON, in effect."""
    try:
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("CapEff:"))
        caps = int(line.split()[1], 16)
    except (OSError, StopIteration, ValueError):
        return os.geteuid() == 0
    has = lambda cap: bool(caps >> cap & 1)  # noqa: E731
    return has(_CAP_SYS_ADMIN) or (has(_CAP_BPF) and has(_CAP_PERFMON))


def _tracefs_missing() -> bool:
    # Imported here: the kernel-facts package is not needed to run BEGIN-only programs.
    from ..kernel.tracefs import find_tracefs

    return find_tracefs() is None
