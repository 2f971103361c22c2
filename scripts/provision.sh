#!/usr/bin/env bash
# Install and start what the tests, the image build and the demo need, on a fresh Debian 12 machine or on a
# machine that already has Docker. Safe to rerun: every step first checks whether it is already done.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SUDO=()
if [[ $EUID -ne 0 ]]; then
  if type -P sudo >/dev/null; then SUDO=(sudo); else log "not root and no sudo: installs and starting dockerd may fail"; fi
fi

# --- Debian packages ------------------------------------------------------------------------------------
pkg_installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]; }

missing=()
# Docker and compose are checked by command, not by package: a machine with docker-ce (which conflicts
# with docker.io) or a remote engine must be left alone.
type -P dockerd >/dev/null || docker_ready || missing+=(docker.io)
docker compose version >/dev/null 2>&1 || type -P docker-compose >/dev/null || missing+=(docker-compose)
type -P debootstrap >/dev/null || missing+=(debootstrap)  # base-images.sh: stand-in for debian:trixie-slim
pkg_installed busybox-static || missing+=(busybox-static) # base-images.sh: a static busybox for busybox:latest
type -P socat >/dev/null || missing+=(socat)
type -P wrk >/dev/null || missing+=(wrk)
type -P curl >/dev/null || missing+=(curl)
type -P pebble >/dev/null || missing+=(pebble)                        # the ACME server of the ACME tests (RFC 8555, Let's Encrypt's test server)
type -P openssl >/dev/null || missing+=(openssl)                      # test certificates (test/helpers/certs.ts), as an operator makes them
type -P jq >/dev/null || missing+=(jq)                                # the docs/ec2.md cleanup snippet is run by a test
type -P testssl >/dev/null || missing+=(testssl.sh)                   # the TLS profile test scans HTTPS as an attacker would (Debian 12, 13)
[[ -r /etc/ssl/certs/ca-certificates.crt ]] || missing+=(ca-certificates)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)                    # the status page test drives a real headless browser

if ((${#missing[@]})); then
  if type -P apt-get >/dev/null; then
    log "installing ${missing[*]}"
    "${SUDO[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >&2
    _docker_cli='' COMPOSE_CMD='' # pick the clients again now that docker.io may have brought /usr/bin/docker
  else
    log "not a Debian-like system: install ${missing[*]} yourself"
  fi
else
  log "packages: all present"
fi

# --- Docker engine --------------------------------------------------------------------------------------
# No init system here (CI and dev machines): run dockerd ourselves. A pid file left by a daemon that died
# with the previous session would make dockerd refuse to start. setsid: the daemon must outlive this script.
start_dockerd() {
  pgrep -x dockerd >/dev/null && return 0
  "${SUDO[@]}" rm -f /var/run/docker.pid
  log "starting dockerd in the background (log: /var/log/dockerd.log)"
  "${SUDO[@]}" setsid dockerd >>/var/log/dockerd.log 2>&1 </dev/null &
}

if docker_ready; then
  log "docker engine: running"
else
  if [[ -d /run/systemd/system ]] && type -P systemctl >/dev/null; then
    # A normal machine booted with systemd: let it own the daemon.
    log "starting docker with systemctl"
    "${SUDO[@]}" systemctl start docker || true
  else
    start_dockerd
  fi
  # dockerd gives up when its containerd is not up within its own fixed timeout, which happens when a
  # machine that was stopped with containers running has hundreds of dead shims to clean up first: each
  # attempt cleans up some, so a daemon that exited is started again, within an overall deadline.
  deadline=$((SECONDS + 300))
  until docker_ready; do
    if ((SECONDS >= deadline)); then
      tail -n 20 /var/log/dockerd.log >&2 2>/dev/null || true
      die "docker engine not ready after 300 s ($(docker_cli) info fails; log: /var/log/dockerd.log)"
    fi
    if ! pgrep -x dockerd >/dev/null && [[ ! -d /run/systemd/system ]]; then
      log "dockerd exited before it was ready ($(tail -n 1 /var/log/dockerd.log 2>/dev/null)); starting it again"
      start_dockerd
    fi
    sleep 1
  done
  log "docker engine: ready"
fi

# --- Node >= 22.22 for the host (tests, npm ci; package.json engines: chokidar 6 needs 22.22) -------------
major=$(node_major)
minor=$( ((major > 0)) && node -p 'process.versions.node.split(".")[1]' 2>/dev/null || echo 0)
if ((major > 22 || (major == 22 && minor >= 22))); then
  log "node: system node v$major.$minor is recent enough"
else
  if ! type -P npm >/dev/null; then
    # Any npm will do: it is only used to fetch the Node 24 package.
    log "no npm: installing Debian's nodejs and npm"
    "${SUDO[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq nodejs npm >&2
  fi
  ensure_node_prefix
  log "node: system node is v$major.$minor (< 22.22); scripts use $NODE_PREFIX/bin/node ($("$NODE_PREFIX/bin/node" --version))"
fi
