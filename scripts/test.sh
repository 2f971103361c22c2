#!/usr/bin/env bash
# The test command (README, CI): from a fresh Debian 12 machine to a full test run. Installs and starts what
# is missing, builds the image, installs the npm dependencies, then runs `npm test` (unit + integration).
# Extra args go to the test runner, e.g. scripts/test.sh test/unit
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

"$REPO/scripts/provision.sh"
"$REPO/scripts/build-image.sh"
# The Route53 emulator for the DNS tests, for machines without a host moto_server.
"$REPO/scripts/moto-image.sh"

use_node24
# Tests that shell out to docker must get the client that can do BuildKit builds.
prefer_docker_cli
export DOCKER_BUILDKIT=1
log "node $(node --version), npm $(npm --version), docker $(type -P docker)"

cd "$REPO"
log "npm ci"
npm ci
log "npm test $*"
if (($#)); then
  npm test -- "$@"
else
  npm test
fi
