# shellcheck shell=bash
# Shared helpers for scripts/*.sh. Source it; it defines functions and a few variables, runs nothing else.

# Progress goes to stderr so that stdout stays usable for data (image ids, versions).
log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "error: $*"; exit 1; }

repo_root() { (cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd); }
REPO=${REPO:-$(repo_root)}
CACHE="$REPO/.cache"      # downloads and the host's Node 24; in .gitignore
NODE_PREFIX="$CACHE/node" # a Node 24 + npm 11 install prefix (bin/, lib/node_modules/npm, include/)

# This network re-signs TLS; the host trusts the proxy's CA through the system bundle. Node and npm read only
# their own CA list, so add the bundle (harmless on a normal network: it holds the same public CAs).
if [[ -z ${NODE_EXTRA_CA_CERTS:-} && -r /etc/ssl/certs/ca-certificates.crt ]]; then
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi

# Major version of the node on PATH, or 0 when there is none.
node_major() { command -v node >/dev/null 2>&1 && node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# Put the repo's Node 24 first on PATH when provision.sh installed one (hosts whose node is older than 22.22).
use_node24() {
  if [[ -x "$NODE_PREFIX/bin/node" ]]; then
    case ":$PATH:" in *":$NODE_PREFIX/bin:"*) ;; *) PATH="$NODE_PREFIX/bin:$PATH" ;; esac
    export PATH
    # Native addons must build against this node's headers, not a nodedir set for the system node in ~/.npmrc.
    export npm_config_nodedir="$NODE_PREFIX"
  fi
  hash -r
}

# Fill $NODE_PREFIX with Node 24 and npm 11 from the npm registry: the Node binary ships inside the
# node-linux-<arch> package, so no download outside the registry is needed. Needs a working npm (any version).
install_node_prefix() {
  local arch tmp
  case "$(uname -m)" in
    x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) die "no node-linux package for $(uname -m)" ;;
  esac
  mkdir -p "$CACHE"
  tmp=$(mktemp -d "$CACHE/node.tmp.XXXXXX")
  log "fetching node-linux-$arch@24 and npm@11 from the npm registry"
  # Pack from an empty dir so no project .npmrc or package.json gets in the way.
  (cd "$tmp" && npm pack --silent "node-linux-$arch@24" npm@11 >/dev/null)
  mkdir -p "$tmp/prefix/lib/node_modules/npm" "$tmp/node"
  tar -xzf "$tmp"/node-linux-"$arch"-*.tgz -C "$tmp/node" --strip-components=1
  mv "$tmp/node/bin" "$tmp/node/include" "$tmp/node/share" "$tmp/prefix/"
  tar -xzf "$tmp"/npm-*.tgz -C "$tmp/prefix/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$tmp/prefix/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$tmp/prefix/bin/npx"
  "$tmp/prefix/bin/node" --version >/dev/null || die "the packed node binary does not run here"
  # Swap in whole so an interrupted run never leaves a half-filled prefix behind.
  rm -rf "$NODE_PREFIX"
  mv "$tmp/prefix" "$NODE_PREFIX"
  rm -rf "$tmp"
  log "node $("$NODE_PREFIX/bin/node" --version), npm $("$NODE_PREFIX/bin/node" "$NODE_PREFIX/bin/npm" --version 2>/dev/null) in $NODE_PREFIX"
}

# Ensure $NODE_PREFIX holds a Node 24 (reuses an earlier install).
ensure_node_prefix() {
  if [[ -x "$NODE_PREFIX/bin/node" ]] && [[ $("$NODE_PREFIX/bin/node" -p 'process.versions.node.split(".")[0]' 2>/dev/null) == 24 ]]; then
    return 0
  fi
  install_node_prefix
}

# Path of the docker client to use ($DOCKER when set). BuildKit builds (RUN --mount=type=secret) need either a
# client with the buildx plugin or Debian's docker.io 20.10 client, which has BuildKit built in; a newer client
# without buildx (the /usr/local/bin/docker 28.x on these machines) refuses them.
docker_cli() {
  local path_docker
  if [[ -n ${DOCKER:-} ]]; then echo "$DOCKER"; return; fi
  path_docker=$(type -P docker || true) # type -P: the file on PATH, not the docker() function below
  if [[ -n $path_docker ]] && "$path_docker" buildx version >/dev/null 2>&1; then
    echo "$path_docker"
  elif [[ -x /usr/bin/docker ]]; then
    echo /usr/bin/docker
  else
    echo "${path_docker:-docker}"
  fi
}
# Cached because docker_cli runs a command; provision.sh clears the cache after installing docker.io.
docker() {
  [[ -n ${_docker_cli:-} ]] || _docker_cli=$(docker_cli)
  command "$_docker_cli" "$@"
}

# Make plain `docker` in child processes (npm test, compose) resolve to docker_cli too.
prefer_docker_cli() {
  local cli
  cli=$(docker_cli)
  [[ $(type -P docker || true) == "$cli" ]] && return 0
  mkdir -p "$CACHE/bin"
  ln -sfn "$cli" "$CACHE/bin/docker"
  export PATH="$CACHE/bin:$PATH"
  hash -r
}

# `docker compose` (v2 plugin, what most machines have) when it answers, else docker-compose (v1, Debian 12).
compose() {
  local path_docker
  if [[ -z ${COMPOSE_CMD:-} ]]; then
    path_docker=$(type -P docker || true)
    if docker compose version >/dev/null 2>&1; then
      COMPOSE_CMD="$(docker_cli) compose"
    elif [[ -n $path_docker ]] && "$path_docker" compose version >/dev/null 2>&1; then
      COMPOSE_CMD="$path_docker compose"
    elif type -P docker-compose >/dev/null; then
      COMPOSE_CMD=docker-compose
    else
      die "neither 'docker compose' nor docker-compose is installed (run scripts/provision.sh)"
    fi
  fi
  # shellcheck disable=SC2086 # COMPOSE_CMD is a command plus its subcommand, split on purpose
  command $COMPOSE_CMD "$@"
}

docker_ready() { docker info >/dev/null 2>&1; }
