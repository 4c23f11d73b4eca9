"""Reading the ring buffer the BPF side writes its events to.

libbpf's ring_buffer__poll waits on the map's epoll fd and calls a C
callback per record; ours copies the record into `bytes` and hands it to a
Python consumer. A consumer that returns True asks to stop (exit()): the
callback then returns a negative value, the only thing that makes libbpf
stop early, and `stopped` becomes true.

An exception in the consumer cannot cross the C frames, so it is kept and
raised again by `poll()`/`consume()` once libbpf has returned.
"""

from __future__ import annotations

import ctypes as C
import errno
import os
from typing import Callable, Optional

from . import libbpf
from .errors import RuntimeFailure
from .mapread import read_entries

# Returned by the callback to stop libbpf's loop; poll() returns it as is.
_STOP = -errno.ECANCELED

Consumer = Callable[[bytes], Optional[bool]]


class RingBufferReader:
    """Polls one ring buffer map. The BPF side counts the records it could
    not write in a u64 at `lost_events_offset` of the array map
    `lost_events_fd` (see `lost_events`)."""

    def __init__(
        self, map_fd: int, consumer: Consumer, lost_events_fd: Optional[int] = None, lost_events_offset: int = 0,
    ) -> None:  # fmt: skip
        self._consumer = consumer
        self._lost_events_fd = lost_events_fd
        self._lost_events_offset = lost_events_offset
        self._error: Optional[BaseException] = None
        self._handled = 0
        self.stopped = False
        # libbpf holds a raw pointer to this callback: it must live as long as the ring.
        self._callback = libbpf.RINGBUF_SAMPLE_FN(self._on_record)
        self._ring = libbpf.lib().ring_buffer__new(map_fd, self._callback, None, None)
        if not self._ring:
            code = C.get_errno()
            raise RuntimeFailure(f"cannot read the ring buffer: {os.strerror(code)}")

    def _on_record(self, _context, data, size) -> int:
        self._handled += 1
        try:
            if self._consumer(C.string_at(data, size)):
                self.stopped = True
                return _STOP
        except BaseException as error:  # noqa: BLE001 - raised again in poll()
            self._error = error
            return _STOP
        return 0

    def poll(self, timeout_ms: int) -> int:
        """Waits up to `timeout_ms` for records and hands them to the
        consumer. Returns how many it handled (a signal ends the wait early
        and counts as none)."""
        ring = self._require_ring()
        self._handled = 0
        return self._finish(libbpf.lib().ring_buffer__poll(ring, timeout_ms), "poll")

    def consume(self) -> int:
        """Hands every record already in the ring to the consumer, without waiting."""
        ring = self._require_ring()
        self._handled = 0
        return self._finish(libbpf.lib().ring_buffer__consume(ring), "consume")

    def _finish(self, result: int, what: str) -> int:
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        if result < 0 and result not in (_STOP, -errno.EINTR):
            raise RuntimeFailure(f"cannot {what} the ring buffer: {os.strerror(-result)}")
        return self._handled

    def _require_ring(self):
        if not self._ring:
            raise RuntimeFailure("internal error: the ring buffer reader is closed")
        return self._ring

    def lost_events(self) -> int:
        """How many records the BPF side could not write (the ring was full)."""
        if self._lost_events_fd is None:
            return 0
        return lost_events(self._lost_events_fd, self._lost_events_offset)

    def close(self) -> None:
        ring, self._ring = self._ring, None
        if ring:
            libbpf.lib().ring_buffer__free(ring)

    def __enter__(self) -> RingBufferReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def lost_events(map_fd: int, offset: int = 0) -> int:
    """The u64 at `offset` in element 0 of an array map, summed over CPUs
    for a per-CPU array. That is the counter, whether it is a per-CPU array
    of its own (program.LOST_EVENTS_MAP, offset 0) or a global variable in
    the object's .bss (libbpf's internal array map, `map_fd(".bss")`)."""
    info = libbpf.map_info(map_fd)
    percpu = info.type == libbpf.MAP_PERCPU_ARRAY
    entries = read_entries(map_fd, key_size=4, value_size=info.value_size, percpu=percpu, max_entries=1)
    return sum(int.from_bytes(value[offset : offset + 8], "little") for _, values in entries for value in values)
