"""The VS Code extension's own test suite (vscode-extension/, `npm test`),
run from pytest so that ./scripts/test.sh and CI cover it.

Skipped when node or npm is missing. `npm ci` runs only when the installed
node_modules do not match package-lock.json (and this node); then each part
of `npm test` is its own test: lint (after tsc), the unit tests with a
stubbed vscode, the TextMate grammar tests, `vsce package`, and the LSP
test against the real btls of this checkout (its run part needs root).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXTENSION = Path(__file__).resolve().parent.parent / "vscode-extension"
STAMP = EXTENSION / "node_modules" / ".btls-installed"
# `npm test` is these scripts in this order (after `npm run compile`).
PARTS = ["lint", "test:unit", "test:grammar", "test:package", "test:integration"]

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="node and npm are needed for the VS Code extension's tests",
)


def _npm(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "BTLS_PYTHON": sys.executable, "NO_COLOR": "1", "FORCE_COLOR": "0"}
    return subprocess.run(
        ["npm", *args], cwd=EXTENSION, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
    )  # fmt: skip


def _lock_digest() -> str:
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout
    return hashlib.sha256((EXTENSION / "package-lock.json").read_bytes() + node.encode()).hexdigest()


def _check(result: subprocess.CompletedProcess, what: str) -> str:
    assert result.returncode == 0, f"{what} failed (exit {result.returncode}):\n{result.stdout[-20000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def built() -> None:
    digest = _lock_digest()
    if not STAMP.exists() or STAMP.read_text() != digest:
        _check(_npm("ci", "--no-audit", "--no-fund"), "npm ci")
        STAMP.write_text(digest)
    _check(_npm("run", "compile"), "tsc (npm run compile)")


def test_npm_test_is_these_parts() -> None:
    script = json.loads((EXTENSION / "package.json").read_text())["scripts"]["test"]
    assert script == " && ".join(["npm run compile", *(f"npm run {part}" for part in PARTS)])


@pytest.mark.parametrize("part", PARTS)
def test_extension(built: None, part: str) -> None:
    output = _check(_npm("run", part), f"npm run {part}")
    if part == "test:integration":
        # mocha prints why a part was skipped (no root, no Python): show it.
        for line in output.splitlines():
            if "skipped:" in line:
                print(line.strip())
