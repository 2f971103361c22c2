#!/usr/bin/env node
/**
 * The production bundle the image runs: bundle/main.cjs, one CommonJS file with its dependencies in it,
 * next to templates/ as dist/ is, and a source map for each file. Run by `npm run build` after tsc (which
 * typechecks; dist/main.js stays the unbundled entry for development). Why a bundle (each step
 * measured in docs/memory.md):
 *
 * - dockerode requires at import, for features the companion never uses, BuildKit's gRPC client and
 *   protobufjs (image builds), ssh2 (`ssh://` DOCKER_HOST), tar-fs and a .dockerignore parser (build
 *   contexts, archives). The bundle replaces them with a stub that throws if it is ever called.
 * - CommonJS output turns every `import ... from 'node:x'` into `require('node:x')`. An ES import of a
 *   Node built-in reads all of its exports up front, lazy ones included: `node:http`'s WebSocket loads
 *   undici, `node:process`'s report and finalization load their modules, and so on.
 * - One file instead of ~500: no per-module loader records, resolution caches or package.json reads.
 * - What only some configurations use is bundled apart and required on first use: the AWS SDK (with
 *   HOSTED_ZONE_ID), pino-pretty (LOG_FORMAT=pretty), acme-client and the Secrets Manager SDK (ACME). Code merely present in the main bundle costs
 *   memory even if it never runs (V8 keeps the source and pre-parses it): 5.5 MB for the SDK.
 *
 * Not minified: minifying made it larger in memory (V8 compiles eagerly more of the minified code), and
 * stack traces keep the functions' names. The source map is not loaded by default (parsing it costs
 * ~10 MB): `NODE_OPTIONS="--enable-source-maps ..."` maps stack traces back to src/*.ts when needed.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { type BuildOptions, build, type Plugin } from 'esbuild';

/** What dockerode and docker-modem require at import but the companion never calls (list, inspect and events need none). */
const LEFT_OUT = ['ssh2', '@grpc/grpc-js', '@grpc/proto-loader', 'protobufjs', 'tar-fs', '@balena/dockerignore'];

/**
 * A module that can be required, and its properties read and passed around (dockerode does at import);
 * calling or constructing anything in it throws.
 */
function stubOf(name: string): string {
  const message = `${name} is left out of haproxy-companion's bundle (scripts/bundle.ts): the companion only lists, inspects and watches containers`;
  return `const fail = () => {
  throw new Error(${JSON.stringify(message)});
};
const stub = new Proxy(function () {}, { get: (_, key) => (key === '__esModule' ? undefined : stub), apply: fail, construct: fail });
module.exports = stub;
`;
}

/** Packages some configurations never load: each in a file of its own next to main.cjs. */
const APART: Record<string, string> = {
  '@aws-sdk/client-route-53': 'route53-sdk.cjs',
  'pino-pretty': 'pino-pretty.cjs',
  // ACME (ACME_EMAIL), and its store when it is Secrets Manager (TLS_STORE=secretsmanager:…).
  'acme-client': 'acme-client.cjs',
  '@aws-sdk/client-secrets-manager': 'secrets-manager-sdk.cjs',
};

const exactly = (names: string[]) => new RegExp(`^(${names.map((n) => n.replace(/[/.@-]/g, '\\$&')).join('|')})$`);

export const leaveOut: Plugin = {
  name: 'leave-out',
  setup(bundle) {
    bundle.onResolve({ filter: exactly(LEFT_OUT) }, (args) => ({ path: args.path, namespace: 'left-out' }));
    bundle.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => ({ contents: stubOf(args.path), loader: 'js' }));
  },
};

/**
 * `https` is loaded on first use rather than at import: docker-modem (and prom-client's Pushgateway)
 * require it up front, though only a TLS Docker connection (DOCKER_TLS_VERIFY) uses it; with tls it
 * costs ~3 MB. What they get is a stand-in that loads the module the first time anything is read from it.
 */
export const lazyHttps: Plugin = {
  name: 'lazy-https',
  setup(bundle) {
    bundle.onResolve({ filter: /^(node:)?https$/ }, (args) =>
      // The stand-in's own require must reach the real module.
      args.namespace === 'lazy' ? undefined : { path: 'https', namespace: 'lazy' },
    );
    bundle.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      contents: `let https;
const real = () => (https ??= require('node:https'));
module.exports = new Proxy({}, {
  get: (_, key) => Reflect.get(real(), key),
  has: (_, key) => Reflect.has(real(), key),
  ownKeys: () => Reflect.ownKeys(real()),
  getOwnPropertyDescriptor: (_, key) => ({ ...Reflect.getOwnPropertyDescriptor(real(), key), configurable: true }),
});
`,
      loader: 'js',
    }));
  },
};

/** In the main bundle, an import of a package bundled apart becomes a require of its file, at run time. */
const requireApart: Plugin = {
  name: 'require-apart',
  setup(bundle) {
    bundle.onResolve({ filter: exactly(Object.keys(APART)) }, (args) => ({ path: `./${APART[args.path]}`, external: true }));
  },
};

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  sourcemap: 'linked',
  // Positions are all a stack trace needs; the sources themselves would triple the maps.
  sourcesContent: false,
  logLevel: 'warning',
  metafile: true,
};

/**
 * V8 keeps a script's source in memory, as one byte a character only if every character is Latin-1: a
 * single em dash in a dependency's comment doubles it (2.8 MB instead of 1.4 for main.cjs). esbuild
 * escapes non-ASCII characters in code, not in the comments it keeps, so these are escaped here
 * (nothing after a line comment shifts; the source maps stay right).
 */
async function asciiOnly(file: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  const ascii = text.replace(/[^\t\n\r -~]/gu, (c) => `\\u{${c.codePointAt(0)?.toString(16)}}`);
  if (ascii !== text) await writeFile(file, ascii);
}

/** Builds main.cjs and the files bundled apart into `outdir`; returns each file's size and module count. */
export async function bundle(outdir: string): Promise<{ file: string; bytes: number; modules: number }[]> {
  const results = await Promise.all([
    build({
      ...common,
      entryPoints: ['src/main.ts'],
      outfile: `${outdir}/main.cjs`,
      // main.ts finds the default template next to itself through import.meta.url, which CommonJS lacks.
      define: { 'import.meta.url': '__bundleUrl' },
      banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
      // import() of a file bundled apart becomes require(): an import() would start Node's ES module loader.
      supported: { 'dynamic-import': false },
      plugins: [leaveOut, lazyHttps, requireApart],
    }),
    ...Object.entries(APART).map(([name, file]) =>
      build({
        ...common,
        stdin: { contents: `module.exports = require(${JSON.stringify(name)});`, resolveDir: process.cwd(), sourcefile: `${name}.js` },
        outfile: `${outdir}/${file}`,
        plugins: [leaveOut],
      }),
    ),
  ]);
  const files = [];
  for (const result of results) {
    for (const [file, output] of Object.entries(result.metafile?.outputs ?? {})) {
      if (file.endsWith('.map')) continue;
      await asciiOnly(file);
      files.push({ file, bytes: output.bytes, modules: Object.keys(output.inputs).length });
    }
  }
  return files;
}

if (import.meta.main) {
  for (const { file, bytes, modules } of await bundle('bundle'))
    console.log(`${file}: ${(bytes / 2 ** 20).toFixed(2)} MB from ${modules} modules`);
}
