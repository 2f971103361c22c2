#!/usr/bin/env bash
# Build haproxy-companion-moto:latest (or $MOTO_IMAGE): moto, the Route53 emulator the tests talk to, from
# Debian trixie's packages. test/helpers/moto.ts runs it when the host has no working moto_server, as on a
# user's machine. Kept when it already exists (REBUILD=1 to build it again); extra args go to `docker build`.
#   docker run --rm -p 127.0.0.1:5000:5000 haproxy-companion-moto:latest   # moto on 127.0.0.1:5000
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MOTO_IMAGE=${MOTO_IMAGE:-haproxy-companion-moto:latest}

docker_ready || die "docker engine not reachable: run scripts/provision.sh first"

if [[ -z ${REBUILD:-} ]] && docker image inspect "$MOTO_IMAGE" >/dev/null 2>&1; then
  log "$MOTO_IMAGE: present"
  exit 0
fi

# Pulled, or built from debootstrap when no registry answers.
docker image inspect debian:trixie-slim >/dev/null 2>&1 || "$REPO/scripts/base-images.sh"

log "building $MOTO_IMAGE with $(docker_cli)"
start=$SECONDS
# No build context is needed: the Dockerfile comes on stdin. apt reaches Debian's mirror over plain http, so
# no CA secret is needed either. The last RUN fails the build if moto's server cannot even be imported.
DOCKER_BUILDKIT=1 docker build -t "$MOTO_IMAGE" "$@" - <<'DOCKERFILE'
FROM debian:trixie-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       python3-moto python3-flask python3-flask-cors python3-openapi-spec-validator \
    && rm -rf /var/lib/apt/lists/*
RUN python3 -c "import moto, moto.server, moto.route53; print('moto', moto.__version__)"
LABEL org.opencontainers.image.title="haproxy-companion-moto" \
      org.opencontainers.image.description="moto (AWS emulator) for the haproxy-companion tests"
EXPOSE 5000
# 0.0.0.0 so that -p works too; the tests run it with --network host and their own -H 127.0.0.1 -p PORT.
CMD ["python3", "-c", "from moto.server import main; main(['-H', '0.0.0.0', '-p', '5000'])"]
DOCKERFILE
log "built $MOTO_IMAGE in $((SECONDS - start))s"
