"""The on-disk cache of compiled programs: a second `btc script.bt` with
the same source, arguments and flags, on the same kernel, with the same
btc, skips the frontend and LLVM and starts the runtime at once.

An entry is a directory under $XDG_CACHE_HOME/btls/objects (default
~/.cache/btls/objects) named by the key's hash: the object, its
description (program.ProgramInfo as JSON) and the diagnostics text the
compile printed (warnings are printed again on a hit). This module imports
nothing heavy: the CLI asks it before it loads the frontend.
"""

from __future__ import annotations

import os
from typing import Optional

# Plain os.path rather than pathlib, and tempfile/shutil only when storing:
# this module is on the path of every cached run, where imports dominate.
# For the same reason SHA-256 comes from CPython's own module when there is
# one: hashlib loads OpenSSL's libcrypto first (2-3 ms).
try:
    from _sha256 import sha256  # CPython 3.11
except ImportError:  # pragma: no cover - other versions
    try:
        from _sha2 import sha256  # CPython 3.12+
    except ImportError:
        from hashlib import sha256

KEEP_ENTRIES = 64  # the most recently used entries survive a clean-up
_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def cache_root() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "btls", "objects")


def cache_key(source: str, arguments: list[str], flags: dict) -> str:
    digest = sha256()
    for part in (source, "\0".join(arguments), repr(sorted(flags.items())), _kernel_identity(), _btc_identity()):
        digest.update(part.encode("utf-8", "surrogateescape"))
        digest.update(b"\1")
    return digest.hexdigest()[:32]


def load(key: str) -> Optional[tuple[bytes, str, str]]:
    """(object, info JSON, diagnostics text) for `key`, or None."""
    entry = os.path.join(cache_root(), key)
    try:
        with open(os.path.join(entry, "program.o"), "rb") as f:
            obj = f.read()
        with open(os.path.join(entry, "info.json"), encoding="utf-8") as f:
            info = f.read()
        with open(os.path.join(entry, "diagnostics.txt"), encoding="utf-8") as f:
            printed = f.read()
    except OSError:
        return None
    try:
        os.utime(entry)  # recently used: kept by the clean-up
    except OSError:
        pass
    return obj, info, printed


def store(key: str, obj: bytes, info_json: str, printed: str) -> None:
    """Save an entry (atomically: a directory renamed into place); a cache
    that cannot be written is silently skipped."""
    import shutil
    import tempfile

    root = cache_root()
    try:
        os.makedirs(root, exist_ok=True)
        staging = tempfile.mkdtemp(dir=root, prefix=".new-")
        with open(os.path.join(staging, "program.o"), "wb") as f:
            f.write(obj)
        with open(os.path.join(staging, "info.json"), "w", encoding="utf-8") as f:
            f.write(info_json)
        with open(os.path.join(staging, "diagnostics.txt"), "w", encoding="utf-8") as f:
            f.write(printed)
        target = os.path.join(root, key)
        if os.path.exists(target):
            shutil.rmtree(target, ignore_errors=True)
        os.rename(staging, target)
        _clean_up(root)
    except OSError:
        return


def _clean_up(root: str) -> None:
    import shutil

    entries = [os.path.join(root, n) for n in os.listdir(root) if not n.startswith(".")]
    if len(entries) <= KEEP_ENTRIES:
        return
    entries.sort(key=os.path.getmtime, reverse=True)
    for old in entries[KEEP_ENTRIES:]:
        shutil.rmtree(old, ignore_errors=True)


def _kernel_identity() -> str:
    """The running kernel and its types: a new kernel or BTF means new
    tracepoint formats, struct layouts and helpers."""
    parts = [os.uname().release, os.uname().version]
    try:
        stat = os.stat("/sys/kernel/btf/vmlinux")
        parts.append(f"{stat.st_size}:{stat.st_mtime_ns}")
    except OSError:
        parts.append("no-btf")
    return "|".join(parts)


def _btc_identity() -> str:
    """Which btc made the object: the size and time of every module of the
    compiler (a few hundred stat calls; reading them would cost more)."""
    digest = sha256()
    for directory, _dirs, files in sorted(os.walk(_PACKAGE)):
        for name in sorted(files):
            if name.endswith((".py", ".lark")):
                stat = os.stat(os.path.join(directory, name))
                digest.update(f"{directory}/{name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()
