-- The camp language server for Neovim (0.7 and later, built-in `vim.lsp`).
--
--   vim.opt.runtimepath:append('/path/to/camp/editors/nvim')
--   require('camp.lsp').setup()            -- or setup({ cmd = { '/path/to/camp', 'lsp' } })
--
-- Every `*.camp` buffer attaches to one `camp lsp` per workspace: the
-- nearest folder above the file holding `camp.toml` (else the file's own).
local M = {}

local defaults = {
  cmd = { 'camp', 'lsp' },
  on_attach = nil,
  capabilities = nil,
}

-- Workspace root -> client id.
local clients = {}

local function find_root(path)
  local dir = vim.fn.fnamemodify(path, ':p:h')
  while dir ~= nil and dir ~= '' do
    if vim.loop.fs_stat(dir .. '/camp.toml') then
      return dir
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then
      break
    end
    dir = parent
  end
  return vim.fn.fnamemodify(path, ':p:h')
end

--- Attaches buffer `bufnr` to the server of its workspace (started if needed).
function M.attach(bufnr, opts)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' then
    name = vim.fn.getcwd() .. '/untitled.camp'
  end
  local root = find_root(name)
  local id = clients[root]
  if id == nil or vim.lsp.get_client_by_id(id) == nil then
    id = vim.lsp.start_client({
      name = 'camp',
      cmd = opts.cmd,
      root_dir = root,
      workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
      on_attach = opts.on_attach,
      capabilities = opts.capabilities or vim.lsp.protocol.make_client_capabilities(),
    })
    clients[root] = id
  end
  if id ~= nil then
    vim.lsp.buf_attach_client(bufnr, id)
  end
  return id
end

--- Starts the server for camp buffers; `opts.cmd` overrides `{ 'camp', 'lsp' }`.
function M.setup(opts)
  opts = vim.tbl_extend('force', defaults, opts or {})
  local group = vim.api.nvim_create_augroup('camp_lsp', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = 'camp',
    callback = function(args)
      M.attach(args.buf, opts)
    end,
  })
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and vim.bo[buf].filetype == 'camp' then
      M.attach(buf, opts)
    end
  end
end

--- Formats the buffer with `camp fmt`'s layout, on any Neovim version.
function M.format(bufnr, timeout_ms)
  timeout_ms = timeout_ms or 5000
  if vim.lsp.buf.format then
    vim.lsp.buf.format({ bufnr = bufnr, timeout_ms = timeout_ms, name = 'camp' })
  else
    vim.lsp.buf.formatting_sync(nil, timeout_ms)
  end
end

return M
