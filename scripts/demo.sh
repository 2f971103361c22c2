#!/usr/bin/env bash
# Start the example stack (docker-compose.example.yml: the companion on the host network plus two demo
# services) and wait until HAProxy routes to them.  `scripts/demo.sh down` stops it again.
# Env: HTTP_PORT (default 80), the port the companion's HAProxy listens on.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export HTTP_PORT=${HTTP_PORT:-80}
COMPOSE_FILE_NAME=docker-compose.example.yml
cd "$REPO"

if [[ ${1:-} == down ]]; then
  compose -f "$COMPOSE_FILE_NAME" down
  exit 0
fi

"$REPO/scripts/provision.sh"
"$REPO/scripts/build-image.sh"
prefer_docker_cli

log "starting $COMPOSE_FILE_NAME"
# --no-build: the image was just built with the secret and BuildKit, which compose v1 cannot do.
compose -f "$COMPOSE_FILE_NAME" up -d --no-build

url="http://127.0.0.1:$HTTP_PORT/"
for host in login.example.com publish.example.com; do
  log "waiting for $url (Host: $host) to answer 200"
  code=000
  for _ in $(seq 60); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H "Host: $host" "$url" || true)
    [[ $code == 200 ]] && break
    sleep 1
  done
  if [[ $code != 200 ]]; then
    compose -f "$COMPOSE_FILE_NAME" logs --tail 50 >&2 || true
    die "no 200 from $url for $host after 60 s (last status $code); the stack is still up: scripts/demo.sh down"
  fi
done

shown=${COMPOSE_CMD:-docker compose} # set by compose()
shown=${shown##*/}                   # "docker compose" or "docker-compose", without the client's path
cat <<EOT

The demo is up. Try:
  curl -H 'Host: login.example.com'   $url
  curl -H 'Host: publish.example.com' $url
  curl -H 'Host: unknown.example.com' $url    # no such service
Logs:
  $shown -f $REPO/$COMPOSE_FILE_NAME logs -f
Stop it:
  scripts/demo.sh down     (or: $shown -f $REPO/$COMPOSE_FILE_NAME down)
EOT
