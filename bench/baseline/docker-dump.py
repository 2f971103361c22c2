#!/usr/bin/python3
"""The old pipeline's container dump (the article's docker-dump.py), on today's Docker SDK.

    docker-dump.py dump-yml [--label KEY=VALUE]

Prints `{containers: [<docker inspect of every running container>]}` as YAML, with Config.Env turned into
a dict, exactly what the playbook reads. Two changes from the article, both needed to run at all today:
- docker-py >= 2 renamed `docker.Client` to `docker.APIClient` (Debian's python3-docker is 5.x);
- `e.split('=')` raised "too many values to unpack" on any env value containing '=', so it splits once.
`--label` (added for the benchmark) restricts the dump to the containers of one benchmark run, so containers
that other people run on the same machine cannot change what is measured.
"""
import argparse
import sys

import docker
import yaml


def get_containers(cli, label=None):
    filters = {'label': [label]} if label else None
    container_ids = [c['Id'] for c in cli.containers(filters=filters)]
    containers = []
    for cid in container_ids:
        try:
            containers.append(cli.inspect_container(cid))
        except docker.errors.NotFound:
            # removed between list and inspect (the article's script would crash here)
            continue

    for container in containers:
        env_list = container['Config']['Env'] or []
        env_dict = {}
        for e in env_list:
            (k, v) = e.split('=', 1)
            env_dict[k] = v
        container['Config']['Env'] = env_dict

    return containers


def dump_yml(args):
    cli = docker.APIClient()
    containers = get_containers(cli, args.label)
    yaml.safe_dump({'containers': containers}, sys.stdout, default_flow_style=False)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('command', choices=['dump-yml'])
    parser.add_argument('--label')
    args = parser.parse_args()
    if args.command == 'dump-yml':
        dump_yml(args)


if __name__ == '__main__':
    main()
