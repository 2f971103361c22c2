#!/usr/bin/env bash
# What the benchmark needs beyond the test setup (scripts/provision.sh, which it runs first): the
# baseline's Ansible, docker-py and boto3 from Debian, as the teams we replace run them. Safe to rerun.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/../scripts/provision.sh"
missing=()
type -P ansible-playbook >/dev/null || missing+=(ansible)
/usr/bin/python3 -c 'import docker' 2>/dev/null || missing+=(python3-docker)
/usr/bin/python3 -c 'import boto3' 2>/dev/null || missing+=(python3-boto3)
/usr/bin/python3 -c 'import yaml' 2>/dev/null || missing+=(python3-yaml)
if ((${#missing[@]})); then
  echo "[bench/setup.sh] installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi
echo "[bench/setup.sh] ready: $(ansible-playbook --version | head -n 1)" >&2
