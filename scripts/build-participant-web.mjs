// Builds the browser participant's page into dist/participant (run by `npm run build`):
// web/participant/main.ts bundled with the participant's protocol client, the portable crypto
// provider, the DP encoder, the ledger checks and the tfjs trainer; the wasm backend's binaries;
// the stylesheet and the HTML. Everything the page loads ships in the package; nothing from a CDN.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'web', 'participant');
const shims = join(root, 'web', 'dashboard', 'shims');

/** The wasm backend's binaries (plain, SIMD, threaded SIMD): tfjs picks one at run time. */
export const WASM_BINARIES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

/** The files of a built participant page (what the server serves; see src/server/participant-page.ts). */
export const PARTICIPANT_OUTPUTS = ['index.html', 'app.js', 'app.css', ...WASM_BINARIES];

/**
 * Node builtins in the browser: `node:crypto` becomes the shim on @noble/hashes and portable
 * ChaCha20/AES (held to node:crypto's output by test/server/dashboard-shims.test.ts); the file
 * modules become stubs that throw, for code paths the page never takes (identity files, receipt
 * folders, sodium-native). `sodium-native` itself is never bundled: nothing requires it statically.
 * Any other node builtin is a build error, so a new one cannot slip in unnoticed.
 */
export const nodeShims = {
  name: 'node-shims',
  setup(b) {
    b.onResolve({ filter: /^node:crypto$/ }, () => ({ path: join(shims, 'crypto.ts') }));
    b.onResolve({ filter: /^node:(fs|path|module|url)$/ }, () => ({ path: join(shims, 'unavailable.ts') }));
    b.onResolve({ filter: /^node:/ }, (a) => ({ errors: [{ text: `${a.path} has no browser shim (imported by ${a.importer})` }] }));
  },
};

/** esbuild options shared by the page and the browser vector tests (test/browser). */
export function browserBundleOptions() {
  return {
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    legalComments: 'eof',
    inject: [join(shims, 'buffer.ts')],
    plugins: [nodeShims],
    logLevel: 'warning',
  };
}

/** Writes the participant page into `outDir` (default dist/participant); returns the paths written. */
export async function buildParticipantWeb({ outDir = join(root, 'dist', 'participant'), minify = true } = {}) {
  mkdirSync(outDir, { recursive: true });
  await build({
    ...browserBundleOptions(),
    entryPoints: [join(web, 'main.ts')],
    outfile: join(outDir, 'app.js'),
    format: 'esm',
    minify,
  });
  const require = createRequire(import.meta.url);
  const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  for (const f of WASM_BINARIES) copyFileSync(join(wasmDir, f), join(outDir, f));
  copyFileSync(join(web, 'index.html'), join(outDir, 'index.html'));
  copyFileSync(join(web, 'app.css'), join(outDir, 'app.css'));
  return PARTICIPANT_OUTPUTS.map((f) => join(outDir, f));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const written = await buildParticipantWeb(process.argv[2] ? { outDir: resolve(process.argv[2]) } : {});
  process.stdout.write(`participant page: ${written.length} files in ${dirname(written[0])}\n`);
}
