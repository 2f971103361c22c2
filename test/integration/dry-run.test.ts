/**
 * `dry-run` against real containers: the haproxy.cfg and Route53 change batch it prints match a
 * golden file (addresses and generated names normalised), and a broken template fails the run.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE, TestRun } from '../helpers/docker.js';

const run = new TestRun();
const golden = new URL('./golden/dry-run.txt', import.meta.url);

beforeAll(async () => {
  await run.backend({ domain: 'login', name: `hc-${run.id}-login` });
  await run.backend({ domain: 'publish', name: `hc-${run.id}-publish` });
  await run.backend({ domain: 'bad domain', name: `hc-${run.id}-bad` });
});
afterAll(() => run.cleanup());

function dryRun(env: Record<string, string> = {}, args: string[] = []) {
  const envArgs = Object.entries({
    DOMAIN_NAME: 'example.com',
    CONTAINER_LABEL_FILTER: run.label,
    HOST_IP: '10.0.0.1',
    HOST_ID: 'host-a',
    ...env,
  }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  return execa(
    'docker',
    ['run', '--rm', '--network', 'host', '-v', '/var/run/docker.sock:/var/run/docker.sock:ro', ...envArgs, ...args, IMAGE, 'dry-run'],
    { reject: false },
  );
}

describe('dry-run', () => {
  it('prints the config and the change batch for the running containers', async () => {
    const result = await dryRun();
    expect(result.exitCode).toBe(0);
    const normalised = result.stdout.replaceAll(run.id, 'RUN').replace(/\b172\.\d+\.\d+\.\d+\b/g, '<container-ip>');
    if (process.env.UPDATE_GOLDEN) await writeFile(golden, normalised);
    expect(normalised).toBe(await readFile(golden, 'utf8'));
    // Logs, including the skipped container, go to stderr, never into the output.
    expect(result.stderr).toMatch(/container skipped/);
    expect(result.stdout).not.toMatch(/"level"/);
  });

  it('fails when HAProxy rejects what a custom template renders', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hc-dry-'));
    const template = await readFile(new URL('../../templates/haproxy.cfg.njk', import.meta.url), 'utf8');
    await writeFile(path.join(dir, 't.njk'), template.replace('    balance roundrobin', '    balance sideways'));
    const result = await dryRun({ HAPROXY_TEMPLATE: '/t/t.njk' }, ['-v', `${dir}:/t:ro`]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/haproxy rejects this configuration/);
    expect(result.stderr).toMatch(/balance only supports/);
  });
});
