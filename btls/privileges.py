"""How `btls.run` gets root for btc: nothing when the server is root, else a
wrapper that never asks for a password (a language server has no terminal
to ask in).

`run.privilege` (btls/settings.py) chooses it:

| value | wrapper |
|---|---|
| `auto` | none when the server runs as root, else `sudo -n` |
| `none` | none (btc then fails to load its programs unless it may) |
| `sudo` | `sudo -n`: fails at once when sudo would want a password |
| `pkexec` | `pkexec`: polkit asks through the desktop's authentication agent |

Everything here returns plain values or messages; run.py shows them.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from typing import Callable, Optional

SUDO_CHECK_SECONDS = 10


class PrivilegeError(Exception):
    """The chosen wrapper cannot be used; the message says what to do."""


def wrapper(privilege: str, euid: Optional[int] = None, which: Callable = shutil.which) -> list[str]:
    """The argv prefix that runs btc as root, or PrivilegeError."""
    euid = os.geteuid() if euid is None else euid
    if privilege == "auto":
        privilege = "none" if euid == 0 else "sudo"
    if privilege == "none":
        return []
    if privilege == "sudo":
        path = which("sudo")
        if path is None:
            raise PrivilegeError(
                "btls: running btc needs root, and sudo is not installed. Start the editor as root, "
                'or set run.privilege to "pkexec".'
            )
        return [path, "-n"]
    if privilege == "pkexec":
        path = which("pkexec")
        if path is None:
            raise PrivilegeError(
                'btls: run.privilege is "pkexec", and pkexec is not installed (package polkitd / pkexec). '
                'Set run.privilege to "sudo" or start the editor as root.'
            )
        return [path]
    raise PrivilegeError(f"btls: unknown run.privilege {privilege!r}: use auto, none, sudo or pkexec.")


def is_sudo(prefix: list[str]) -> bool:
    return bool(prefix) and os.path.basename(prefix[0]) == "sudo"


def is_pkexec(prefix: list[str]) -> bool:
    return bool(prefix) and os.path.basename(prefix[0]) == "pkexec"


async def check(prefix: list[str]) -> Optional[str]:
    """None when the wrapper will run btc without asking anyone, else why not.

    Only sudo can be asked beforehand (`sudo -n true` fails at once when it
    would want a password); pkexec's answer comes when it runs."""
    if not is_sudo(prefix):
        return None
    process = await asyncio.create_subprocess_exec(
        *prefix, "true",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        _, errors = await asyncio.wait_for(process.communicate(), SUDO_CHECK_SECONDS)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        return f"btls: `sudo -n true` did not answer within {SUDO_CHECK_SECONDS} s; btc was not started."
    if process.returncode == 0:
        return None
    said = errors.decode("utf-8", "replace").strip()
    return (
        "btls: running btc needs root, and sudo wants a password, which btls cannot ask for"
        f"{f' (sudo said: {said})' if said else ''}. Allow it without one (a sudoers NOPASSWD rule for "
        'this python), run `sudo -v` in a terminal first, set run.privilege to "pkexec", '
        "or start the editor as root."
    )


def explain_exit(prefix: list[str], status: int) -> Optional[str]:
    """What an exit status means when it came from the wrapper rather than btc."""
    if is_pkexec(prefix):
        if status == 126:
            return "pkexec: the authentication was dismissed, so btc did not run"
        if status == 127:
            return "pkexec: not authorized (or no polkit authentication agent is running), so btc did not run"
    if is_sudo(prefix) and status == 1:
        return "(if sudo refused: allow this command without a password, or set run.privilege)"
    return None
