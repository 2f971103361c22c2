#!/usr/bin/env bash
# The old pipeline's trigger, as fast as it can go: run update-services.yml again as soon as the previous run
# ends. The article runs the playbook by hand "every time a docker container was launched" (or from cron,
# at best once a minute); a back-to-back loop is the quickest any trigger could make it react, so what this
# benchmark measures for the baseline is its best case. A run in progress when a container starts does not
# see it; the next one does.
#
#   driver.sh RUNLOG [ansible-playbook args...]
#
# Appends one JSON line per run to RUNLOG: {"start":ms,"end":ms,"rc":N,"restarted":bool,"seconds":S}.
# Stops when killed (SIGTERM ends the loop after killing the running playbook).
set -u
RUNLOG=$1
shift
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=false

child=
trap '[ -n "$child" ] && kill "$child" 2>/dev/null; exit 0' TERM INT
while :; do
  start=$(date +%s%3N)
  out=$(mktemp)
  ansible-playbook -i localhost, "$HERE/update-services.yml" "$@" >"$out" 2>&1 &
  child=$!
  wait "$child"
  rc=$?
  child=
  end=$(date +%s%3N)
  restarted=false
  grep -q 'RUNNING HANDLER \[restart haproxy\]' "$out" && restarted=true
  printf '{"start":%s,"end":%s,"rc":%s,"restarted":%s}\n' "$start" "$end" "$rc" "$restarted" >>"$RUNLOG"
  if [ "$rc" -ne 0 ]; then cp "$out" "$RUNLOG.failed-run.txt"; fi
  cp "$out" "$RUNLOG.last-run.txt"
  rm -f "$out"
done
