"""What each ring-buffer record means: its u64 id names an EventInfo
(program.py), whose kind says what to do and whose argument types and
offsets say how to read the rest.

Formatting is prepared once per event kind (a printf format is compiled
into a closure the first time it is seen), because a busy probe sends
hundreds of thousands of records a second.
"""

from __future__ import annotations

import struct
from typing import Callable

from . import decode, mapread
from .errors import RuntimeFailure
from .output import compile_format, format_time
from .program import EventInfo, ProgramInfo

_ID = struct.Struct("<Q")


class EventHandler:
    def __init__(self, info: ProgramInfo, program, out, write: Callable[[str], None], options) -> None:
        self.info = info
        self.program = program  # LoadedProgram: map fds for print/clear/zero
        self.out = out
        self.write = write
        self.options = options
        self.exited = False
        self.exit_code = 0
        self._handlers: dict[int, Callable[[bytes], None]] = {}
        self._maps = {m.name: m for m in info.maps}

    def handle(self, data: bytes) -> bool:
        """One record; True stops the poll (at the first exit(): records
        after it, such as END's, are read by later polls)."""
        (event_id,) = _ID.unpack_from(data, 0)
        handler = self._handlers.get(event_id)
        if handler is None:
            handler = self._handlers[event_id] = self._prepare(event_id)
        exited = self.exited
        handler(data)
        return self.exited and not exited

    # --------------------------------------------------------- preparing

    def _prepare(self, event_id: int) -> Callable[[bytes], None]:
        event = self.info.event(event_id)
        if event is None:
            raise RuntimeFailure(f"internal error: the BPF program sent an unknown event ({event_id})")
        method = getattr(self, "_on_" + event.kind, None)
        if method is None:
            raise RuntimeFailure(f"internal error: events of kind {event.kind} are not handled")
        return method(event)

    def _values(self, event: EventInfo) -> Callable[[bytes], list]:
        fields = list(zip(event.args, event.offsets))
        return lambda data: [decode.decode(t, data, offset) for t, offset in fields]

    def _formatted(self, event: EventInfo) -> Callable[[bytes], str]:
        render = compile_format(event.format, event.args, self.out.printer)
        values = self._values(event)
        return lambda data: render(values(data))

    # ------------------------------------------------------------ kinds

    def _on_printf(self, event: EventInfo):
        text, printf = self._formatted(event), self.out.printf
        return lambda data: self.write(printf(text(data)))

    def _on_errorf(self, event: EventInfo):
        text = self._formatted(event)
        return lambda data: self.options.errors.write(f"ERROR: {text(data)}\n".encode("utf-8", "surrogateescape"))

    def _on_warnf(self, event: EventInfo):
        text = self._formatted(event)
        return lambda data: self.options.errors.write(f"WARNING: {text(data)}\n".encode("utf-8", "surrogateescape"))

    def _on_print(self, event: EventInfo):
        t, offset = event.args[0], event.offsets[0]
        return lambda data: self.write(self.out.value(t, decode.decode(t, data, offset)))

    def _on_time(self, event: EventInfo):
        return lambda data: self.write(self.out.time(format_time(event.format)))

    def _on_exit(self, event: EventInfo):
        def stop(data: bytes) -> None:
            if not self.exited:
                self.exited = True
                self.exit_code = decode.decode(event.args[0], data, event.offsets[0]) & 0xFF

        return stop

    def _on_print_map(self, event: EventInfo):
        info = self._maps[event.map]
        return lambda data: self.write(self.out.map(info, self._read(info), event.top, event.div))

    def _on_clear(self, event: EventInfo):
        info = self._maps[event.map]
        if info.scalar and info.aggregation is not None and info.aggregation.kind in ("count", "sum"):
            # bpftrace 0.17 keeps a scalar count or sum in a per-CPU array,
            # which clear() can only zero: it prints `@c: 0` afterwards.
            return lambda data: mapread.zero(*self._shape(info))
        return lambda data: mapread.clear(*self._shape(info))

    def _on_zero(self, event: EventInfo):
        info = self._maps[event.map]
        return lambda data: mapread.zero(*self._shape(info))

    def _on_system(self, event: EventInfo):
        from .session import run_command

        text = self._formatted(event)
        return lambda data: self.write(self.out.syscall(run_command(text(data))))

    def _on_cat(self, event: EventInfo):
        text = self._formatted(event)

        def cat(data: bytes) -> None:
            path = text(data)
            try:
                with open(path, "rb") as f:
                    content = f.read().decode("utf-8", "surrogateescape")
            except OSError as exc:
                self.options.errors.write(f"ERROR: failed to open file '{path}': {exc.strerror}\n".encode())
                return
            self.write(self.out.cat(content))

        return cat

    # ------------------------------------------------------------ maps

    def _shape(self, info) -> tuple:
        return (self.program.map_fd(info.symbol), info.key_size, info.value_size, info.percpu, info.max_entries)

    def _read(self, info) -> list:
        return decode.read_map(info, mapread.read_raw(*self._shape(info)))
