#!/usr/bin/env node
/**
 * Entry point. `haproxy-companion` (no argument) runs the companion; `haproxy-companion dry-run`
 * prints the haproxy.cfg and the Route53 changes the current containers would give, applying nothing.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCompanion } from './companion.js';
import { type Config, loadConfig } from './config.js';
import { dryRun } from './dry-run.js';
import { asError, ConfigError } from './errors.js';
import { createJsonLogger, createLogger } from './log.js';

const DEFAULT_TEMPLATE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../templates/haproxy.cfg.njk');
const COMMANDS = ['run', 'dry-run'] as const;

async function main(): Promise<void> {
  const command = process.argv[2] ?? 'run';
  if (!(COMMANDS as readonly string[]).includes(command)) {
    process.stderr.write(`usage: haproxy-companion [${COMMANDS.join('|')}]\n`);
    process.exit(2);
  }
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
