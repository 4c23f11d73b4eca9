"""Running LLVM where it cannot take the process down.

LLVM's BPF backend reports some errors by calling exit() (a stack over 512
bytes, a memset it cannot lower) and its assertions call abort(); llvmlite
gives Python no chance to catch either. bpf_module.py checks for the causes
we know, but the CLI must never vanish without a word, so the object is
made in a forked child: the parent reads the object (or the error LLVM
printed) from pipes. A fork of a process that already holds LLVM costs a
few milliseconds.
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
