"""What printing needs to know beyond a value's bytes: kernel and user
symbols, the frames behind a stack id, user names, the strftime format and
boot time behind a timestamp, enum names; and the text of time() and
strftime(). The runtime makes one `Resolver` for a run (subclassing it, or
passing callbacks, for the parts only the loader knows, such as stack
maps); tests make one with fixed answers.

Every method has a harmless default, so a value always prints: unknown
addresses print in hex, an unreadable stack prints as nothing.
"""

from __future__ import annotations

import os
import time
from typing import Callable, Mapping, Optional, Sequence

from ...semantic import types as T
from ..symbols import KernelSymbols, hex_address

# A stack id (and, for ustack, the pid) to its frame addresses, or None
# when the stack cannot be read. Supplied by the loader, which owns the
# stack maps.
StackReader = Callable[[T.Special, int, int], Optional[Sequence[int]]]


class Resolver:
    def __init__(
        self,
        *,
        kernel_symbols: Optional[KernelSymbols] = None,
        stack_reader: Optional[StackReader] = None,
        stack_mode: str = "bpftrace",
        boot_time_ns: int = 0,
        strftime_format: str = "%H:%M:%S",
        enums: Optional[Mapping[str, Mapping[int, str]]] = None,
        probe_names: Sequence[str] = (),
        passwd_path: str = "/etc/passwd",
    ) -> None:
        self.kernel_symbols = kernel_symbols if kernel_symbols is not None else KernelSymbols()
        self.stack_reader = stack_reader
        self.default_stack_mode = stack_mode
        self.boot_time_ns = boot_time_ns
        self.default_strftime_format = strftime_format
        self.enums = enums or {}
        self.probe_names = list(probe_names)
        self._passwd_path = passwd_path
        self._user_names: Optional[dict[int, str]] = None

    # ------------------------------------------------------------ symbols

    def ksym(self, addr: int) -> str:
        return self.kernel_symbols.name(addr)

    def ksym_with_offset(self, addr: int) -> str:
        return self.kernel_symbols.name_with_offset(addr)

    def usym(
        self, addr: int, pid: int, with_offset: bool = False, with_module: bool = False
    ) -> str:
        """User symbols are not resolved yet: the address in hex, and
        bpftrace's "[unknown]" module in perf stacks."""
        text = hex_address(addr)
        return f"{text} ([unknown])" if with_module else text

    # ------------------------------------------------------------- stacks

    def stack_mode(self, t: T.Special) -> str:
        """bpftrace, perf or raw. The type does not carry the mode yet, so
        every stack prints in the program's default mode."""
        return self.default_stack_mode

    def stack_frames(self, t: T.Special, stack_id: int, pid: int = 0) -> Optional[Sequence[int]]:
        if self.stack_reader is None:
            return None
        return self.stack_reader(t, stack_id, pid)

    def stack_text(self, t: T.Special, value, indent: int) -> str:
        """A kstack or ustack as bpftrace prints it: a newline, then one line
        per frame (empty when the stack cannot be read, as in 0.17)."""
        user = t.name == "ustack"
        stack_id, pid = value if user else (value, 0)
        frames = self.stack_frames(t, stack_id, pid)
        if frames is None:
            return ""
        mode = self.stack_mode(t)
        lines = ["\n"]
        padding = " " * indent
        for addr in frames:
            if addr == 0:
                break
            if mode == "raw":
                lines.append(f"{addr:x}\n")
                continue
            perf = mode == "perf"
            if user:
                symbol = self.usym(addr, pid, with_offset=True, with_module=perf)
            else:
                symbol = self.ksym_with_offset(addr)
            lines.append(f"\t{addr:x} {symbol}\n" if perf else f"{padding}{symbol}\n")
        return "".join(lines)

    # -------------------------------------------------------------- other

    def username(self, uid: int) -> str:
        """The name /etc/passwd gives `uid`, or "" (as 0.17 prints)."""
        if self._user_names is None:
            self._user_names = _read_passwd(self._passwd_path)
        return self._user_names.get(uid, "")

    def strftime_format(self, t: T.Special) -> str:
        """The format of a strftime() value: codegen names its type
        `timestamp:<format>` (see codegen lower_calls.b_strftime)."""
        _, has_format, fmt = t.name.partition(":")
        return fmt if has_format else self.default_strftime_format

    def timestamp_text(self, t: T.Special, nsecs_since_boot: int) -> str:
        return format_strftime(self.strftime_format(t), nsecs_since_boot, self.boot_time_ns)

    def enum_name(self, enum: str, value: int) -> Optional[str]:
        return self.enums.get(enum, {}).get(value)

    def probe_name(self, probe_id: int) -> str:
        if 0 <= probe_id < len(self.probe_names):
            return self.probe_names[probe_id]
        return str(probe_id)

    def cgroup_path(self, cgroup_id: int) -> str:
        """cgroup paths are not resolved yet: the id in decimal."""
        return str(cgroup_id)

    def strerror(self, errno: int) -> str:
        return os.strerror(errno)


def _read_passwd(path: str) -> dict[int, str]:
    names: dict[int, str] = {}
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as passwd:
            for line in passwd:
                fields = line.split(":")
                if len(fields) > 2 and fields[2].isdigit():
                    # The first line for a uid wins, as in 0.17's scan.
                    names.setdefault(int(fields[2]), fields[0])
    except OSError:
        pass
    return names


# ------------------------------------------------------------------ time
#
# time() and strftime() go through C's strftime into bpftrace's 64-byte
# buffer, so a result of 64 bytes or more (or an empty one: strftime then
# returns 0) is an error: 0.17 logs "strftime returned 0", and time()
# prints nothing while strftime() prints "(?)". strftime() also knows `%f`,
# the microseconds, replaced (every occurrence, even after a `%`) before C
# sees the format.

# bpftrace's STRING_SIZE: strftime's output buffer, NUL included.
_BUFFER_SIZE = 64
_NS_PER_SECOND = 1_000_000_000
STRFTIME_ERROR = "(?)"


def _strftime(fmt: str, seconds: int) -> Optional[str]:
    """C strftime of local time into bpftrace's buffer; None when it fails."""
    try:
        text = time.strftime(fmt, time.localtime(seconds))
    except (ValueError, OverflowError, OSError):
        return None
    if not text or len(text.encode("utf-8", "surrogateescape")) >= _BUFFER_SIZE:
        return None
    return text


def format_time(fmt: str, now: Optional[float] = None) -> Optional[str]:
    """What time(fmt) prints (the wall clock, to the second), or None when
    bpftrace would print nothing."""
    seconds = int(time.time() if now is None else now)
    return _strftime(fmt, seconds)


def format_strftime(fmt: str, nsecs_since_boot: int, boot_time_ns: int) -> str:
    """What strftime(fmt, nsecs) prints. `boot_time_ns` is the wall-clock
    time of boot in nanoseconds (CLOCK_REALTIME minus the BPF clock)."""
    boot_seconds, boot_nsecs = divmod(boot_time_ns, _NS_PER_SECOND)
    # 0.17 adds the sub-second parts in double precision, then truncates.
    seconds = int(boot_seconds + (boot_nsecs + nsecs_since_boot) / 1e9)
    microseconds = ((boot_nsecs + nsecs_since_boot) % _NS_PER_SECOND) // 1000
    text = _strftime(fmt.replace("%f", f"{microseconds:06d}"), seconds)
    return STRFTIME_ERROR if text is None else text
