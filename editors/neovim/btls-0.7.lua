-- btls, the bpftrace language server, for Neovim 0.7 to 0.10.
--
-- Neovim 0.11 and later: use btls-0.11.lua (vim.lsp.config) instead.
--
-- Install: copy this file to ~/.config/nvim/plugin/btls.lua (files there are
-- sourced at startup), or load it from your init.lua with
--     dofile('/path/to/editors/neovim/btls-0.7.lua')
-- or from init.vim with
--     luafile /path/to/editors/neovim/btls-0.7.lua
--
-- Options, all optional, set before this file runs:
--     vim.g.btls = {
--       cmd = { '/path/to/btls/.venv/bin/btls' },  -- default: $BTLS_CMD, else 'btls' on $PATH
--       settings = { debounceMs = 150, kernelFacts = 'live' },  -- sent as initializationOptions.btls
--       output = 'buffer',                          -- where run output goes: 'buffer' or 'notify'
--       keymaps = true,                             -- the buffer-local maps below
--     }
--
-- Maps, in bpftrace buffers once the server is attached:
--     K           hover                  gd          go to definition
--     gr          references             <leader>rn  rename
--     <leader>cl  run the code lens on the cursor line (e.g. "Run" above a probe)
--     <leader>cs  stop the run (:BtlsStop)
--
-- Commands, in bpftrace buffers: :BtlsRun (the file), :BtlsRunProbe (the
-- probe under the cursor), :BtlsStop. Run output streams into the
-- btls://output buffer.
--     [d / ]d     previous / next diagnostic

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

-- The server reads its settings from initializationOptions (Neovim 0.7 has
-- no workspace/configuration), under a `btls` key. outputNotification: this
-- config shows `btls/output` itself (below), so run output comes that way
-- rather than as log messages.
local function init_options()
  local settings = type(options.settings) == 'table' and options.settings or {}
  return { btls = vim.tbl_extend('keep', settings, { outputNotification = true }) }
end

---------------------------------------------------------------- filetype

-- Neovim 0.7 to 0.11 do not detect bpftrace: *.bt files, and files whose
-- first line is a bpftrace shebang (`#!/usr/bin/env bpftrace`).
local group = vim.api.nvim_create_augroup('btls', { clear = true })

vim.api.nvim_create_autocmd({ 'BufRead', 'BufNewFile' }, {
  group = group,
  pattern = '*.bt',
  command = 'setfiletype bpftrace',
})
vim.api.nvim_create_autocmd({ 'BufRead', 'BufNewFile' }, {
  group = group,
  pattern = '*',
  command = [[if getline(1) =~# '^#!.*\<bpftrace\>' | setfiletype bpftrace | endif]],
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
  vim.api.nvim_buf_set_option(output_buffer, 'bufhidden', 'hide')
  return output_buffer
end

local function show(buffer)
  if vim.fn.bufwinid(buffer) ~= -1 then
    return
  end
  local previous = vim.api.nvim_get_current_win()
  vim.cmd('botright 10split')
  vim.api.nvim_win_set_buf(0, buffer)
  vim.api.nvim_set_current_win(previous)
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
  map('gr', vim.lsp.buf.references, 'references')
  map('<leader>rn', vim.lsp.buf.rename, 'rename')
  map('<leader>cl', vim.lsp.codelens.run, 'run code lens')
  map('<leader>cs', '<cmd>BtlsStop<cr>', 'stop the run')
  map('[d', vim.diagnostic.goto_prev, 'previous diagnostic')
  map(']d', vim.diagnostic.goto_next, 'next diagnostic')
end

-- Code lenses are shown only after a refresh; before 0.10 refresh() works on
-- the current buffer, hence nvim_buf_call.
local function refresh_lenses(buffer)
  vim.api.nvim_buf_call(buffer, function()
    vim.lsp.codelens.refresh()
  end)
end

local function on_attach(client, buffer)
  add_run_commands(buffer)
  if options.keymaps ~= false then
    set_keymaps(buffer)
  end
  -- Asking a server without code lenses would print an error each time.
  if client.server_capabilities.codeLensProvider then
    vim.api.nvim_create_autocmd({ 'BufEnter', 'CursorHold', 'InsertLeave' }, {
      group = group,
      buffer = buffer,
      callback = function()
        refresh_lenses(buffer)
      end,
    })
    refresh_lenses(buffer)
  end
end

-- The project root: the nearest directory above the file holding .git,
-- else the file's own directory. One server runs per root.
local function root_dir(path)
  if path == '' then
    return vim.fn.getcwd()
  end
  local dir = vim.fn.fnamemodify(path, ':p:h')
  local search = vim.fn.escape(dir, ' ,') .. ';'
  local git_dir = vim.fn.finddir('.git', search)
  if git_dir ~= '' then
    return vim.fn.fnamemodify(git_dir, ':p:h:h')
  end
  local git_file = vim.fn.findfile('.git', search) -- worktrees and submodules
  if git_file ~= '' then
    return vim.fn.fnamemodify(git_file, ':p:h')
  end
  return dir
end

local clients = {} -- root directory -> client id

local function attach(buffer)
  local root = root_dir(vim.api.nvim_buf_get_name(buffer))
  local id = clients[root]
  if id == nil or vim.lsp.get_client_by_id(id) == nil or vim.lsp.client_is_stopped(id) then
    id = vim.lsp.start_client({
      name = 'btls',
      cmd = server_command(),
      root_dir = root,
      init_options = init_options(),
      handlers = { ['btls/output'] = on_output },
      on_attach = on_attach,
      on_exit = function()
        clients[root] = nil
      end,
    })
    if id == nil then
      return -- start_client has said why
    end
    clients[root] = id
  end
  vim.lsp.buf_attach_client(buffer, id)
end

vim.api.nvim_create_autocmd('FileType', {
  group = group,
  pattern = 'bpftrace',
  callback = function(event)
    attach(event.buf)
  end,
})
