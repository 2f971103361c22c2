/**
 * The Lua actions of the template's backends, which HAProxy has no configuration words for:
 * - `hold_for_server` holds a request for a service whose containers are leaving or gone (restarting,
 *   being replaced by `docker compose up -d`) until a server is up, for at most HOLD_REQUESTS_S, instead
 *   of an immediate 503. It runs in the backend, after the route's own rules (a redirect answers without
 *   waiting); a server failing its health check is not waited for, nor is another host of the fleet. It
 *   sleeps in steps of 100 ms (a sleep yields: the worker serves everything else meanwhile, and it does
 *   not count against Lua's execution timeout).
 * - `fleet_route` (FLEET_FALLBACK): a request another host forwarded waits for this host's own servers
 *   and is refused without them, never passed on; `fleet_hop` tells a strip-path route that its request
 *   goes to another host. HAProxy's `nbsrv` counts backup servers when no other is up, so only Lua can
 *   tell "none of our own"; both run only for the requests that need them.
 * Written into RUNTIME_DIR at start, where the template's `lua-load` finds it.
 */
import { writeFile } from 'node:fs/promises';

export const HOLD_SCRIPT = `-- Written by haproxy-companion (src/haproxy/hold-script.ts): rewritten at every start.
-- Loaded per thread (lua-load-per-thread): no lock shared between threads.

-- Whether a backend's requests should wait: none of its own servers is up, nor (unless only its own
-- count) another host of the fleet (backup servers), and every server of its own is in maintenance
-- (leaving: its container stopping), not checked yet (just added), or it has none (its containers gone, a
-- new one coming). A server failing its health check is no reason to wait: its requests get their 503 at once.
local function waiting(backend, own_only)
  if backend:get_srv_act() > 0 then return false end
  if not own_only and backend:get_srv_bck() > 0 then return false end
  for _, server in pairs(backend.servers) do
    local stats = server:get_stats()
    -- A server not checked yet (INI: a container just added, its app still starting) is coming too.
    local coming = (stats["status"] or ""):sub(1, 5) == "MAINT" or stats["check_status"] == "INI"
    if stats["bck"] ~= 1 and not coming then return false end
  end
  return true
end

-- Requests waiting now, per backend, in this thread: beyond the cap a request goes on at once, so
-- clients cannot pile up sleeping requests without bound.
local held = {}
local MAX_HELD = 200

local function hold(name, backend, max_ms, own_only)
  if (held[name] or 0) >= MAX_HELD then return end
  held[name] = (held[name] or 0) + 1
  local limit = tonumber(max_ms) or 0
  local waited = 0
  while waited < limit and waiting(backend, own_only) do
    core.msleep(100)
    waited = waited + 100
  end
  held[name] = held[name] - 1
end

core.register_action("hold_for_server", { "http-req" }, function(txn, max_ms)
  local name = txn.f:be_name()
  local backend = core.backends[name]
  if backend then hold(name, backend, max_ms, false) end
end, 1)

-- FLEET_FALLBACK. A request another host of the fleet forwarded here (txn.fleet_marked: it came naming a
-- \`fleet:\` server in X-Companion-Server, read by the frontend before any route rule) waits for this
-- host's own servers only, and is refused (503) if none comes: it is never passed on again.
core.register_action("fleet_route", { "http-req" }, function(txn, max_ms)
  local name = txn.f:be_name()
  local backend = core.backends[name]
  if not backend or backend:get_srv_act() > 0 then return end
  hold(name, backend, max_ms, true)
  if backend:get_srv_act() == 0 then txn:set_var("txn.fleet_refused", true) end
end, 1)

-- Whether a request will go to another host of the fleet (none of this host's own servers up, another
-- host's up): then a route's strip-path is left out, since that host routes by the whole path. Only the
-- backends of routes that strip a path ask.
core.register_action("fleet_hop", { "http-req" }, function(txn)
  local backend = core.backends[txn.f:be_name()]
  if backend and backend:get_srv_act() == 0 and backend:get_srv_bck() > 0 then txn:set_var("txn.fleet_hop", true) end
end, 0)
`;

export function writeHoldScript(file: string): Promise<void> {
  return writeFile(file, HOLD_SCRIPT, { mode: 0o644 });
}
