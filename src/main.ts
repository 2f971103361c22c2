#!/usr/bin/env node
/**
 * Entry point. `haproxy-companion` (no argument) runs the companion; `haproxy-companion dry-run`
 * prints the haproxy.cfg and the Route53 changes the current containers would give, applying nothing;
 * `haproxy-companion upgrade <container> [image]` replaces a running companion with this image (or
 * `image`) without a gap (src/docker/upgrade.ts).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { runCompanion } from './companion.js';
import { type Config, loadConfig } from './config.js';
import { findSelfContainerId } from './docker/self-id.js';
import { type UpgradeDocker, upgradeCompanion } from './docker/upgrade.js';
import { dryRun } from './dry-run.js';
import { asError, ConfigError } from './errors.js';
import { createJsonLogger, createLogger } from './log.js';

const DEFAULT_TEMPLATE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../templates/haproxy.cfg.njk');
const COMMANDS = ['run', 'dry-run', 'upgrade'] as const;

async function main(): Promise<void> {
  const command = process.argv[2] ?? 'run';
  if (!(COMMANDS as readonly string[]).includes(command)) {
    process.stderr.write(`usage: haproxy-companion [${COMMANDS.join('|')}]\n`);
    process.exit(2);
  }
  if (command === 'upgrade') return upgrade(process.argv[3], process.argv[4]);
  let config: Config;
  try {
    config = loadConfig(process.env, DEFAULT_TEMPLATE);
  } catch (error) {
    if (error instanceof ConfigError) {
      createJsonLogger({ level: 'info' }).fatal({ problems: error.problems }, error.message);
      process.exit(2);
    }
    throw error;
  }
  if (command === 'dry-run') {
    // stdout carries the result; logs go to stderr.
    process.exitCode = await dryRun(config, await createLogger({ ...config.log, stderr: true }));
    return;
  }
  await runCompanion(config, await createLogger(config.log));
}

/** Needs no configuration of its own: the companion's is the running container's. */
async function upgrade(container: string | undefined, image: string | undefined): Promise<void> {
  if (container === undefined) {
    process.stderr.write('usage: haproxy-companion upgrade <container> [image]\n');
    process.exit(2);
  }
  const log = createJsonLogger({ level: 'info' });
  const docker = new Docker();
  const target = image ?? (await imageOfThisContainer(docker));
  if (target === undefined) {
    log.fatal('not running in a container: name the image, `upgrade <container> <image>`');
    process.exit(2);
  }
  await upgradeCompanion(docker as unknown as UpgradeDocker, container, target, log);
}

async function imageOfThisContainer(docker: { getContainer(id: string): { inspect(): Promise<{ Config: { Image: string } }> } }) {
  const self = await findSelfContainerId();
  return self === undefined ? undefined : (await docker.getContainer(self).inspect()).Config.Image;
}

main().catch((error: unknown) => {
  const log = createJsonLogger({ level: 'info' });
  // A setting the host cannot honour (LISTEN_IPV6=true without IPv6) is found only once running: as at load.
  if (error instanceof ConfigError) {
    log.fatal({ problems: error.problems }, error.message);
    process.exit(2);
  }
  log.fatal({ err: asError(error) }, 'haproxy-companion failed to start');
  process.exit(1);
});
