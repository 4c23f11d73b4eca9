"""The one interface through which the analyser learns about the kernel.

`KernelFacts` answers questions (what fields does `struct task_struct`
have, what is the format of `syscalls:sys_enter_openat`, which functions
does /bin/bash export) and answers None for anything it does not know.
The analyser treats None as "unknown", never as "does not exist", unless
`facts.complete` says the source is authoritative for that kind of fact.

Implementations:
* `NoFacts`: knows nothing; analysis still runs, with UNKNOWN kernel types.
* `FixtureFacts`: built from plain data, for tests.
* `compiler.kernel.live.LiveFacts`: BTF, tracefs and ELF files of this
  machine (imported lazily; it is the only one that touches the system).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Iterable, Optional

from .ctypes import CEnum, CFunction, CRecord, CRecordRef, CType, Tracepoint

# Software events and their default sample periods (perf's own list).
SOFTWARE_EVENTS = {
    "alignment-faults": 1, "bpf-output": 1, "context-switches": 1000, "cs": 1000,
    "cpu-clock": 1000000, "cpu": 1000000, "cpu-migrations": 1, "dummy": 1,
    "emulation-faults": 1, "major-faults": 1, "minor-faults": 100, "page-faults": 100,
    "faults": 100, "task-clock": 1,
}  # fmt: skip

HARDWARE_EVENTS = {
    "backend-stalls": 1000000, "branch-instructions": 100000, "branches": 100000,
    "branch-misses": 100000, "bus-cycles": 100000, "cache-misses": 1000000,
    "cache-references": 1000000, "cpu-cycles": 1000000, "cycles": 1000000,
    "frontend-stalls": 1000000, "instructions": 1000000, "ref-cycles": 1000000,
}  # fmt: skip


class KernelFacts:
    """What the analyser may ask. The base class knows nothing."""

    #: True when this source has the kernel's own type information (BTF), so
    #: an unknown struct or field really does not exist.
    has_types = False
    #: True when this source can list tracepoints, so an unknown tracepoint
    #: really does not exist.
    has_tracepoints = False

    def record(self, kind: str, name: str) -> Optional[CRecord]:
        """A struct or union by name ("task_struct")."""
        return None

    def record_of(self, ref: CRecordRef) -> Optional[CRecord]:
        """The record a field or pointer refers to (anonymous ones too)."""
        return self.record(ref.kind, ref.name) if ref.name else None

    def enum(self, name: str) -> Optional[CEnum]:
        return None

    def enumerator(self, name: str) -> Optional[tuple[CEnum, int]]:
        """The enum a bare enumerator name (`TASK_RUNNING`) belongs to."""
        return None

    def typedef(self, name: str) -> Optional[CType]:
        """What a typedef name (`pid_t`) stands for."""
        return None

    def function(self, name: str) -> Optional[CFunction]:
        """A kernel function's prototype (fentry/fexit args, kfuncs)."""
        return None

    def tracepoint(self, category: str, event: str) -> Optional[Tracepoint]:
        return None

    def tracepoints(self) -> Iterable[tuple[str, str]]:
        """Every (category, event) pair, for listing and wildcards."""
        return ()

    def tracepoint_set(self) -> frozenset[tuple[str, str]]:
        """tracepoints() as a set, built once: every tracepoint probe asks
        whether its event exists, and a language server asks on every edit."""
        cached = self.__dict__.get("_tracepoint_set")
        if cached is None:
            cached = self.__dict__["_tracepoint_set"] = frozenset(self.tracepoints())
        return cached

    def kernel_functions(self) -> Iterable[str]:
        """Traceable kernel functions, for listing kprobes/fentry."""
        return ()

    def binary_functions(self, path: str) -> Iterable[str]:
        """Function symbols of an ELF binary or library, for uprobes."""
        return ()

    def usdt_probes(self, path: str) -> Iterable[tuple[str, str]]:
        """(provider, name) of the USDT notes in an ELF binary."""
        return ()

    def software_events(self) -> Iterable[str]:
        return SOFTWARE_EVENTS.keys()

    def hardware_events(self) -> Iterable[str]:
        return HARDWARE_EVENTS.keys()


class NoFacts(KernelFacts):
    """No kernel access at all (not root, no BTF, a test)."""


@dataclass
class FixtureFacts(KernelFacts):
    """Facts given as data, for tests and for editors without kernel access."""

    records: dict[tuple[str, str], CRecord] = field(default_factory=dict)
    enums: dict[str, CEnum] = field(default_factory=dict)
    typedefs: dict[str, CType] = field(default_factory=dict)
    functions: dict[str, CFunction] = field(default_factory=dict)
    tracepoint_formats: dict[tuple[str, str], Tracepoint] = field(default_factory=dict)
    binaries: dict[str, list[str]] = field(default_factory=dict)
    usdt: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    has_types: bool = True
    has_tracepoints: bool = True

    def record(self, kind, name):
        return self.records.get((kind, name))

    def enum(self, name):
        return self.enums.get(name)

    def enumerator(self, name):
        for enum in self.enums.values():
            for value_name, value in enum.values:
                if value_name == name:
                    return enum, value
        return None

    def typedef(self, name):
        return self.typedefs.get(name)

    def function(self, name):
        return self.functions.get(name)

    def tracepoint(self, category, event):
        return self.tracepoint_formats.get((category, event))

    def tracepoints(self):
        return list(self.tracepoint_formats)

    def kernel_functions(self):
        return list(self.functions)

    def binary_functions(self, path):
        return self.binaries.get(path, [])

    def usdt_probes(self, path):
        return self.usdt.get(path, [])


def has_wildcard(text: str) -> bool:
    """A '*' or '?', or a '[...]' class: bpftrace's wildcards (we also take
    '?', which no probe name contains)."""
    return "*" in text or "?" in text or ("[" in text and "]" in text)


def matching(pattern: str, names: Iterable[str]) -> list[str]:
    """Names matching a bpftrace wildcard pattern (`*`, `?`, `[...]`)."""
    return sorted(name for name in names if fnmatch.fnmatchcase(name, pattern))
