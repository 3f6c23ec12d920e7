-- Drives Neovim's built-in LSP client the way a user would, headless, for
-- test/tools/editor_test.py: the file is open (and grpc-leak-clangd started
-- by the user's init.lua, the guide's snippet); wait for the diagnostics,
-- print them as Neovim holds them, run the code action menu on the warning
-- the test names and pick the action it names, then print the buffer around
-- the edit and wait for the server to drop that warning.
--
-- Environment: EDITOR_TEST_OUT (output file), EDITOR_TEST_CHECK (the check
-- whose warning gets the code action), EDITOR_TEST_ACTION (a Lua pattern the
-- chosen action's title must match), EDITOR_TEST_TIMEOUT (seconds per wait).
-- Exits 0 when every step happened, 1 (after saying why) otherwise.

local out = assert(io.open(assert(os.getenv('EDITOR_TEST_OUT')), 'w'))
local check = assert(os.getenv('EDITOR_TEST_CHECK'))
local action_pattern = assert(os.getenv('EDITOR_TEST_ACTION'))
local timeout_ms = assert(tonumber(os.getenv('EDITOR_TEST_TIMEOUT'))) * 1000
local buf = vim.api.nvim_get_current_buf()

local function say(fmt, ...)
  out:write(string.format(fmt, ...), '\n')
  out:flush()
end

local function finish(status)
  out:close()
  if status == 0 then
    vim.cmd('qall!')
  else
    vim.cmd('cquit ' .. status)
  end
end

local function ours()
  local found = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if type(d.code) == 'string' and d.code:match('^grpc%-leak%-') then
      table.insert(found, d)
    end
  end
  return found
end

local function find(code)
  for _, d in ipairs(ours()) do
    if d.code == code then
      return d
    end
  end
  return nil
end

local function run()
  if not vim.wait(timeout_ms, function() return #ours() > 0 end, 100) then
    say('timeout: no grpc-leak diagnostics after %d s', timeout_ms / 1000)
    return 1
  end
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    say('diagnostic %d:%d %s %s [%s] %s', d.lnum + 1, d.col + 1,
        vim.diagnostic.severity[d.severity], tostring(d.source),
        tostring(d.code), (d.message:gsub('\n.*', '')))
  end

  local target = find(check)
  if not target then
    say('no %s diagnostic', check)
    return 1
  end
  say('buffer modified before the code action: %s', tostring(vim.bo[buf].modified))

  -- The menu, as the user sees it; the "user" picks the named action.
  local titles, chosen = {}, nil
  vim.ui.select = function(items, opts, on_choice)
    local pick = nil
    for _, item in ipairs(items) do
      local title = opts.format_item and opts.format_item(item) or tostring(item)
      table.insert(titles, title)
      if not pick and title:match(action_pattern) then
        pick, chosen = item, title
      end
    end
    on_choice(pick)
  end
  vim.api.nvim_win_set_cursor(0, { target.lnum + 1, target.col })
  vim.lsp.buf.code_action()
  if not vim.wait(timeout_ms, function() return #titles > 0 end, 50) then
    say('timeout: no code action menu')
    return 1
  end
  for _, title in ipairs(titles) do
    say('code action: %s', title)
  end
  if not chosen then
    say('no code action matches %s', action_pattern)
    return 1
  end
  say('chosen: %s', chosen)
  if not vim.wait(timeout_ms, function() return vim.bo[buf].modified end, 50) then
    say('timeout: the code action did not change the buffer')
    return 1
  end
  say('buffer modified after the code action: %s', tostring(vim.bo[buf].modified))
  local first = math.max(target.lnum - 1, 0)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, first, target.lnum + 2, false)) do
    say('line %d: %s', first + i, line)
  end

  -- The edit reaches the server (didChange), which analyses the file again.
  if not vim.wait(timeout_ms, function() return #ours() > 0 and not find(check) end, 100) then
    say('timeout: %s still reported after the edit', check)
    return 1
  end
  local left = {}
  for _, d in ipairs(ours()) do
    table.insert(left, d.code)
  end
  table.sort(left)
  say('after the edit: no %s; still reported: %s', check, table.concat(left, ' '))
  return 0
end

local ok, status = pcall(run)
if not ok then
  say('error: %s', tostring(status))
  status = 1
end
finish(status)
