-- Drives a headless Neovim against `camp lsp` (see tests/nvim.rs):
--   nvim --headless -u NONE -c 'luafile tests/nvim/e2e.lua'
-- Environment: CAMP_BIN (the camp binary), CAMP_RTP (editors/nvim),
-- CAMP_FILE (the file to open), CAMP_COMPLETE_LINE/COL (0-based, where to
-- ask for completion), CAMP_OUT (where the results go, as JSON).
-- Every step records what it saw; the Rust test judges.

local out = { steps = {} }

local function finish()
  local f = io.open(os.getenv('CAMP_OUT'), 'w')
  f:write(vim.fn.json_encode(out))
  f:close()
  vim.cmd('qall!')
end

local function step(name, fn)
  local ok, err = pcall(fn)
  table.insert(out.steps, { name = name, ok = ok, err = ok and vim.NIL or tostring(err) })
  return ok
end

vim.opt.runtimepath:append(os.getenv('CAMP_RTP'))
vim.cmd('filetype plugin on')
vim.cmd('syntax on')
vim.cmd('runtime! ftdetect/camp.vim')

require('camp.lsp').setup({ cmd = { os.getenv('CAMP_BIN'), 'lsp' } })
vim.cmd('edit ' .. vim.fn.fnameescape(os.getenv('CAMP_FILE')))
local buf = vim.api.nvim_get_current_buf()
out.filetype = vim.bo[buf].filetype

local function clients(b)
  if vim.lsp.get_clients then
    return vim.lsp.get_clients({ bufnr = b })
  end
  return vim.lsp.buf_get_clients(b)
end

step('attach', function()
  local attached = vim.wait(20000, function()
    return #clients(buf) > 0
  end, 20)
  assert(attached, 'no client attached')
end)

step('diagnostics', function()
  local arrived = vim.wait(20000, function()
    return #vim.diagnostic.get(buf) > 0
  end, 20)
  assert(arrived, 'no diagnostics arrived')
  out.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local lsp = d.user_data and d.user_data.lsp or {}
    table.insert(out.diagnostics, {
      code = lsp.code or d.code,
      message = d.message,
      lnum = d.lnum,
      col = d.col,
      end_lnum = d.end_lnum,
      end_col = d.end_col,
      href = lsp.codeDescription and lsp.codeDescription.href or vim.NIL,
    })
  end
end)

step('completion', function()
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = tonumber(os.getenv('CAMP_COMPLETE_LINE')), character = tonumber(os.getenv('CAMP_COMPLETE_COL')) },
  }
  local responses = vim.lsp.buf_request_sync(buf, 'textDocument/completion', params, 10000)
  assert(responses, 'no completion response')
  out.completion = {}
  for _, r in pairs(responses) do
    local items = r.result and (r.result.items or r.result) or {}
    for _, item in ipairs(items) do
      table.insert(out.completion, item.label)
    end
  end
end)

step('hover', function()
  local line = tonumber(os.getenv('CAMP_COMPLETE_LINE'))
  local col = tonumber(os.getenv('CAMP_COMPLETE_COL')) + 2
  local responses = vim.lsp.buf_request_sync(buf, 'textDocument/hover', {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = line, character = col },
  }, 10000)
  out.hover = vim.NIL
  for _, r in pairs(responses or {}) do
    if r.result and r.result.contents then
      out.hover = r.result.contents.value
    end
  end
end)

step('formatting', function()
  require('camp.lsp').format(buf, 10000)
  out.formatted = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n') .. '\n'
end)

finish()
