/**
 * The Lua action that holds a request for a service with no server up (its container restarting, or
 * being replaced by `docker compose up -d`) until one is, for at most HOLD_REQUESTS_S, instead of an
 * immediate 503: HAProxy has no such wait of its own. It sleeps in steps of 100 ms (a sleep yields: the
 * worker serves everything else meanwhile, and it does not count against Lua's execution timeout).
 * Written into RUNTIME_DIR at start, where the template's `lua-load` finds it.
 */
import { writeFile } from 'node:fs/promises';

export const HOLD_SCRIPT = `-- Written by haproxy-companion (src/haproxy/hold-script.ts): rewritten at every start.
core.register_action("hold_for_server", { "http-req" }, function(txn, max_ms)
  local name = txn:get_var("txn.backend")
  local backend = name and core.backends[name]
  if not backend then return end
  local limit = tonumber(max_ms) or 0
  local waited = 0
  while waited < limit and backend:get_srv_act() == 0 and backend:get_srv_bck() == 0 do
    core.msleep(100)
    waited = waited + 100
  end
end, 1)
`;

export function writeHoldScript(file: string): Promise<void> {
  return writeFile(file, HOLD_SCRIPT, { mode: 0o644 });
}
