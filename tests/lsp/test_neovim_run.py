"""Run from a real headless Neovim: the editors/neovim config a user loads,
its code lenses, `vim.lsp.codelens.run()` on a probe's lens line, the output
streaming into the btls://output buffer, and :BtlsStop bringing the final
map. The server runs btc for real, so this needs root (marker `bpf`).

Like test_neovim.py, the Lua driver prints one line per result (LENS, OUT)
and exits with `cquit` when a check fails.
"""

from __future__ import annotations

import json
import os
import re

import pytest
from test_neovim import LUA_PRELUDE, NEOVIMS, _lsp_log, run_neovim

pytestmark = [
    pytest.mark.bpf,
    pytest.mark.skipif(os.geteuid() != 0, reason="running btc needs root"),
]

# Line 1 has three lenses (Run, Verify, Run probe); line 2 only "Run probe".
SCRIPT = 'BEGIN { printf("begin\\n"); }\ninterval:ms:100 { @n++; printf("tick %d\\n", @n); }\n'

DRIVER = LUA_PRELUDE + r"""

local function output_lines()
  local buffer = vim.fn.bufnr('btls://output')
  if buffer == -1 then
    return {}
  end
  return vim.api.nvim_buf_get_lines(buffer, 0, -1, false)
end

local function output_has(pattern)
  for _, line in ipairs(output_lines()) do
    if line:find(pattern) then
      return true
    end
  end
  return false
end

local function main()
  vim.cmd('filetype on')
  vim.g.btls = { settings = { kernelFacts = 'fixtures.kernel:fixture_facts', debounceMs = 0 } }
  dofile(os.getenv('BTLS_NVIM_CONFIG'))
  vim.cmd('edit ' .. vim.fn.fnameescape(os.getenv('BTLS_TEST_FILE')))

  -- The config refreshes lenses when the server attaches.
  if not vim.wait(20000, function() return #vim.lsp.codelens.get(0) >= 4 end, 20) then
    return fail('no code lenses within 20 s: ' .. vim.inspect(vim.lsp.codelens.get(0)))
  end
  local lenses = vim.lsp.codelens.get(0)
  table.sort(lenses, function(a, b)
    return a.range.start.line < b.range.start.line
      or (a.range.start.line == b.range.start.line and a.command.title < b.command.title)
  end)
  for _, lens in ipairs(lenses) do
    say(string.format('LENS %d %s %s %s', lens.range.start.line, lens.command.title, lens.command.command,
      vim.fn.json_encode(lens.command.arguments)))
  end

  -- The cursor on the second probe's line: its one lens runs that probe.
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  vim.lsp.codelens.run()
  if not vim.wait(30000, function() return output_has('^tick 3$') end, 20) then
    return fail('no streamed output within 30 s: ' .. vim.inspect(output_lines()))
  end
  vim.cmd('BtlsStop')
  if not vim.wait(30000, function() return output_has('^%[btls%] run 1 ended') end, 20) then
    return fail('the run did not end within 30 s: ' .. vim.inspect(output_lines()))
  end
  for _, line in ipairs(output_lines()) do
    say('OUT ' .. line)
  end
  say('DONE')
  vim.cmd('qall!')
end

local ok, problem = xpcall(main, debug.traceback)
if not ok then
  fail('error: ' .. tostring(problem):gsub('\n', ' | '))
end
"""


@pytest.mark.parametrize(("nvim", "config"), NEOVIMS)
def test_neovim_runs_a_probe_from_its_code_lens_and_stops_it(nvim, config, tmp_path) -> None:
    if nvim is None:
        pytest.skip(f"no Neovim for {config} (see test_neovim.py)")
    script = tmp_path / "ticks.bt"
    run = run_neovim(nvim, config, tmp_path, script.name, SCRIPT, DRIVER, timeout=120)
    lines = run.stdout.splitlines()
    report = f"rc={run.returncode}\nstdout:\n{run.stdout}\nstderr:\n{run.stderr}\nlsp.log:\n{_lsp_log(tmp_path)}"
    assert run.returncode == 0, report
    assert lines[-1] == "DONE", report
    uri = script.as_uri()
    lenses = []
    for line in lines:
        if line.startswith("LENS "):
            number, title_and_command, arguments = re.match(r"LENS (\d+) (.*?) (\[.*\])$", line).groups()
            lenses.append((int(number), *title_and_command.rsplit(" ", 1), json.loads(arguments)))
    assert lenses == [
        (0, "▶ Run", "btls.run", [{"uri": uri}]),
        (0, "▶ Run probe", "btls.run", [{"uri": uri, "probe": 0, "line": 0}]),
        (0, "✓ Verify", "btls.verify", [{"uri": uri}]),
        (1, "▶ Run probe", "btls.run", [{"uri": uri, "probe": 1, "line": 1}]),
    ], report
    output = [line[4:] for line in lines if line.startswith("OUT ")]
    # The status line, btc's own, the ticks, then after the stop the map
    # (counting every tick printed) and the end.
    assert output[0] == "[btls] run 1: btc ticks.bt, probe 2 (interval:ms:100, line 2)", report
    assert output[1] == "Attaching 1 probe...", report
    assert "begin" not in output, report
    ticks = [line for line in output if line.startswith("tick ")]
    assert ticks == [f"tick {n}" for n in range(1, len(ticks) + 1)] and len(ticks) >= 3, report
    assert f"@n: {len(ticks)}" in output, report
    assert output[-2:] == ["[btls] run 1 ended: exit status 0", ""], report
