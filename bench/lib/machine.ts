/** The machine and software a run measured, for the report. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }).trim();
  } catch (error) {
    return `unavailable (${(error as Error).message.split('\n')[0]})`;
  }
}

/** `docker: false`: a run without Docker (the fleet scenario alone) asks Docker nothing. */
export function machine(image: string, repo: string, { docker = true }: { docker?: boolean } = {}) {
  const notUsed = 'not used by this run';
  const osRelease = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'unknown';
  let dirty = '';
  try {
    dirty = execFileSync('git', ['-C', repo, 'status', '--porcelain', '--', 'src', 'templates', 'package.json', 'Dockerfile'], {
      encoding: 'utf8',
    });
  } catch {
    // not a git checkout
  }
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    kernel: os.release(),
    os: osRelease,
    docker: docker ? sh('docker', ['version', '--format', '{{.Server.Version}}']) : notUsed,
    image: docker ? sh('docker', ['image', 'inspect', '--format', '{{.Id}} built {{.Created}}', image]) : notUsed,
    haproxy: docker ? (sh('docker', ['run', '--rm', '--entrypoint', 'haproxy', image, '-v']).split('\n')[0] ?? '') : notUsed,
    imageNode: docker ? sh('docker', ['run', '--rm', '--entrypoint', 'node', image, '--version']) : notUsed,
    benchNode: process.version,
    ansible: sh('ansible-playbook', ['--version']).split('\n')[0] ?? '',
    jinja2: sh('/usr/bin/python3', ['-c', 'import jinja2; print(jinja2.__version__)']),
    dockerPy: sh('/usr/bin/python3', ['-c', 'import docker; print(docker.__version__)']),
    boto3: sh('/usr/bin/python3', ['-c', 'import boto3; print(boto3.__version__)']),
    wrk: sh('sh', ['-c', 'wrk -v 2>&1 | head -1']),
    git: `${sh('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'])}${
      dirty.trim()
        ? ` + uncommitted changes in: ${dirty
            .split('\n')
            .filter(Boolean)
            .map((l) => l.slice(3))
            .join(', ')}`
        : ''
    }`,
  };
}

export type Machine = ReturnType<typeof machine>;
