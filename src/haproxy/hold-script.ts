/**
 * The Lua action that holds a request for a service whose containers are leaving or gone (restarting,
 * being replaced by `docker compose up -d`) until a server is up, for at most HOLD_REQUESTS_S, instead
 * of an immediate 503: HAProxy has no such wait of its own. It runs in the backend, after the route's
 * own rules (a redirect answers without waiting); a server failing its health check is not waited for. It sleeps in steps of 100 ms (a sleep yields: the
 * worker serves everything else meanwhile, and it does not count against Lua's execution timeout).
 * Written into RUNTIME_DIR at start, where the template's `lua-load` finds it.
 */
import { writeFile } from 'node:fs/promises';

export const HOLD_SCRIPT = `-- Written by haproxy-companion (src/haproxy/hold-script.ts): rewritten at every start.
-- Loaded per thread (lua-load-per-thread): no lock shared between threads.
-- Whether a backend's requests should wait: none of its servers is up, and every one it has is in
-- maintenance (leaving: its container stopping) or it has none (its containers gone, a new one coming).
-- A server failing its health check is no reason to wait: its requests get their 503 at once.
local function waiting(backend)
  if backend:get_srv_act() > 0 then return false end
  for _, server in pairs(backend.servers) do
    local status = server:get_stats()["status"] or ""
    if status:sub(1, 5) ~= "MAINT" then return false end
  end
  return true
end

-- Requests waiting now, per backend, in this thread: beyond the cap a request gets its 503 at once, so
-- clients cannot pile up sleeping requests without bound.
local held = {}
local MAX_HELD = 200

core.register_action("hold_for_server", { "http-req" }, function(txn, max_ms)
  local name = txn.f:be_name()
  local backend = core.backends[name]
  if not backend or (held[name] or 0) >= MAX_HELD then return end
  held[name] = (held[name] or 0) + 1
  local limit = tonumber(max_ms) or 0
  local waited = 0
  while waited < limit and waiting(backend) do
    core.msleep(100)
    waited = waited + 100
  end
  held[name] = held[name] - 1
end, 1)
`;

export function writeHoldScript(file: string): Promise<void> {
  return writeFile(file, HOLD_SCRIPT, { mode: 0o644 });
}
