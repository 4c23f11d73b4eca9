"""The links that attach a loaded program's probes, and taking them down
without making the user wait for the kernel's clean-up.

Detaching a tracepoint takes 20-100 ms, nearly all of it spent waiting for
RCU grace periods after the program has already been unhooked: closing
the link removes the program from the tracepoint's program array at once,
then waits; closing the perf event behind it waits again. At exit that
wait used to come before the maps could be read.

So a tracepoint is attached through a perf event we open ourselves (as
libbpf's bpf_program__attach_tracepoint does) and of which we keep a
duplicate fd. `stop()` hands the links to a background thread, asks the
kernel through that fd (PERF_EVENT_IOC_QUERY_BPF) until our program is no
longer in the tracepoint's program array, and returns: from then on no
new event runs the program, and the maps can be read while the thread
waits out the grace periods. (The grace period is for an event that
entered the program just before it was unhooked and may still be running
on another CPU, for microseconds; the maps are read milliseconds later.)
`wait()` joins the thread and closes the
duplicates; LoadedProgram.close() calls it on every exit path, so nothing
stays attached (and were the process killed, the kernel would detach
whatever its fds held).

Other links (timers, software events, raw tracepoints...) are destroyed
at once: their detach does not wait for a grace period.
"""

from __future__ import annotations

import ctypes as C
import errno
import os
import struct
import time
from typing import Optional

from . import libbpf

PERF_TYPE_TRACEPOINT = 2
# _IOWR('$', 10, struct perf_event_query_bpf *)
_PERF_EVENT_IOC_QUERY_BPF = 0xC008240A
_QUERY_IDS = 64  # BPF_TRACE_MAX_PROGS: the most programs one tracepoint can run
_STOP_POLL_S = 0.0002
_STOP_DEADLINE_S = 2.0  # then wait for the thread instead
_PARALLEL_DETACH = 4  # links from which detaching uses a thread pool


class Links:
    """The links of one loaded program."""

    def __init__(self) -> None:
        self._links: list[int] = []  # libbpf bpf_link pointers, not tracepoints
        self._tracepoints: list[int] = []  # bpf_link pointers of tracepoints
        self._watched: list[tuple[int, int]] = []  # (our dup of a tracepoint's perf event fd, program id)
        self._thread = None
        self._unhooked = None  # threading.Event: set once the main thread no longer queries the fds

    def add(self, link: int) -> None:
        self._links.append(link)

    def attach_tracepoint(self, program: int, program_fd: int, tracefs: str, category: str, event: str) -> None:
        """bpf_program__attach_tracepoint, keeping a duplicate of the perf
        event's fd to ask the kernel later whether the program still runs."""
        try:
            with open(os.path.join(tracefs, "events", category, event, "id")) as f:
                tracepoint_id = int(f.read())
        except FileNotFoundError:
            raise libbpf.LibbpfError(errno.ENOENT, f"tracepoint {category}:{event}: {os.strerror(errno.ENOENT)}")
        except (OSError, ValueError) as error:
            code = getattr(error, "errno", None) or errno.EINVAL
            raise libbpf.LibbpfError(code, f"reading the id of tracepoint {category}:{event}: {error}") from None
        event_fd = libbpf.perf_event_open(PERF_TYPE_TRACEPOINT, tracepoint_id, cpu=0)
        link = libbpf.lib().bpf_program__attach_perf_event(program, event_fd)
        if not link:
            code = C.get_errno()
            os.close(event_fd)  # once attached, the link owns the event and closes it
            raise libbpf.LibbpfError(code, f"attaching tracepoint {category}:{event}: {os.strerror(code)}")
        self._tracepoints.append(link)
        self._watched.append((os.dup(event_fd), libbpf.program_id(program_fd)))

    # -- taking down ---------------------------------------------------------------

    def detach(self) -> None:
        """Detaches everything and waits for the kernel; never raises."""
        self.stop(background=False)
        self.wait()

    def stop(self, background: bool = True) -> None:
        """Returns once no probe can run the program any more; with
        `background`, the rest of the tracepoints' detach goes on in a
        thread until wait()."""
        links, self._links = self._links, []
        _destroy_all(links)
        tracepoints, self._tracepoints = self._tracepoints, []
        if not tracepoints:
            return
        if not background:
            _destroy_all(tracepoints)
            return
        import threading  # only at exit: it costs a few milliseconds at startup

        # From here on the thread owns the duplicate fds: it closes them once
        # this thread has stopped asking about them.
        watched, self._watched = self._watched, []
        unhooked = self._unhooked = threading.Event()

        def take_down() -> None:
            _destroy_all(tracepoints)
            unhooked.wait()
            _close_all([fd for fd, _ in watched])

        self._thread = threading.Thread(target=take_down, name="btc-detach")
        self._thread.start()
        known = _unhooked_all(watched)
        unhooked.set()
        if not known:  # the kernel cannot tell us: wait for the whole detach
            self.wait()

    def wait(self) -> None:
        """Waits for the background detach, then closes what is left."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._unhooked.set()
            thread.join()
        watched, self._watched = self._watched, []
        _close_all([fd for fd, _ in watched])


def _unhooked_all(watched: list[tuple[int, int]]) -> bool:
    """Polls each tracepoint's program array until our program is out of
    it; False if the kernel cannot say (or takes too long)."""
    deadline = time.monotonic() + _STOP_DEADLINE_S
    for fd, program_id in watched:
        while True:
            ids = _tracepoint_programs(fd)
            if ids is None:
                return False
            if program_id not in ids:
                break
            if time.monotonic() > deadline:
                return False
            time.sleep(_STOP_POLL_S)
    return True


def _tracepoint_programs(event_fd: int) -> Optional[list[int]]:
    """The ids of the programs the tracepoint of this perf event runs, or
    None when the kernel does not say."""
    import fcntl

    query = bytearray(struct.pack("<II", _QUERY_IDS, 0) + bytes(4 * _QUERY_IDS))
    try:
        fcntl.ioctl(event_fd, _PERF_EVENT_IOC_QUERY_BPF, query)
    except OSError:
        return None
    count = min(struct.unpack_from("<I", query, 4)[0], _QUERY_IDS)
    return list(struct.unpack_from(f"<{count}I", query, 8))


def _destroy_all(links: list[int]) -> None:
    if links:
        _each(libbpf.lib().bpf_link__destroy, links)


def _close_all(fds: list[int]) -> None:
    """Closes perf event fds; the last reference to a tracepoint's event
    waits for a grace period, so many are closed in parallel."""

    def close(fd: int) -> None:
        try:
            os.close(fd)
        except OSError:
            pass

    _each(close, fds)


def _each(action, items: list) -> None:
    """action(item) for every item: one after the other when they are few;
    else in a thread pool. Detaching a tracepoint waits for RCU grace
    periods in the kernel, one after the other (40 tracepoints: 2.9 s).
    Part of that wait overlaps across threads (40: 1.4 s), and ctypes lets
    go of the GIL during the call."""
    if len(items) < _PARALLEL_DETACH:
        for item in items:
            action(item)
        return
    from concurrent.futures import ThreadPoolExecutor  # only for many links: it imports logging

    with ThreadPoolExecutor(max_workers=min(16, len(items))) as pool:
        list(pool.map(action, items))
