"""Kernel addresses to symbol names, from /proc/kallsyms, printed the way
bpftrace 0.17 prints them (it used bcc's kernel symbol cache):

* `ksym(addr)` prints the bare name: `vfs_read`;
* a kstack frame prints the name and the decimal offset: `vfs_read+5`;
* an address no symbol covers prints as a C `void *` does: `0x1234`, or
  `0` for the null address.

Like bcc, we skip data symbols (types b, d and r, either case), and an
address past the last symbol still resolves to that symbol, with a large
offset (`_einittext+1015206568` is a real 0.17 output for a BPF program's
address).
"""

from __future__ import annotations

import bisect
from typing import Optional

KALLSYMS = "/proc/kallsyms"

# Symbol types that name data, not code; bcc leaves them out.
_DATA_SYMBOL_TYPES = frozenset("bBdDrR")


def hex_address(addr: int) -> str:
    """An address as C++ streams print a `void *`: `0x7f12...`, or `0`."""
    return f"{addr:#x}" if addr else "0"


class KernelSymbols:
    """The kernel's text symbols, read once on first use."""

    def __init__(self, path: str = KALLSYMS) -> None:
        self._path = path
        self._addresses: Optional[list[int]] = None
        self._names: list[str] = []

    def _load(self) -> None:
        symbols = []
        try:
            with open(self._path, encoding="utf-8", errors="replace") as kallsyms:
                for position, line in enumerate(kallsyms):
                    parts = line.split()
                    if len(parts) < 3 or parts[1] in _DATA_SYMBOL_TYPES:
                        continue
                    addr = int(parts[0], 16)
                    if addr == 0:  # kallsyms hides addresses from the unprivileged
                        continue
                    symbols.append((addr, position, parts[2]))
        except OSError:
            symbols = []
        # Among symbols at one address the last one listed wins, as with a
        # search for the last symbol at or below an address.
        symbols.sort()
        self._addresses = [addr for addr, _, _ in symbols]
        self._names = [name for _, _, name in symbols]

    def lookup(self, addr: int) -> Optional[tuple[str, int]]:
        """The symbol at or below `addr` and the offset into it, or None."""
        if self._addresses is None:
            self._load()
        index = bisect.bisect_right(self._addresses, addr) - 1
        if index < 0:
            return None
        return self._names[index], addr - self._addresses[index]

    def name(self, addr: int) -> str:
        """What `ksym(addr)` prints."""
        found = self.lookup(addr)
        return found[0] if found else hex_address(addr)

    def name_with_offset(self, addr: int) -> str:
        """What a kstack frame prints."""
        found = self.lookup(addr)
        return f"{found[0]}+{found[1]}" if found else hex_address(addr)
