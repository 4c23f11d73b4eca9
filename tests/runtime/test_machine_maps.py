"""Reading, clearing and zeroing real BPF maps (mapread.py), filled from
user space through libbpf."""

from __future__ import annotations

import ctypes as C

import pytest
from test_machine_support import ObjectBuilder, loaded, nothing_left_behind, requires_bpf

from compiler.runtime import libbpf, mapread
from compiler.runtime.program import LOST_EVENTS_MAP
from compiler.runtime.ringbuf import lost_events

pytestmark = [*requires_bpf, pytest.mark.usefixtures("nothing_left_behind")]
__all__ = ["nothing_left_behind"]  # the module fixture, imported for pytest

MAPS = {  # symbol: (type, key size, value size, max entries)
    "plain": ("hash", 8, 8, 8192),
    "odd": ("percpu_hash", 6, 12, 64),
    "lru": ("lru_hash", 4, 24, 64),
    "slots": ("array", 4, 8, 4),
    "cpu_slots": ("percpu_array", 4, 4, 3),
}


@pytest.fixture(scope="module")
def program():
    obj = ObjectBuilder()
    for symbol, (bpf_type, key_size, value_size, max_entries) in MAPS.items():
        obj.module.add_map(symbol, bpf_type, key_size, value_size, max_entries)
    obj.probe("begin", "raw_tp", "BEGIN").done()  # an object needs a program
    with loaded(obj.compiled()) as loaded_program:
        yield loaded_program


def update(fd: int, key: bytes, value: bytes) -> None:
    key_buffer, value_buffer = C.create_string_buffer(key, len(key)), C.create_string_buffer(value, len(value))
    libbpf.check_int(libbpf.lib().bpf_map_update_elem(fd, key_buffer, value_buffer, 0), "update")


def read(program, symbol: str) -> dict[bytes, list[bytes]]:
    bpf_type, key_size, value_size, max_entries = MAPS[symbol]
    fd = program.map_fd(symbol)
    return dict(mapread.read_entries(fd, key_size, value_size, bpf_type.startswith("percpu"), max_entries))


def clear(program, symbol: str, how=mapread.clear) -> None:
    bpf_type, key_size, value_size, max_entries = MAPS[symbol]
    how(program.map_fd(symbol), key_size, value_size, bpf_type.startswith("percpu"), max_entries)


def u64(n: int) -> bytes:
    return n.to_bytes(8, "little")


def test_a_big_hash_map_reads_whole_in_batches(program, monkeypatch) -> None:
    fd = program.map_fd("plain")
    for i in range(5000):
        update(fd, u64(i), u64(i * i))
    monkeypatch.setattr(mapread, "_BATCH_ENTRIES", 1024)  # several batches
    monkeypatch.setattr(mapread, "_read_by_key", None)  # the batch path, and nothing else
    entries = read(program, "plain")
    assert len(entries) == 5000
    assert all(values == [u64(int.from_bytes(key, "little") ** 2)] for key, values in entries.items())
    chunks = list(mapread.read_chunks(fd, 8, 8, False, MAPS["plain"][3]))  # read ahead in a thread
    assert len(chunks) >= 5
    assert dict(mapread.RawMap.joined(chunks).entries()) == entries
    clear(program, "plain")
    assert read(program, "plain") == {}


def test_without_batch_support_the_keys_are_walked(program, monkeypatch) -> None:
    fd = program.map_fd("plain")
    for i in range(50):
        update(fd, u64(i), u64(i + 1))

    def no_batches(*args):
        raise libbpf.LibbpfError(22, "bpf_map_lookup_batch: Invalid argument")

    monkeypatch.setattr(mapread, "_batches", no_batches)
    entries = read(program, "plain")
    assert entries == {u64(i): [u64(i + 1)] for i in range(50)}
    chunks = list(mapread.read_chunks(fd, 8, 8, False, MAPS["plain"][3]))
    assert len(chunks) == 1 and dict(chunks[0].entries()) == entries
    clear(program, "plain")


def test_per_cpu_values_come_one_per_possible_cpu_eight_bytes_apart(program) -> None:
    cpus = libbpf.num_possible_cpus()
    fd = program.map_fd("odd")
    # 12-byte values: the kernel wants each CPU's value in a 16-byte slot.
    per_cpu = [bytes([cpu + 1]) * 12 for cpu in range(cpus)]
    update(fd, b"abcdef", b"".join(value + bytes(4) for value in per_cpu))
    assert read(program, "odd") == {b"abcdef": per_cpu}
    clear(program, "odd", how=mapread.zero)
    assert read(program, "odd") == {b"abcdef": [bytes(12)] * cpus}  # zero keeps the key
    clear(program, "odd")
    assert read(program, "odd") == {}


def test_lru_hash_reads_like_a_hash(program) -> None:
    fd = program.map_fd("lru")
    update(fd, (7).to_bytes(4, "little"), b"x" * 24)
    assert read(program, "lru") == {(7).to_bytes(4, "little"): [b"x" * 24]}
    clear(program, "lru")


def test_arrays_read_every_index_and_clearing_zeroes_them(program) -> None:
    fd = program.map_fd("slots")
    update(fd, (2).to_bytes(4, "little"), u64(99))
    entries = read(program, "slots")
    assert list(entries) == [i.to_bytes(4, "little") for i in range(4)]
    assert entries[(2).to_bytes(4, "little")] == [u64(99)] and entries[(0).to_bytes(4, "little")] == [u64(0)]
    clear(program, "slots")
    assert all(values == [u64(0)] for values in read(program, "slots").values())

    cpus = libbpf.num_possible_cpus()
    fd = program.map_fd("cpu_slots")
    update(fd, (1).to_bytes(4, "little"), b"".join((cpu + 5).to_bytes(8, "little") for cpu in range(cpus)))
    expected = [(cpu + 5).to_bytes(4, "little") for cpu in range(cpus)]  # the low 4 bytes of each slot
    assert read(program, "cpu_slots")[(1).to_bytes(4, "little")] == expected
    clear(program, "cpu_slots", how=mapread.zero)
    assert all(values == [bytes(4)] * cpus for values in read(program, "cpu_slots").values())


def test_lost_events_sum_over_cpus(program) -> None:
    cpus = libbpf.num_possible_cpus()
    fd = program.map_fd(LOST_EVENTS_MAP)
    update(fd, bytes(4), b"".join(u64(3) for _ in range(cpus)))
    assert lost_events(fd) == 3 * cpus
