"""Reading, clearing and zeroing BPF maps from user space.

Values come back as raw bytes: one `bytes` per possible CPU for a per-CPU
map (the kernel hands them over `round_up(value_size, 8)` bytes apart, and
`libbpf_num_possible_cpus()` of them), a single one otherwise. Decoding is
the caller's business (layout.py says how values are laid out).

Hash maps are read with BPF_MAP_LOOKUP_BATCH, a few syscalls for the whole
map (about 2 ms for 10k entries, against 80 ms key by key); a kernel or map
that does not support it falls back to walking the keys. Arrays are read
index by index; the kernel tells which kind of map a fd is.
"""

from __future__ import annotations

import ctypes as C
import errno
from typing import Iterator

from . import libbpf

Entry = tuple[bytes, list[bytes]]

# Entries asked for per batch call: the kernel's time hardly depends on it
# (100k entries: 27 ms in batches of 4096 or of 65536), and smaller batches
# let read_chunks() decode more of the map while the kernel reads the rest.
_BATCH_ENTRIES = 8192
_BATCH_BYTES = 4 << 20
_ENOTSUPP = 524  # the kernel's internal "not supported", which leaks to user space
_NO_BATCH = (errno.EINVAL, errno.EOPNOTSUPP, errno.ENOSYS, _ENOTSUPP)


def read_entries(map_fd: int, key_size: int, value_size: int, percpu: bool, max_entries: int) -> list[Entry]:
    """Every (key, values) of the map, keys as the kernel stores them."""
    return read_raw(map_fd, key_size, value_size, percpu, max_entries).entries()


class RawMap:
    """A whole map as read: all keys in one buffer and all values in
    another (each value `slots` per-CPU slots `stride` bytes apart), so that
    a big map can be decoded a batch at a time (decode.read_map), or as
    (key, values) entries."""

    def __init__(self, shape: "_Shape", keys: bytes, values: bytes, count: int) -> None:
        self.shape, self.keys, self.values, self.count = shape, keys, values, count

    def entries(self) -> list[Entry]:
        shape = self.shape
        key_bytes, value_bytes = self.keys, self.values
        key_size, entry_size, size = shape.key_size, shape.buffer_size, shape.value_size
        starts = [cpu * shape.stride for cpu in range(shape.slots)]
        return [
            (key_bytes[i * key_size : (i + 1) * key_size],
             [value_bytes[i * entry_size + s : i * entry_size + s + size] for s in starts])
            for i in range(self.count)
        ]  # fmt: skip

    @classmethod
    def joined(cls, chunks: list["RawMap"]) -> "RawMap":
        """One map of the batches (at least one) a map was read in."""
        if len(chunks) == 1:
            return chunks[0]
        keys = b"".join(c.keys for c in chunks)
        return cls(chunks[0].shape, keys, b"".join(c.values for c in chunks), sum(c.count for c in chunks))

    @classmethod
    def of_entries(cls, shape: "_Shape", entries: list[Entry]) -> "RawMap":
        pad = b"\0" * (shape.stride - shape.value_size)
        values = b"".join(b"".join(v + pad for v in slots)[: shape.buffer_size] for _, slots in entries)
        return cls(shape, b"".join(k for k, _ in entries), values, len(entries))


def read_raw(map_fd: int, key_size: int, value_size: int, percpu: bool, max_entries: int) -> RawMap:
    shape = _Shape(key_size, value_size, percpu)
    if _is_array(map_fd):
        return RawMap.of_entries(shape, _read_array(map_fd, shape, max_entries))
    try:
        return _read_batch(map_fd, shape, max_entries)
    except libbpf.LibbpfError as error:
        if error.errno not in _NO_BATCH:
            raise
    return RawMap.of_entries(shape, _read_by_key(map_fd, shape, max_entries))


def read_chunks(map_fd: int, key_size: int, value_size: int, percpu: bool, max_entries: int) -> Iterator[RawMap]:
    """The map as read_raw() reads it, a batch at a time, with the kernel
    already reading the next batch while the caller decodes this one: the
    lookup runs in a thread, and a ctypes call does not hold the GIL (100k
    per-CPU entries: about 30 ms in the kernel, as long as decoding them)."""
    import queue  # only at exit: threading costs a few milliseconds at startup
    import threading

    shape = _Shape(key_size, value_size, percpu)
    if _is_array(map_fd):
        yield RawMap.of_entries(shape, _read_array(map_fd, shape, max_entries))
        return
    batches: queue.SimpleQueue = queue.SimpleQueue()

    def read_ahead() -> None:
        try:
            for batch in _batches(map_fd, shape, max_entries):
                batches.put(batch)
            batches.put(None)
        except BaseException as error:  # handed to the caller's thread, which raises it
            batches.put(error)

    threading.Thread(target=read_ahead, name="btc-map-read", daemon=True).start()
    first = True
    while (batch := batches.get()) is not None:
        if isinstance(batch, libbpf.LibbpfError) and first and batch.errno in _NO_BATCH:
            yield RawMap.of_entries(shape, _read_by_key(map_fd, shape, max_entries))
            return
        if isinstance(batch, BaseException):
            raise batch
        first = False
        yield batch


def clear(map_fd: int, key_size: int, value_size: int, percpu: bool, max_entries: int) -> None:
    """Deletes every key (an array cannot lose its keys: its values become zeros)."""
    if _is_array(map_fd):
        zero(map_fd, key_size, value_size, percpu, max_entries)
        return
    lib = libbpf.lib()
    for key in _keys(map_fd, key_size, max_entries):
        result = lib.bpf_map_delete_elem(map_fd, _buffer(key))
        if result < 0 and result != -errno.ENOENT:  # gone already: fine
            libbpf.check_int(result, "bpf_map_delete_elem")


def zero(map_fd: int, key_size: int, value_size: int, percpu: bool, max_entries: int) -> None:
    """Sets the value of every existing key to zeros, on every CPU."""
    shape = _Shape(key_size, value_size, percpu)
    zeros = C.create_string_buffer(shape.buffer_size)
    lib = libbpf.lib()
    if _is_array(map_fd):
        keys, flags = [_index(i) for i in range(max_entries)], libbpf.BPF_ANY
    else:
        # BPF_EXIST: a key deleted meanwhile stays deleted.
        keys, flags = _keys(map_fd, key_size, max_entries), libbpf.BPF_EXIST
    for key in keys:
        result = lib.bpf_map_update_elem(map_fd, _buffer(key), zeros, flags)
        if result < 0 and result != -errno.ENOENT:
            libbpf.check_int(result, "bpf_map_update_elem")


class _Shape:
    """Where the values of one key sit in the kernel's value buffer."""

    def __init__(self, key_size: int, value_size: int, percpu: bool) -> None:
        self.key_size = key_size
        self.value_size = value_size
        self.slots = libbpf.num_possible_cpus() if percpu else 1
        self.stride = (value_size + 7) // 8 * 8 if percpu else value_size
        self.buffer_size = self.stride * self.slots

    def values(self, data: bytes) -> list[bytes]:
        return [data[i * self.stride : i * self.stride + self.value_size] for i in range(self.slots)]


def _read_array(map_fd: int, shape: _Shape, max_entries: int) -> list[Entry]:
    lib = libbpf.lib()
    value = C.create_string_buffer(shape.buffer_size)
    entries = []
    for i in range(max_entries):
        key = _index(i)
        libbpf.check_int(lib.bpf_map_lookup_elem(map_fd, _buffer(key), value), "bpf_map_lookup_elem")
        entries.append((key, shape.values(value.raw)))
    return entries


def _read_batch(map_fd: int, shape: _Shape, max_entries: int) -> RawMap:
    return RawMap.joined(list(_batches(map_fd, shape, max_entries)))  # never empty: the last call yields


def _batches(map_fd: int, shape: _Shape, max_entries: int) -> Iterator[RawMap]:
    """The map's entries, a BPF_MAP_LOOKUP_BATCH call at a time."""
    lib = libbpf.lib()
    chunk = max(1, min(max_entries, _BATCH_ENTRIES, _BATCH_BYTES // (shape.key_size + shape.buffer_size)))
    # The position between calls: a bucket index for hash maps, a key for others.
    token_size = max(8, shape.key_size)
    position, next_position = None, C.create_string_buffer(token_size)
    options = libbpf.opts(libbpf.MapBatchOpts)
    while True:
        keys = C.create_string_buffer(chunk * shape.key_size)
        values = C.create_string_buffer(chunk * shape.buffer_size)
        count = C.c_uint32(chunk)
        result = lib.bpf_map_lookup_batch(
            map_fd, position, next_position, keys, values, C.byref(count), C.byref(options)
        )
        if result < 0 and result != -errno.ENOENT:
            if result == -errno.ENOSPC and count.value == 0:
                chunk *= 2  # one hash bucket holds more entries than we asked for
                continue
            libbpf.check_int(result, "bpf_map_lookup_batch")
        n = count.value
        yield RawMap(shape, C.string_at(keys, n * shape.key_size), C.string_at(values, n * shape.buffer_size), n)
        if result == -errno.ENOENT:  # the end; this last call may still have filled some
            return
        position = C.create_string_buffer(next_position.raw, token_size)


def _read_by_key(map_fd: int, shape: _Shape, max_entries: int) -> list[Entry]:
    lib = libbpf.lib()
    value = C.create_string_buffer(shape.buffer_size)
    entries = []
    for key in _keys(map_fd, shape.key_size, max_entries):
        result = lib.bpf_map_lookup_elem(map_fd, _buffer(key), value)
        if result == -errno.ENOENT:  # deleted since we saw its key
            continue
        libbpf.check_int(result, "bpf_map_lookup_elem")
        entries.append((key, shape.values(value.raw)))
    return entries


def _keys(map_fd: int, key_size: int, max_entries: int) -> list[bytes]:
    """Every key, collected before anything is read or deleted: deleting
    the current key makes the walk start over. A key deleted meanwhile can
    also make it start over, so the walk is bounded and keys are deduplicated."""
    lib = libbpf.lib()
    keys: dict[bytes, None] = {}
    current = None
    following = C.create_string_buffer(key_size)
    for _ in range(2 * max_entries + 1):
        result = lib.bpf_map_get_next_key(map_fd, current, following)
        if result == -errno.ENOENT:
            break
        libbpf.check_int(result, "bpf_map_get_next_key")
        keys[following.raw] = None
        current = _buffer(following.raw)
    return list(keys)


def _is_array(map_fd: int) -> bool:
    return libbpf.map_info(map_fd).type in libbpf.ARRAY_MAP_TYPES


def _index(i: int) -> bytes:
    return i.to_bytes(4, "little")


def _buffer(data: bytes):
    return C.create_string_buffer(data, len(data))


def write_u64(map_fd: int, value: int, index: int = 0) -> None:
    """Sets element `index` of an array map of u64 values."""
    data = C.c_uint64(value)
    libbpf.check_int(libbpf.lib().bpf_map_update_elem(map_fd, _buffer(_index(index)), C.byref(data), 0),
                     "bpf_map_update_elem")  # fmt: skip


def lookup(map_fd: int, key: bytes, value_size: int):
    """The value at `key` (bytes), or None when the map has no such key."""
    value = C.create_string_buffer(value_size)
    result = libbpf.lib().bpf_map_lookup_elem(map_fd, _buffer(key), value)
    if result < 0:
        return None
    return value.raw
