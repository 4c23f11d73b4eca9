"""Running a compiled program, as `bpftrace script.bt` does: load it, run
BEGIN, attach the probes, print what the events say until exit(), a signal
or the end of the `-c` command, then detach, run END, print the maps and
report lost events.

    status = Session(compiled, SessionOptions(...)).run()

Output goes to one binary stream; each event's text is written when it is
read and flushed after each batch, so a pipe (or the editor) sees it live.
No exit path leaves a probe attached: the loaded program is closed in a
`finally`, and SIGINT/SIGTERM only end the event loop.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import BinaryIO, Optional

from . import decode, mapread
from .errors import RuntimeFailure
from .events import EventHandler
from .loader import LoadedProgram
from .output import DEFAULT_STYLE, JsonOutput, Resolver, Style, TextOutput, encode_output
from .program import (
    KSTACK_MAP, LOST_EVENTS_MAP, RINGBUF_MAP, STACK_FRAMES, START_TIME_MAP, USTACK_MAP, CompiledProgram,
)  # fmt: skip
from .ringbuf import RingBufferReader

POLL_MS = 100  # how long one wait for events may take: the latency of Ctrl-C


@dataclass
class SessionOptions:
    output: BinaryIO = field(default_factory=lambda: sys.stdout.buffer)
    errors: BinaryIO = field(default_factory=lambda: sys.stderr.buffer)
    json: bool = False
    quiet: bool = False  # no "Attaching N probes..."
    style: Style = DEFAULT_STYLE
    child: Optional["Child"] = None  # -c COMMAND
    watch_pid: int = 0  # -p PID: stop when it exits
    output_is_file: bool = False  # -o FILE
    verbose: bool = False  # -v: program and verifier statistics
    unsafe: bool = False


class Child:
    """The `-c` command: forked at once but held before exec until the
    probes are attached, so its pid (cpid) can be compiled in and no event
    of it is missed."""

    def __init__(self, argv: list[str]) -> None:
        read_end, self._go = os.pipe()
        try:
            self.pid = os.fork()
        except OSError as exc:
            raise RuntimeFailure(f"cannot start the command {argv[0]!r}: {exc.strerror}") from None
        if self.pid == 0:  # the child: wait for the word, then become the command
            os.close(self._go)
            os.read(read_end, 1)
            try:
                os.execvp(argv[0], argv)
            except OSError as exc:
                os.write(2, f"ERROR: cannot run {argv[0]!r}: {exc.strerror}\n".encode())
            os._exit(127)
        os.close(read_end)
        self.status: Optional[int] = None

    def start(self) -> None:
        os.write(self._go, b"x")
        os.close(self._go)

    def finished(self) -> bool:
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.status = status
        return self.status is not None

    def stop(self) -> None:
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
                _, self.status = os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                self.status = 0


class Session:
    def __init__(self, compiled: CompiledProgram, options: Optional[SessionOptions] = None) -> None:
        self.compiled = compiled
        self.info = compiled.info
        self.options = options or SessionOptions()
        # Wall-clock time of boot, for strftime() of BPF timestamps.
        boot_time = time.time_ns() - time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        resolver = Resolver(boot_time_ns=boot_time)
        self.out = (JsonOutput if self.options.json else TextOutput)(self.options.style, resolver)
        self.exit_code = 0
        self._stop = False

    # ---------------------------------------------------------------- run

    def run(self) -> int:
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        program: Optional[LoadedProgram] = None
        try:
            program = LoadedProgram(self.compiled)
            self._program = program
            self.out.resolver.stack_reader = self._stack_reader(program)
            handler = EventHandler(self.info, program, self.out, self.write, self.options)
            ring = RingBufferReader(program.map_fd(RINGBUF_MAP), handler.handle, program.map_fd(".bss"), 0)
            try:
                self._run_loaded(program, ring, handler)
            finally:
                ring.close()
        finally:
            if program is not None:
                program.close()
            if self.options.child is not None:
                self.options.child.stop()
            for sig, old in previous.items():
                signal.signal(sig, old)
        return self.exit_code

    def _run_loaded(self, program: LoadedProgram, ring: RingBufferReader, handler: EventHandler) -> None:
        if self.options.verbose:
            self.describe_programs(program)
        if not self.options.quiet:
            self.announce(sum(max(1, len(p.attach)) for p in self.info.probes))
        if self.info.uses_start_time:
            mapread.write_u64(program.map_fd(START_TIME_MAP), time.clock_gettime_ns(time.CLOCK_MONOTONIC))
        # As bpftrace does: every probe is attached before BEGIN runs, so a
        # probe that cannot attach stops the program before BEGIN says anything.
        program.attach_all()
        program.run_begin()
        self._drain(ring, handler)
        if not handler.exited:
            if self.options.child is not None:
                self.options.child.start()
            while not (handler.exited or self._stop or self._watched_gone()):
                ring.poll(POLL_MS)
                self.flush()
        # The probes stop at once; the kernel's slow part of detaching them
        # goes on while the maps are read and printed (program.close() waits).
        program.stop_probes()
        self._drain(ring, handler)
        program.run_end()
        self._drain(ring, handler)
        if self.info.print_maps_on_exit:
            text = self._exit_text(program)
            preamble = self.options.style.exit_preamble
            if self.options.output_is_file and text.startswith(preamble):
                # bpftrace 0.17 writes the empty lines before the maps to
                # stdout even with -o, and only the maps to the file.
                sys.stdout.buffer.write(encode_output(preamble))
                sys.stdout.buffer.flush()
                text = text[len(preamble):]
            self.write(text)
        lost = ring.lost_events()
        if lost:
            self.options.errors.write(encode_output(self.out.lost_events(lost)))
        self.exit_code = handler.exit_code
        self.flush()

    def _drain(self, ring: RingBufferReader, handler: EventHandler) -> None:
        """Reads every record already in the ring, without waiting."""
        ring.consume()
        self.flush()

    def _watched_gone(self) -> bool:
        child = self.options.child
        if child is not None and child.finished():
            return True
        if self.options.watch_pid:
            try:
                os.kill(self.options.watch_pid, 0)
            except ProcessLookupError:
                return True
            except PermissionError:
                pass
        return False

    def _stack_reader(self, program: LoadedProgram):
        """Frames of a kstack/ustack value: its stack id in the program's
        stack trace map (program.KSTACK_MAP, USTACK_MAP)."""
        fds = {name: program.map_fd(name) for name in self.info.stack_maps}

        def frames(t, stack_id: int, pid: int):
            fd = fds.get(USTACK_MAP if t.name == "ustack" else KSTACK_MAP)
            raw = mapread.lookup(fd, stack_id.to_bytes(4, "little"), 8 * STACK_FRAMES) if fd is not None else None
            if raw is None:
                return None
            return [int.from_bytes(raw[i : i + 8], "little") for i in range(0, len(raw), 8)]

        return frames

    def _on_signal(self, signum, frame) -> None:
        self._stop = True

    # ------------------------------------------------------------ output

    def describe_programs(self, program: LoadedProgram) -> None:
        """-v: each program's id and size, and the verifier's effort."""
        from . import libbpf

        for probe in self.info.probes:
            stats = libbpf.program_stats(program.program_fd(probe.function))
            line = (f"{probe.function} ({probe.name}, line {probe.line}): id {stats.id}, "
                    f"{stats.xlated_prog_len // 8} instructions, {stats.jited_prog_len} bytes jited, "
                    f"{stats.verified_insns} instructions verified\n")  # fmt: skip
            self.options.errors.write(line.encode())
        self.options.errors.flush()

    def announce(self, probes: int) -> None:
        text = encode_output(self.out.attached_probes(probes))
        stream = self.options.errors if self.options.style.attach_message_on_stderr else self.options.output
        stream.write(text)
        stream.flush()

    def write(self, text: str) -> None:
        if text:
            self.options.output.write(encode_output(text))

    def flush(self) -> None:
        self.options.output.flush()

    def _exit_text(self, program: LoadedProgram) -> str:
        """The maps printed at exit. A big map makes hundreds of thousands of
        small objects, none of them in a cycle: the cyclic garbage collector,
        which would walk them all again and again as they are made, is off
        meanwhile (100k keys: about a third of the time)."""
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self.out.exit_maps(self.read_maps(program))
        finally:
            if collecting:
                gc.enable()

    def read_maps(self, program: LoadedProgram) -> list:
        maps = []
        for info in self.info.maps:
            chunks = mapread.read_chunks(
                program.map_fd(info.symbol), info.key_size, info.value_size, info.percpu, info.max_entries
            )
            entries = decode.read_map_chunks(info, chunks)
            if not entries and info.scalar and info.aggregation is not None and info.aggregation.kind == "count":
                # bpftrace 0.17 keeps a scalar count in a per-CPU array, whose
                # one element always exists: an untouched one prints as 0.
                entries = [(None, 0)]
            maps.append((info, entries))
        return maps


def run_command(text: str) -> str:
    """system(): the command's standard output, as bpftrace shows it."""
    import subprocess  # rarely needed; importing it costs a few milliseconds

    done = subprocess.run(text, shell=True, stdout=subprocess.PIPE, check=False)
    return done.stdout.decode("utf-8", "surrogateescape")


__all__ = ["Child", "LOST_EVENTS_MAP", "Session", "SessionOptions", "run_command"]
