"""Taking probes down (links.py): stop_probes() returns once no event can
run the program, while the kernel's slow part of detaching goes on in the
background; close() waits for it, and nothing stays attached or open."""

from __future__ import annotations

import os

import pytest
from test_machine_runtime import getppid_probe
from test_machine_support import ObjectBuilder, counters, loaded, nothing_left_behind, requires_bpf

from compiler.runtime import links

pytestmark = [*requires_bpf, pytest.mark.usefixtures("nothing_left_behind")]
__all__ = ["nothing_left_behind"]  # the module fixture, imported for pytest


def counting_program(tracepoints: int = 1):
    """Counts this process's calls of getppid, through `tracepoints`
    probes on the same tracepoint (the first one counts)."""
    obj = ObjectBuilder()
    for index in range(tracepoints):
        body = getppid_probe(obj, line=index + 1)
        body.only_this_process()
        body.count(index)
        body.done()
    return obj.compiled()


def open_fds() -> set[int]:
    return {int(name) for name in os.listdir("/proc/self/fd")}


@pytest.mark.parametrize("tracepoints", [1, 5])  # 5: detached by a thread pool
def test_stop_probes_stops_counting_at_once_and_close_waits(tracepoints) -> None:
    before = open_fds()
    with loaded(counting_program(tracepoints)) as program:
        program.attach_all()
        for _ in range(10):
            os.getppid()
        program.stop_probes()
        os.getppid()  # not counted: no event runs the program any more
        assert counters(program)[0] == 10
        program.close()
        assert program._links._thread is None
    assert open_fds() <= before  # the perf events we held are closed too


def test_when_the_kernel_cannot_say_stop_waits_for_the_whole_detach(monkeypatch) -> None:
    monkeypatch.setattr(links, "_tracepoint_programs", lambda fd: None)
    with loaded(counting_program()) as program:
        program.attach_all()
        os.getppid()
        program.stop_probes()
        assert program._links._thread is None  # joined before stop_probes returned
        os.getppid()
        assert counters(program)[0] == 1


def test_the_query_names_our_program_while_attached() -> None:
    with loaded(counting_program()) as program:
        program.attach_all()
        [(fd, program_id)] = program._links._watched
        assert program_id in links._tracepoint_programs(fd)
        assert program_id in program.program_ids()
        program.detach_all()
        assert program._links._watched == []


def test_detach_all_then_close_is_fine() -> None:
    before = open_fds()
    with loaded(counting_program(2)) as program:
        program.attach_all()
        program.detach_all()
        os.getppid()
        assert counters(program)[:2] == [0, 0]
    assert open_fds() <= before
