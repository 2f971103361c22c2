import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle, lazyHttps, leaveOut } from '../../scripts/bundle.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hc-bundle-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the production bundle (scripts/bundle.ts)', () => {
  it('leaves out what the companion never calls, keeps apart what only some configurations load, and is ASCII', async () => {
    const files = await bundle(dir);
    expect(files.map((f) => path.basename(f.file)).sort()).toEqual([
      'acme-client.cjs',
      'main.cjs',
      'pino-pretty.cjs',
      'route53-sdk.cjs',
      'secrets-manager-sdk.cjs',
    ]);
    const main = await readFile(path.join(dir, 'main.cjs'), 'utf8');
    // esbuild marks where each module starts with a comment naming its file.
    for (const absent of [
      'ssh2',
      '@grpc/grpc-js',
      'protobufjs',
      'tar-fs',
      '@aws-sdk/client-route-53',
      'pino-pretty',
      'acme-client',
      'node-forge',
      'axios',
    ])
      expect(main).not.toContain(`// node_modules/${absent}/`);
    expect(main).toContain('// node_modules/dockerode/');
    expect(main).toContain('require("./route53-sdk.cjs")');
    expect(main).toContain('require("./pino-pretty.cjs")');
    expect(main).toContain('require("./acme-client.cjs")');
    expect(main).toContain('require("./secrets-manager-sdk.cjs")');
    // Latin-1 sources are kept at one byte a character.
    expect(/[^\t\n\r -~]/u.test(main)).toBe(false);
    // It runs on its own: every module it needs is inside (a dynamic require of a package would not be).
    const run = spawnSync(process.execPath, [path.join(dir, 'main.cjs'), 'no-such-command'], { cwd: dir, encoding: 'utf8' });
    expect(run.stderr).toMatch(/^usage: haproxy-companion/);
    expect(run.status).toBe(2);
  }, 60_000);

  it('left-out modules can be required, and throw once used; https is the real module when used', async () => {
    const outfile = path.join(dir, 'probe.cjs');
    await build({
      stdin: {
        contents: "module.exports = { ssh2: require('ssh2'), grpc: require('@grpc/grpc-js'), https: require('https') };",
        resolveDir: process.cwd(),
      },
      outfile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      logLevel: 'silent',
      plugins: [leaveOut, lazyHttps],
    });
    const probe = createRequire(import.meta.url)(outfile);
    expect(() => new probe.ssh2.Client()).toThrow(/ssh2 is left out of haproxy-companion's bundle/);
    expect(() => probe.grpc.credentials.createInsecure()).toThrow(/@grpc\/grpc-js is left out/);
    expect(probe.https.request).toBe(https.request);
    expect(new probe.https.Agent()).toBeInstanceOf(https.Agent);
  });
});
