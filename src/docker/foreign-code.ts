/**
 * Whether a candidate successor (successor-rules.ts) may run code its image did not bring, under the
 * image's own entrypoint and command: its /healthz answer would then be that code's, not the companion's.
 * Node and the dynamic loader take code from the environment (`NODE_OPTIONS=--import=data:…`,
 * `LD_PRELOAD`, a `PATH` with another `node` first) and from whatever a mount puts over the program. What
 * the image itself sets is the image's: only what the container sets beyond it is judged. Pure.
 */
import path from 'node:path';

/** Environment variables that make node, or the loader before it, read code or find another program. */
const CODE_ENV = [
  'PATH',
  'LD_PRELOAD',
  'LD_AUDIT',
  'LD_LIBRARY_PATH',
  'GCONV_PATH',
  'NODE_PATH',
  'NODE_COMPILE_CACHE',
  'NODE_ICU_DATA',
  'OPENSSL_CONF',
  'OPENSSL_MODULES',
  'OPENSSL_ENGINES',
];

/**
 * NODE_OPTIONS flags (of `process.allowedNodeEnvironmentFlags`) that load a module or a file of code, or
 * open the inspector, through which whoever reaches it runs code. The rest (memory, warnings, source maps,
 * TLS defaults) are an operator's to set, as the Dockerfile suggests.
 */
const CODE_FLAGS = new Set([
  '-r',
  '--require',
  '--import',
  '--loader',
  '--experimental-loader',
  '--snapshot-blob',
  '--openssl-config',
  '--inspect',
  '--inspect-brk',
  '--inspect-wait',
  '--test-reporter',
  '--test-global-setup',
]);

/** Where the program is: its bundle, the directories `node` and `tini` are found in, the loader's files, the libraries. */
const PROGRAM_PATHS = [
  '/app',
  '/usr/bin/tini',
  '/lib',
  '/lib64',
  '/usr/lib',
  '/usr/lib64',
  '/usr/local/lib',
  '/usr/local/ssl',
  '/etc/ld.so.preload',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/ssl/openssl.cnf',
];

/** What `docker inspect` says of a container's environment and mounts. */
export interface CodeSources {
  Config?: { Env?: string[] | null };
  Mounts?: Array<{ Destination?: string }> | null;
  HostConfig?: { Binds?: string[] | null; Mounts?: Array<{ Target?: string }> | null; Tmpfs?: Record<string, string> | null };
}

const envOf = (env: readonly string[] | null | undefined) =>
  new Map((env ?? []).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));

/** Why `candidate` may run code that `imageEnv`'s image did not bring, or undefined. */
export function foreignCodeOf(candidate: CodeSources, imageEnv: readonly string[]): string | undefined {
  const theirs = envOf(candidate.Config?.Env);
  const image = envOf(imageEnv);
  for (const key of CODE_ENV) {
    const value = theirs.get(key);
    if (value !== undefined && value !== image.get(key))
      return `its environment sets ${key}, which the image does not: code could come from it`;
  }
  const options = theirs.get('NODE_OPTIONS');
  if (options !== undefined && options !== image.get('NODE_OPTIONS')) {
    const flag = nodeOptionsFlags(options).find((name) => CODE_FLAGS.has(name));
    if (flag !== undefined) return `its NODE_OPTIONS has ${flag}, which makes node run code the image did not bring`;
  }
  const programPaths = [...PROGRAM_PATHS, ...(image.get('PATH') ?? '').split(':').filter((dir) => dir.startsWith('/'))];
  for (const target of mountTargets(candidate)) {
    const covered = programPaths.find((program) => overlaps(target, program));
    if (covered !== undefined) return `a mount at ${JSON.stringify(target.slice(0, 200))} covers ${covered}, part of the image's program`;
  }
  return undefined;
}

/**
 * The flag names Node would find in NODE_OPTIONS, and some it would not: a `"` starts or ends a quoted
 * part and a backslash escapes inside one (node_options.cc), so both are dropped before splitting, which
 * can only split more than Node does. `_` and `-` are the same in a flag's name.
 */
function nodeOptionsFlags(options: string): string[] {
  return options
    .replace(/["\\]/g, '')
    .split(/\s+/)
    .filter((word) => word.startsWith('-'))
    .map((word) => (word.split('=')[0] as string).replace(/_/g, '-'));
}

function mountTargets(candidate: CodeSources): string[] {
  const targets = [
    ...(candidate.Mounts ?? []).map((mount) => mount.Destination),
    // `source:target[:options]`; a named volume is `name:target`.
    ...(candidate.HostConfig?.Binds ?? []).map((bind) => bind.split(':')[1]),
    ...(candidate.HostConfig?.Mounts ?? []).map((mount) => mount.Target),
    ...Object.keys(candidate.HostConfig?.Tmpfs ?? {}),
  ];
  return targets.filter((target): target is string => typeof target === 'string' && target !== '');
}

/** Whether a mount at `target` replaces `program` or part of it. */
function overlaps(target: string, program: string): boolean {
  const mount = path.posix.resolve('/', target);
  return mount === program || program.startsWith(`${mount}/`) || mount.startsWith(`${program}/`) || mount === '/';
}
