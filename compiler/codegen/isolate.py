"""Running LLVM where it cannot take the process down.

LLVM's BPF backend reports some errors by calling exit() (a stack over 512
bytes, a memset it cannot lower) and its assertions call abort(); llvmlite
gives Python no chance to catch either. bpf_module.py checks for the causes
we know, but the CLI must never vanish without a word, so the object is
made in a forked child: the parent reads the object (or the error LLVM
printed) from pipes. A fork costs a few milliseconds.

Memory: the child is what makes `btc` without its object cache as big as
it gets: the parent's memory (about 20 MB that fork shares) plus LLVM, a
170 MB library whose loading alone (relocations, static constructors)
touches some 40 MB of code and read-only data that compiling never uses
again. So the child loads LLVM first and then drops the clean file-backed
pages it holds (`_drop_clean_file_pages`); compiling refaults the ones it
needs from the page cache. Peak RSS of a run: about 100 MB before, 83 MB
after, most of it the part of LLVM that compiling touches.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from typing import Callable

from .errors import CodegenError


def run_isolated(work: Callable[[], bytes]) -> bytes:
    result_read, result_write = os.pipe()
    printed = tempfile.TemporaryFile()  # a file, not a pipe: LLVM may print a lot
    pid = os.fork()
    if pid == 0:  # the child: do the work, send the answer, and leave at once
        os.close(result_read)
        os.dup2(printed.fileno(), 2)  # whatever LLVM prints is the error message
        try:
            _slim_down()
            answer = ("ok", work())
        except CodegenError as exc:
            answer = ("error", str(exc))
        except BaseException as exc:  # noqa: BLE001 - reported by the parent
            answer = ("error", f"{type(exc).__name__}: {exc}")
        with os.fdopen(result_write, "wb") as out:
            out.write(pickle.dumps(answer))
        os._exit(0)
    os.close(result_write)
    with os.fdopen(result_read, "rb") as results:
        data = results.read()
    _, status = os.waitpid(pid, 0)
    printed.seek(0)
    text = printed.read().decode("utf-8", "replace").strip()
    printed.close()
    if data:
        kind, value = pickle.loads(data)
        if kind == "ok":
            return value
        raise CodegenError(value)
    reason = text.splitlines()[-1] if text else f"exit status {os.waitstatus_to_exitcode(status)}"
    raise CodegenError(f"LLVM could not compile the program: {reason}")


def _slim_down() -> None:
    """In the child: loads LLVM, then drops the pages its loading touched."""
    from llvmlite import binding  # noqa: F401 - loads libllvmlite.so and runs its constructors

    _drop_clean_file_pages()


_MADV_DONTNEED = 4


def _drop_clean_file_pages() -> None:
    """Unmaps the pages of this process's private, read-only, file-backed
    mappings that hold no modified page: code and read-only data of the
    interpreter and its libraries. The kernel may evict exactly these
    pages at any time under memory pressure, and refaults them from the
    page cache on the next access, so dropping them changes nothing but the
    resident size. A mapping with any written page (relocated data made
    read-only afterwards, shared copy-on-write pages of the parent) is left
    alone: dropping it would lose what was written. Best effort: any
    failure leaves the memory as it was."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        madvise = libc.madvise
        madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        for start, end in _clean_file_mappings():
            madvise(start, end - start, _MADV_DONTNEED)
    except (OSError, AttributeError, ValueError):
        return


def _clean_file_mappings() -> list[tuple[int, int]]:
    """(start, end) of each private, non-writable, file-backed mapping of
    this process with no dirty and no anonymous page, from /proc/self/smaps."""
    found = []
    current = None  # [start, end, eligible, written]
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            head, _, rest = line.partition(" ")
            if "-" in head and not head.endswith(":"):  # "7f..-7f.. r-xp 0000 08:01 1234 /path"
                if current is not None and current[2] and not current[3]:
                    found.append((current[0], current[1]))
                fields = rest.split()
                perms = fields[0]
                path = fields[4] if len(fields) >= 5 else ""
                start, end = (int(part, 16) for part in head.split("-"))
                eligible = path.startswith("/") and perms[1] == "-" and perms[3] == "p"
                current = [start, end, eligible, False]
            elif head in ("Private_Dirty:", "Shared_Dirty:", "Anonymous:") and current is not None:
                if int(rest.split()[0]) != 0:
                    current[3] = True
    if current is not None and current[2] and not current[3]:
        found.append((current[0], current[1]))
    return found
