-- btls, the bpftrace language server, for Neovim 0.11 and later
-- (vim.lsp.config and vim.lsp.enable).
--
-- Neovim 0.7 to 0.10: use btls-0.7.lua instead.
--
-- Install: copy this file to ~/.config/nvim/plugin/btls.lua (files there are
-- sourced at startup), or load it from your init.lua with
--     dofile('/path/to/editors/neovim/btls-0.11.lua')
--
-- Options, all optional, set before this file runs:
--     vim.g.btls = {
--       cmd = { '/path/to/btls/.venv/bin/btls' },  -- default: $BTLS_CMD, else 'btls' on $PATH
--       settings = { debounceMs = 150, kernelFacts = 'live' },  -- the server's settings
--       output = 'buffer',                          -- where run output goes: 'buffer' or 'notify'
--       keymaps = true,                             -- the buffer-local maps below
--     }
-- Later calls of vim.lsp.config('btls', {...}) in your own config are merged
-- over what this file sets, as for any server.
--
-- Maps, in bpftrace buffers once the server is attached (Neovim 0.11's
-- defaults also apply: grn rename, grr references, gra code action, [d ]d):
--     K           hover                  gd          go to definition
--     <leader>rn  rename
--     <leader>cl  run the code lens on the cursor line (e.g. "Run" above a probe)
--     <leader>cs  stop the run (:BtlsStop)
--
-- Commands, in bpftrace buffers: :BtlsRun (the file), :BtlsRunProbe (the
-- probe under the cursor), :BtlsStop. Run output streams into the
-- btls://output buffer.

local options = vim.g.btls or {}

-- The server command: vim.g.btls.cmd, else $BTLS_CMD (an executable path,
-- or a command line split on spaces), else `btls` on $PATH.
local function server_command()
  if type(options.cmd) == 'table' and #options.cmd > 0 then
    return options.cmd
  end
  if type(options.cmd) == 'string' and options.cmd ~= '' then
    return { options.cmd }
  end
  local from_env = vim.trim(os.getenv('BTLS_CMD') or '')
  if from_env ~= '' then
    if vim.fn.executable(from_env) == 1 then
      return { from_env }
    end
    return vim.split(from_env, '%s+')
  end
  return { 'btls' }
end

local settings = type(options.settings) == 'table' and options.settings or {}

---------------------------------------------------------------- filetype

-- Neovim 0.11 does not detect bpftrace: *.bt files, and files whose first
-- line is a bpftrace shebang (`#!/usr/bin/env bpftrace`). The shebang check
-- runs last (lowest priority), only when nothing else matched.
vim.filetype.add({
  extension = { bt = 'bpftrace' },
  pattern = {
    ['.*'] = {
      function(_, buffer)
        local first = vim.api.nvim_buf_get_lines(buffer, 0, 1, false)[1] or ''
        if vim.regex([[^#!.*\<bpftrace\>]]):match_str(first) then
          return 'bpftrace'
        end
      end,
      { priority = -math.huge },
    },
  },
})

------------------------------------------------------------------ output

-- `btls/output` notifications ({uri, runId, stream, text}) carry a running program's
-- output as it comes, in pieces that need not end at a line break.
local output_buffer = nil

local function get_output_buffer()
  if output_buffer and vim.api.nvim_buf_is_valid(output_buffer) then
    return output_buffer
  end
  output_buffer = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_name(output_buffer, 'btls://output')
  vim.bo[output_buffer].bufhidden = 'hide'
  return output_buffer
end

local function show(buffer)
  if vim.fn.bufwinid(buffer) ~= -1 then
    return
  end
  vim.api.nvim_open_win(buffer, false, { split = 'below', win = -1, height = 10 })
end

local function append_output(text)
  local buffer = get_output_buffer()
  -- Continue the last line: a piece may end in the middle of one.
  local count = vim.api.nvim_buf_line_count(buffer)
  local last = vim.api.nvim_buf_get_lines(buffer, count - 1, count, false)[1] or ''
  local lines = vim.split(last .. text, '\n', { plain = true })
  vim.api.nvim_buf_set_lines(buffer, count - 1, count, false, lines)
  show(buffer)
  for _, window in ipairs(vim.fn.win_findbuf(buffer)) do
    vim.api.nvim_win_set_cursor(window, { vim.api.nvim_buf_line_count(buffer), 0 })
  end
end

local function on_output(_, params)
  if type(params) ~= 'table' or type(params.text) ~= 'string' then
    return
  end
  if options.output == 'notify' then
    vim.notify(params.text, vim.log.levels.INFO, { title = 'btls' })
  else
    append_output(params.text)
  end
end

------------------------------------------------------------------- runs

-- btls.run runs the buffer's text (saved or not) with btc; btls.stop sends
-- it SIGINT, so the maps print. The server answers a refused run with a
-- window/showMessage saying why (errors, a run already active, no root).
local function execute(buffer, command, argument)
  local params = { command = command, arguments = { argument } }
  vim.lsp.buf_request(buffer, 'workspace/executeCommand', params, function() end)
end

local function add_run_commands(buffer)
  local uri = vim.uri_from_bufnr(buffer)
  vim.api.nvim_buf_create_user_command(buffer, 'BtlsRun', function()
    execute(buffer, 'btls.run', { uri = uri })
  end, { desc = 'btls: run this file with btc' })
  vim.api.nvim_buf_create_user_command(buffer, 'BtlsRunProbe', function()
    execute(buffer, 'btls.run', { uri = uri, line = vim.api.nvim_win_get_cursor(0)[1] - 1 })
  end, { desc = 'btls: run the probe under the cursor (with the preamble, macros and maps)' })
  vim.api.nvim_buf_create_user_command(buffer, 'BtlsStop', function()
    execute(buffer, 'btls.stop', {})
  end, { desc = 'btls: stop the run (SIGINT: the maps print)' })
  vim.api.nvim_buf_create_user_command(buffer, 'BtlsVerify', function()
    execute(buffer, 'btls.verify', { uri = uri })
  end, { desc = 'btls: load into the kernel without attaching; verifier errors become diagnostics' })
end

------------------------------------------------------------------ attach

local function set_keymaps(buffer)
  local function map(lhs, rhs, desc)
    vim.keymap.set('n', lhs, rhs, { buffer = buffer, silent = true, desc = 'btls: ' .. desc })
  end
  map('K', vim.lsp.buf.hover, 'hover')
  map('gd', vim.lsp.buf.definition, 'definition')
  map('<leader>rn', vim.lsp.buf.rename, 'rename')
  map('<leader>cl', vim.lsp.codelens.run, 'run code lens')
  map('<leader>cs', '<cmd>BtlsStop<cr>', 'stop the run')
end

local function on_attach(client, buffer)
  add_run_commands(buffer)
  if options.keymaps ~= false then
    set_keymaps(buffer)
  end
  -- Code lenses are shown only after a refresh.
  if client:supports_method('textDocument/codeLens') then
    local function refresh()
      vim.lsp.codelens.refresh({ bufnr = buffer })
    end
    vim.api.nvim_create_autocmd({ 'BufEnter', 'CursorHold', 'InsertLeave' }, {
      group = vim.api.nvim_create_augroup('btls-lenses-' .. buffer, { clear = true }),
      buffer = buffer,
      callback = refresh,
    })
    refresh()
  end
end

vim.lsp.config('btls', {
  cmd = server_command(),
  filetypes = { 'bpftrace' },
  root_markers = { '.git' },
  -- The same settings both ways: initializationOptions for the first
  -- analysis, `settings` for the server's workspace/configuration requests.
  -- outputNotification: this config shows `btls/output` itself (above), so
  -- run output comes that way rather than as log messages.
  init_options = { btls = vim.tbl_extend('keep', settings, { outputNotification = true }) },
  settings = { btls = settings },
  handlers = { ['btls/output'] = on_output },
  on_attach = on_attach,
})
vim.lsp.enable('btls')
