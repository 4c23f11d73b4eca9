"""`LiveFacts`: the `KernelFacts` of this machine, from BTF (btf.py),
tracefs (tracefs.py) and ELF files (elf.py).

Everything is lazy: constructing LiveFacts reads nothing; BTF is opened
(from the index cache when it can be) on the first type question, tracefs
is located (and, if absent and we are root, mounted, once) on the first
tracepoint question. Answers are memoised for the life of the object; a
long-running language server that wants fresh tracepoints or binaries
makes a new LiveFacts.

Besides the `KernelFacts` methods, LiveFacts offers a few extras that
`listing.py` uses when present: `raw_tracepoints()`, `iterators()`,
`tracepoint_declarations()`, and `resolve_binary()`.
"""

from __future__ import annotations

import os
from typing import Iterable, Optional

from . import tracefs
from .btf import VMLINUX, KernelBTF
from .ctypes import CEnum, CFunction, CRecord, CRecordRef, CType, Tracepoint
from .facts import KernelFacts, NoFacts
from .listing import RAW_TRACEPOINT_PREFIXES

_UNSET = object()
ITER_PREFIX = "bpf_iter__"


class LiveFacts(KernelFacts):
    def __init__(self, btf_path: str = VMLINUX, tracefs_root: Optional[str] = None,
                 cache_dir: object = "default", mount: bool = True):  # fmt: skip
        """`tracefs_root` None means "find it"; `cache_dir` as for
        `KernelBTF.open`; `mount=False` never tries to mount tracefs."""
        self._btf_path = btf_path
        self._cache_dir = cache_dir
        self._btf: object = _UNSET
        self._tracefs: object = _UNSET if tracefs_root is None else tracefs_root
        self._mount = mount
        self._tracepoints: Optional[list[tuple[str, str]]] = None
        self._formats: dict[tuple[str, str], Optional[Tracepoint]] = {}
        self._kernel_functions: Optional[list[str]] = None
        self._binaries: dict[tuple, list[str]] = {}
        self._usdt: dict[tuple, list] = {}
        self._targets: dict[str, list[str]] = {}

    # -- sources --------------------------------------------------------

    @property
    def btf(self) -> Optional[KernelBTF]:
        if self._btf is _UNSET:
            self._btf = KernelBTF.open(self._btf_path, self._cache_dir)
        return self._btf  # type: ignore[return-value]

    @property
    def tracefs_root(self) -> Optional[str]:
        if self._tracefs is _UNSET:
            root = tracefs.find_tracefs()
            if root is None and self._mount and tracefs.mount_tracefs():
                root = tracefs.find_tracefs()
            self._tracefs = root
        return self._tracefs  # type: ignore[return-value]

    @property
    def has_types(self) -> bool:  # type: ignore[override]
        return self.btf is not None

    @property
    def has_tracepoints(self) -> bool:  # type: ignore[override]
        root = self.tracefs_root
        if root is None:
            return False
        return any(os.access(os.path.join(root, name), os.R_OK)
                   for name in ("available_events", "events"))  # fmt: skip

    # -- types ----------------------------------------------------------

    def record(self, kind: str, name: str) -> Optional[CRecord]:
        btf = self.btf
        return btf.record(kind, name) if btf else None

    def record_of(self, ref: CRecordRef) -> Optional[CRecord]:
        btf = self.btf
        if btf is None:
            return None
        if not ref.name and isinstance(ref.key, int):
            return btf.record_by_id(ref.key)
        return btf.record(ref.kind, ref.name) if ref.name else None

    def enum(self, name: str) -> Optional[CEnum]:
        btf = self.btf
        return btf.enum(name) if btf else None

    def enumerator(self, name: str) -> Optional[tuple[CEnum, int]]:
        btf = self.btf
        return btf.enumerator(name) if btf else None

    def typedef(self, name: str) -> Optional[CType]:
        btf = self.btf
        return btf.typedef(name) if btf else None

    def function(self, name: str) -> Optional[CFunction]:
        btf = self.btf
        return btf.function(name) if btf else None

    # -- tracepoints ----------------------------------------------------

    def tracepoint(self, category: str, event: str) -> Optional[Tracepoint]:
        key = (category, event)
        if key not in self._formats:
            root = self.tracefs_root
            resolve = self.btf.typedef if self.btf else None
            self._formats[key] = (tracefs.read_tracepoint(root, category, event, resolve)
                                  if root else None)  # fmt: skip
        return self._formats[key]

    def tracepoints(self) -> Iterable[tuple[str, str]]:
        if self._tracepoints is None:
            root = self.tracefs_root
            self._tracepoints = tracefs.list_tracepoints(root) if root else []
        return self._tracepoints

    def tracepoint_declarations(self, category: str, event: str) -> list[str]:
        """The field declarations as the format file writes them, for -lv."""
        root = self.tracefs_root
        text = tracefs.read_format(root, category, event) if root else None
        return tracefs.declarations(text) if text else []

    # -- kernel functions -----------------------------------------------

    def kernel_functions(self) -> Iterable[str]:
        """Traceable functions: available_filter_functions when readable
        (it is what the kernel will attach to), else BTF's FUNC names."""
        if self._kernel_functions is None:
            names = self._filter_functions()
            if names is None:
                names = self.btf.names("func") if self.btf else []
            self._kernel_functions = names
        return self._kernel_functions

    def _filter_functions(self) -> Optional[list[str]]:
        root = self.tracefs_root
        if root is None:
            return None
        try:
            with open(os.path.join(root, "available_filter_functions"), errors="replace") as f:
                # Lines are "name" or "name [module]"; the same name can
                # appear more than once (static functions).
                return sorted({line.split()[0] for line in f if line.strip()})
        except OSError:
            return None

    def raw_tracepoints(self) -> list[str]:
        """Raw tracepoint names, from the BTF of their probe stubs."""
        names = set()
        for func in self.btf.names("func") if self.btf else []:
            for prefix in RAW_TRACEPOINT_PREFIXES:
                if func.startswith(prefix):
                    names.add(func[len(prefix) :])
        return sorted(names)

    def iterators(self) -> list[str]:
        """BPF iterator names (`task`, `task_file`), from `bpf_iter__*` structs."""
        structs = self.btf.names("struct") if self.btf else []
        # bpf_iter__task__safe_trusted and the like are verifier variants.
        return sorted(s[len(ITER_PREFIX) :] for s in structs
                      if s.startswith(ITER_PREFIX) and not s.endswith("__safe_trusted"))  # fmt: skip

    # -- binaries -------------------------------------------------------

    def resolve_binary(self, target: str) -> list[str]:
        """The files a uprobe/usdt target names (`libc`, `bash`, a path)."""
        if target not in self._targets:
            from . import elf

            self._targets[target] = elf.resolve_target(target)
        return self._targets[target]

    def _binary_key(self, path: str) -> Optional[tuple]:
        """(file, mtime, size): a rebuilt binary is read again."""
        resolved = self.resolve_binary(path)
        if not resolved:
            return None
        try:
            st = os.stat(resolved[0])
        except OSError:
            return None
        return resolved[0], st.st_mtime_ns, st.st_size

    def binary_functions(self, path: str) -> Iterable[str]:
        from . import elf

        key = self._binary_key(path)
        if key is None:
            return []
        if key not in self._binaries:
            self._binaries[key] = elf.function_symbols(key[0])
        return self._binaries[key]

    def usdt_probes(self, path: str) -> Iterable[tuple[str, str]]:
        return [(p.provider, p.name) for p in self.usdt_details(path)]

    def usdt_details(self, path: str) -> list:
        """`elf.USDTProbe`s (with argument specs) of a binary."""
        from . import elf

        key = self._binary_key(path)
        if key is None:
            return []
        if key not in self._usdt:
            self._usdt[key] = elf.usdt_probes(key[0])
        return self._usdt[key]


def default_facts() -> KernelFacts:
    """LiveFacts when this machine has BTF or tracefs, else NoFacts."""
    if os.access(VMLINUX, os.R_OK) or tracefs.find_tracefs() is not None:
        return LiveFacts()
    return NoFacts()
