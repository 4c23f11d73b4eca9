"""ctypes bindings for libbpf 1.x (libbpf.so.1), and perf_event_open.

Only this module touches the shared library, and only when a function is
first needed: importing it never fails, and a machine without libbpf gets
one RuntimeFailure saying so.

libbpf >= 1.0 conventions, which every binding here follows: a function
returning a pointer returns NULL and sets errno on failure; one returning
an int returns a negative errno. `check_ptr`/`check_int` turn both into
LibbpfError. The `*_opts` structs are versioned by their first field `sz`:
declaring a prefix of the fields and passing its size is valid.

Messages libbpf prints (its warnings carry the reason a map or program
failed) are kept in `log` instead of going to stderr.
"""

from __future__ import annotations

import collections
import ctypes as C
import os

from .errors import RuntimeFailure

LIBRARY = "libbpf.so.1"  # tests replace it to check the missing-library path

c_void_p, c_char_p, c_int, c_uint32, c_uint64, c_size_t, c_bool = (
    C.c_void_p, C.c_char_p, C.c_int, C.c_uint32, C.c_uint64, C.c_size_t, C.c_bool,
)  # fmt: skip

LIBBPF_WARN, LIBBPF_INFO, LIBBPF_DEBUG = 0, 1, 2

# enum bpf_map_type values the runtime has to recognise
MAP_HASH, MAP_ARRAY, MAP_PERCPU_HASH, MAP_PERCPU_ARRAY, MAP_LRU_HASH, MAP_LRU_PERCPU_HASH = 1, 2, 5, 6, 9, 10
ARRAY_MAP_TYPES = (MAP_ARRAY, MAP_PERCPU_ARRAY)
BPF_ANY, BPF_EXIST = 0, 2


class LibbpfError(OSError):
    """A libbpf call failed: `errno` is set, `strerror` names the call."""


# -- structs -------------------------------------------------------------------


class ObjectOpenOpts(C.Structure):  # struct bpf_object_open_opts, up to object_name
    _fields_ = [("sz", c_size_t), ("object_name", c_char_p)]


class KprobeOpts(C.Structure):  # struct bpf_kprobe_opts
    _fields_ = [("sz", c_size_t), ("bpf_cookie", c_uint64), ("offset", c_size_t), ("retprobe", c_bool)]


class UprobeOpts(C.Structure):  # struct bpf_uprobe_opts
    _fields_ = [
        ("sz", c_size_t), ("ref_ctr_offset", c_size_t), ("bpf_cookie", c_uint64),
        ("retprobe", c_bool), ("func_name", c_char_p),
    ]  # fmt: skip


class TestRunOpts(C.Structure):  # struct bpf_test_run_opts, up to retval
    __test__ = False  # not a pytest class
    _fields_ = [
        ("sz", c_size_t), ("data_in", c_void_p), ("data_out", c_void_p),
        ("data_size_in", c_uint32), ("data_size_out", c_uint32),
        ("ctx_in", c_void_p), ("ctx_out", c_void_p), ("ctx_size_in", c_uint32), ("ctx_size_out", c_uint32),
        ("retval", c_uint32),
    ]  # fmt: skip


class MapBatchOpts(C.Structure):  # struct bpf_map_batch_opts
    _fields_ = [("sz", c_size_t), ("elem_flags", c_uint64), ("flags", c_uint64)]


class MapInfo(C.Structure):  # struct bpf_map_info, up to max_entries
    _fields_ = [
        ("type", c_uint32), ("id", c_uint32), ("key_size", c_uint32),
        ("value_size", c_uint32), ("max_entries", c_uint32),
    ]  # fmt: skip


class ProgInfo(C.Structure):  # struct bpf_prog_info, up to id
    _fields_ = [("type", c_uint32), ("id", c_uint32)]


def opts(struct_type, **fields):
    """An opts struct with `sz` set to the size we declare."""
    value = struct_type(**fields)
    value.sz = C.sizeof(struct_type)
    return value


# ring_buffer_sample_fn: int (*)(void *ctx, void *data, size_t size)
RINGBUF_SAMPLE_FN = C.CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t)
# libbpf_print_fn_t: int (*)(enum libbpf_print_level, const char *fmt, va_list)
_PRINT_FN = C.CFUNCTYPE(c_int, c_int, c_char_p, c_void_p)

_P = c_void_p
_PROTOTYPES = {
    "libbpf_set_print": (_P, [_PRINT_FN]),
    "libbpf_num_possible_cpus": (c_int, []),
    "bpf_object__open_mem": (_P, [_P, c_size_t, C.POINTER(ObjectOpenOpts)]),
    "bpf_object__load": (c_int, [_P]),
    "bpf_object__close": (None, [_P]),
    "bpf_object__find_program_by_name": (_P, [_P, c_char_p]),
    "bpf_object__find_map_by_name": (_P, [_P, c_char_p]),
    "bpf_object__next_program": (_P, [_P, _P]),
    "bpf_program__name": (c_char_p, [_P]),
    "bpf_program__fd": (c_int, [_P]),
    "bpf_program__set_type": (c_int, [_P, c_int]),
    "bpf_program__set_log_buf": (c_int, [_P, _P, c_size_t]),
    "bpf_program__attach_tracepoint": (_P, [_P, c_char_p, c_char_p]),
    "bpf_program__attach_raw_tracepoint": (_P, [_P, c_char_p]),
    "bpf_program__attach_perf_event": (_P, [_P, c_int]),
    "bpf_program__attach_kprobe_opts": (_P, [_P, c_char_p, C.POINTER(KprobeOpts)]),
    "bpf_program__attach_uprobe_opts": (_P, [_P, c_int, c_char_p, c_size_t, C.POINTER(UprobeOpts)]),
    "bpf_program__attach_trace": (_P, [_P]),
    "bpf_link__destroy": (c_int, [_P]),
    "bpf_map__fd": (c_int, [_P]),
    "bpf_map_get_next_key": (c_int, [c_int, _P, _P]),
    "bpf_map_lookup_elem": (c_int, [c_int, _P, _P]),
    "bpf_map_update_elem": (c_int, [c_int, _P, _P, c_uint64]),
    "bpf_map_delete_elem": (c_int, [c_int, _P]),
    "bpf_map_lookup_batch": (c_int, [c_int, _P, _P, _P, _P, C.POINTER(c_uint32), C.POINTER(MapBatchOpts)]),
    "bpf_prog_test_run_opts": (c_int, [c_int, C.POINTER(TestRunOpts)]),
    "bpf_obj_get_info_by_fd": (c_int, [c_int, _P, C.POINTER(c_uint32)]),
    "bpf_prog_get_fd_by_id": (c_int, [c_uint32]),
    "ring_buffer__new": (_P, [c_int, RINGBUF_SAMPLE_FN, _P, _P]),
    "ring_buffer__poll": (c_int, [_P, c_int]),
    "ring_buffer__consume": (c_int, [_P]),
    "ring_buffer__free": (None, [_P]),
}

_library = None


def lib():
    """The loaded libbpf, its prototypes declared and its printing captured."""
    global _library
    if _library is None:
        try:
            library = C.CDLL(LIBRARY, use_errno=True)
            for name, (restype, argtypes) in _PROTOTYPES.items():
                function = getattr(library, name)
                function.restype, function.argtypes = restype, argtypes
        except (OSError, AttributeError) as error:
            raise RuntimeFailure(
                f"cannot use libbpf ({LIBRARY}): {error}. Running bpftrace programs needs libbpf 1.0 or"
                " newer; install it (the libbpf1 package on Debian and Ubuntu, libbpf on Fedora)."
            ) from None
        library.libbpf_set_print(_print_to_log)
        _library = library
    return _library


def check_ptr(result, what: str):
    if not result:
        raise _error(C.get_errno(), what)
    return result


def check_int(result: int, what: str) -> int:
    if result < 0:
        raise _error(-result, what)
    return result


def _error(errno: int, what: str) -> LibbpfError:
    return LibbpfError(errno, f"{what}: {os.strerror(errno)}")


# -- libbpf's messages -----------------------------------------------------------

# The recent warnings and notes libbpf printed (debug output is dropped).
log: collections.deque[str] = collections.deque(maxlen=200)

_libc = C.CDLL(None, use_errno=True)
_libc.vsnprintf.restype = c_int
_libc.vsnprintf.argtypes = [c_char_p, c_size_t, c_char_p, c_void_p]
_libc.syscall.restype = C.c_long


@_PRINT_FN
def _print_to_log(level: int, fmt: bytes, args: int) -> int:
    # The arguments come as a va_list. On x86-64 (and arm64) a va_list
    # parameter is passed as a pointer, which vsnprintf takes as it is.
    if level == LIBBPF_DEBUG:
        return 0
    buffer = C.create_string_buffer(2048)
    _libc.vsnprintf(buffer, len(buffer), fmt, args)
    log.append(buffer.value.decode(errors="replace").rstrip("\n"))
    return 0


def take_log() -> list[str]:
    """The messages logged since the last call, oldest first."""
    messages = list(log)
    log.clear()
    return messages


# -- small conveniences ------------------------------------------------------------


def num_possible_cpus() -> int:
    return check_int(lib().libbpf_num_possible_cpus(), "libbpf_num_possible_cpus")


def map_info(fd: int) -> MapInfo:
    info = MapInfo()
    size = c_uint32(C.sizeof(info))
    check_int(lib().bpf_obj_get_info_by_fd(fd, C.byref(info), C.byref(size)), "bpf_obj_get_info_by_fd")
    return info


def program_id(fd: int) -> int:
    info = ProgInfo()
    size = c_uint32(C.sizeof(info))
    check_int(lib().bpf_obj_get_info_by_fd(fd, C.byref(info), C.byref(size)), "bpf_obj_get_info_by_fd")
    return info.id


class ProgStats(C.Structure):  # struct bpf_prog_info, up to verified_insns (kernel 5.16+)
    _fields_ = [
        ("type", c_uint32), ("id", c_uint32), ("tag", C.c_uint8 * 8),
        ("jited_prog_len", c_uint32), ("xlated_prog_len", c_uint32),
        ("jited_prog_insns", C.c_uint64), ("xlated_prog_insns", C.c_uint64), ("load_time", C.c_uint64),
        ("created_by_uid", c_uint32), ("nr_map_ids", c_uint32), ("map_ids", C.c_uint64),
        ("name", C.c_char * 16), ("ifindex", c_uint32), ("flags", c_uint32),
        ("netns_dev", C.c_uint64), ("netns_ino", C.c_uint64),
        ("nr_jited_ksyms", c_uint32), ("nr_jited_func_lens", c_uint32),
        ("jited_ksyms", C.c_uint64), ("jited_func_lens", C.c_uint64),
        ("btf_id", c_uint32), ("func_info_rec_size", c_uint32), ("func_info", C.c_uint64),
        ("nr_func_info", c_uint32), ("nr_line_info", c_uint32),
        ("line_info", C.c_uint64), ("jited_line_info", C.c_uint64),
        ("nr_jited_line_info", c_uint32), ("line_info_rec_size", c_uint32),
        ("jited_line_info_rec_size", c_uint32), ("nr_prog_tags", c_uint32), ("prog_tags", C.c_uint64),
        ("run_time_ns", C.c_uint64), ("run_cnt", C.c_uint64), ("recursion_misses", C.c_uint64),
        ("verified_insns", c_uint32),
    ]  # fmt: skip


def program_stats(fd: int) -> ProgStats:
    """What the kernel says about a loaded program: its id, its size
    translated (`xlated_prog_len`, 8 bytes an instruction) and jited, and how
    many instructions the verifier processed."""
    info = ProgStats()
    size = c_uint32(C.sizeof(info))
    check_int(lib().bpf_obj_get_info_by_fd(fd, C.byref(info), C.byref(size)), "bpf_obj_get_info_by_fd")
    return info


def program_exists(program_id: int) -> bool:
    """Whether the kernel still has the program with this id."""
    fd = lib().bpf_prog_get_fd_by_id(program_id)
    if fd >= 0:
        os.close(fd)
        return True
    return False


# -- perf_event_open -----------------------------------------------------------------

PERF_TYPE_HARDWARE, PERF_TYPE_SOFTWARE = 0, 1
PERF_COUNT_SW_CPU_CLOCK = 0
_PERF_ATTR_FREQ = 1 << 10  # the `freq` bit of perf_event_attr's flag bits
_PERF_FLAG_FD_CLOEXEC = 1 << 3
_SYS_PERF_EVENT_OPEN = {"x86_64": 298, "aarch64": 241}


class PerfEventAttr(C.Structure):  # struct perf_event_attr, PERF_ATTR_SIZE_VER5
    _fields_ = [
        ("type", c_uint32), ("size", c_uint32), ("config", c_uint64),
        ("sample_period_or_freq", c_uint64), ("sample_type", c_uint64), ("read_format", c_uint64),
        ("flags", c_uint64), ("wakeup_events", c_uint32), ("bp_type", c_uint32),
        ("config1", c_uint64), ("config2", c_uint64), ("branch_sample_type", c_uint64),
        ("sample_regs_user", c_uint64), ("sample_stack_user", c_uint32), ("clockid", c_int),
        ("sample_regs_intr", c_uint64), ("aux_watermark", c_uint32), ("sample_max_stack", C.c_uint16),
        ("reserved", C.c_uint16),
    ]  # fmt: skip


def perf_event_open(event_type: int, config: int, cpu: int, period: int = 0, freq: int = 0) -> int:
    """A sampling perf event on `cpu` for every process: every `period`
    events, or `freq` times a second. Returns its fd; raises LibbpfError."""
    number = _SYS_PERF_EVENT_OPEN.get(os.uname().machine)
    if number is None:
        raise LibbpfError(0, f"perf_event_open: unknown system call number on {os.uname().machine}")
    attr = PerfEventAttr(type=event_type, size=C.sizeof(PerfEventAttr), config=config)
    if freq:
        attr.sample_period_or_freq, attr.flags = freq, _PERF_ATTR_FREQ
    else:
        attr.sample_period_or_freq = period
    any_process, no_group = C.c_int(-1), C.c_int(-1)
    fd = _libc.syscall(
        C.c_long(number), C.byref(attr), any_process, C.c_int(cpu), no_group, C.c_ulong(_PERF_FLAG_FD_CLOEXEC)
    )
    if fd < 0:
        raise _error(C.get_errno(), f"perf_event_open(cpu {cpu})")
    return fd


def online_cpus() -> list[int]:
    """The online CPUs, from /sys/devices/system/cpu/online ("0-3,6")."""
    with open("/sys/devices/system/cpu/online") as file:
        text = file.read().strip()
    cpus = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        cpus.extend(range(int(first), int(last or first) + 1))
    return cpus
