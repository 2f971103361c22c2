#!/usr/bin/env bash
# Make sure the base images the Dockerfile, the tests and the demo use exist locally:
#   debian:trixie-slim, node:24-trixie-slim, busybox:latest
# An image already present is kept; a missing one is pulled; when no registry can be reached (as on the CI
# and development machines) a stand-in is built from Debian and npm packages instead.
# Env: PULL_TIMEOUT (s, default 60), NO_PULL=1 to skip pulling, DEBIAN_MIRROR (default deb.debian.org).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PULL_TIMEOUT=${PULL_TIMEOUT:-60}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ROOTFS_TAR="$CACHE/base/trixie-minbase.tar" # debootstrap output, kept so a rerun skips debootstrap (~20 s here)
IMAGE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

docker_ready || die "docker engine not reachable: run scripts/provision.sh first"

# Temp dirs and containers to remove however the script ends.
tmp_dirs=() tmp_containers=()
cleanup() {
  ((${#tmp_containers[@]})) && docker rm -f "${tmp_containers[@]}" >/dev/null 2>&1
  ((${#tmp_dirs[@]})) && rm -rf "${tmp_dirs[@]}"
  return 0
}
trap cleanup EXIT

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# After one failed pull, assume no registry is reachable and stop waiting on the others.
pull_failed=${NO_PULL:-}
try_pull() {
  [[ -z $pull_failed ]] || return 1
  log "$1: pulling (timeout ${PULL_TIMEOUT}s)"
  if timeout "$PULL_TIMEOUT" "$(docker_cli)" pull -q "$1" >&2; then
    return 0
  fi
  pull_failed=1
  log "$1: pull failed; building local stand-ins from here on"
  return 1
}

# A minimal trixie root filesystem as a tar, cached under .cache/base.
rootfs_tar() {
  [[ -s $ROOTFS_TAR ]] && return 0
  local tmp
  mkdir -p "$(dirname "$ROOTFS_TAR")"
  tmp=$(mktemp -d "$CACHE/base/debootstrap.XXXXXX")
  tmp_dirs+=("$tmp")
  log "debootstrap --variant=minbase trixie from $DEBIAN_MIRROR (about 20 s)"
  debootstrap --variant=minbase trixie "$tmp/root" "$DEBIAN_MIRROR" >"$tmp/debootstrap.log" 2>&1 || {
    tail -n 30 "$tmp/debootstrap.log" >&2
    die "debootstrap failed (log above)"
  }
  # What the official slim image leaves out: downloaded .debs and apt lists (the image runs apt-get update).
  # resolv.conf and hostname are the host's; docker supplies its own at run time.
  rm -rf "$tmp/root/var/cache/apt/archives/"*.deb "$tmp/root/var/lib/apt/lists/"* "$tmp/root/debootstrap" \
    "$tmp/root/etc/resolv.conf" "$tmp/root/etc/hostname"
  chmod 755 "$tmp/root"
  tar -C "$tmp/root" --numeric-owner -cf "$ROOTFS_TAR.tmp" .
  mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
}

build_debian() {
  rootfs_tar
  log "debian:trixie-slim: importing the debootstrap root filesystem"
  docker import -c "ENV PATH=$IMAGE_PATH" -c 'CMD ["bash"]' "$ROOTFS_TAR" debian:trixie-slim >/dev/null
}

# debian:trixie-slim plus Node 24 and npm 11 laid out as the official image has them (/usr/local/bin/node,
# /usr/local/lib/node_modules/npm). Committed on top of the debian image so the two share its layer.
build_node() {
  local cid
  ensure_image debian:trixie-slim
  ensure_node_prefix
  log "node:24-trixie-slim: adding $("$NODE_PREFIX/bin/node" --version) to debian:trixie-slim"
  cid=$(docker create debian:trixie-slim true)
  tmp_containers+=("$cid")
  # In one copy: docker cp rejects bin/npm -> ../lib/... as a breakout when bin/ is copied on its own.
  docker cp "$NODE_PREFIX/." "$cid:/usr/local/"
  docker commit -c "ENV PATH=$IMAGE_PATH" -c "ENV NODE_VERSION=$("$NODE_PREFIX/bin/node" -p process.versions.node)" \
    -c 'CMD ["node"]' "$cid" node:24-trixie-slim >/dev/null
}

# A static busybox with every applet linked in /bin, as the official image has it (sh, httpd, wget, nc, ...).
build_busybox() {
  local bb=/bin/busybox tmp
  [[ -x $bb ]] || die "no $bb: install busybox-static (scripts/provision.sh)"
  if ldd "$bb" >/dev/null 2>&1; then die "$bb is dynamically linked: install busybox-static"; fi
  tmp=$(mktemp -d)
  tmp_dirs+=("$tmp")
  chmod 755 "$tmp" # mktemp's 0700 would become the image's /
  mkdir -p "$tmp"/{bin,etc,root,tmp,var/www}
  chmod 1777 "$tmp/tmp"
  cp "$bb" "$tmp/bin/busybox"
  for applet in $("$bb" --list); do
    [[ $applet == busybox ]] || ln -s busybox "$tmp/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$tmp/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$tmp/etc/group"
  log "busybox:latest: importing static busybox $("$bb" | head -n1 | awk '{print $2}')"
  tar -C "$tmp" --numeric-owner --owner=0 --group=0 -c . |
    docker import -c "ENV PATH=$IMAGE_PATH" -c 'CMD ["sh"]' - busybox:latest >/dev/null
}

ensure_image() {
  local image=$1 start=$SECONDS
  if have_image "$image"; then
    log "$image: present"
    return 0
  fi
  try_pull "$image" && return 0
  case $image in
    debian:trixie-slim) build_debian ;;
    node:24-trixie-slim) build_node ;;
    busybox:latest) build_busybox ;;
    *) die "no stand-in recipe for $image" ;;
  esac
  have_image "$image" || die "$image: stand-in build did not produce the image"
  log "$image: stand-in built in $((SECONDS - start))s"
}

for image in debian:trixie-slim node:24-trixie-slim busybox:latest; do
  ensure_image "$image"
done
