#!/usr/bin/env bash
# Build haproxy-companion:latest (or $IMAGE) from the repo's Dockerfile. Extra args go to `docker build`.
# Needs a running docker engine (scripts/provision.sh); makes sure the base images exist first.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

IMAGE=${IMAGE:-haproxy-companion:latest}
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

"$REPO/scripts/base-images.sh"

args=(build -t "$IMAGE")
# The Dockerfile's npm ci reads this secret as extra CAs: needed where TLS is re-signed by a proxy (as on
# the CI machines), harmless elsewhere. Without it the build still works on a normal network.
if [[ -r $CA_BUNDLE ]]; then
  args+=(--secret "id=ca_bundle,src=$CA_BUNDLE")
fi

log "building $IMAGE with $(docker_cli)"
start=$SECONDS
# BuildKit is needed for RUN --mount=type=secret; Debian's 20.10 client has it built in behind this switch.
DOCKER_BUILDKIT=1 docker "${args[@]}" "$@" "$REPO"
log "built $IMAGE in $((SECONDS - start))s"
