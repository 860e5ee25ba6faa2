// Builds the dashboard page into dist/dashboard (run by `npm run build`, hence by `npm ci`):
// web/dashboard/main.ts bundled with the ledger verifier's own modules for the browser, the
// stylesheets and the HTML. Everything the page loads ships in the package; nothing comes from a CDN.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'web', 'dashboard');

/** The files of a built dashboard (what the server serves; see src/server/dashboard/routes.ts). */
export const DASHBOARD_OUTPUTS = ['index.html', 'app.js', 'app.css', 'uPlot.min.css'];

// The verifier's modules import node builtins for things the page never does (files, the native
// crypto providers): in the browser they resolve to small shims (web/dashboard/shims).
const nodeShims = {
  name: 'node-shims',
  setup(b) {
    b.onResolve({ filter: /^node:crypto$/ }, () => ({ path: join(web, 'shims', 'crypto.ts') }));
    b.onResolve({ filter: /^node:(fs|path|module|url)$/ }, () => ({ path: join(web, 'shims', 'unavailable.ts') }));
    b.onResolve({ filter: /^node:/ }, (a) => ({ errors: [{ text: `${a.path} has no browser shim (imported by ${a.importer})` }] }));
  },
};

/** Writes the dashboard into `outDir` (default dist/dashboard); returns the paths written. */
export async function buildDashboard({ outDir = join(root, 'dist', 'dashboard'), minify = true } = {}) {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(web, 'main.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    legalComments: 'eof',
    inject: [join(web, 'shims', 'buffer.ts')],
    plugins: [nodeShims],
    logLevel: 'warning',
  });
  const require = createRequire(import.meta.url);
  copyFileSync(require.resolve('uplot/dist/uPlot.min.css'), join(outDir, 'uPlot.min.css'));
  copyFileSync(join(web, 'index.html'), join(outDir, 'index.html'));
  copyFileSync(join(web, 'app.css'), join(outDir, 'app.css'));
  return DASHBOARD_OUTPUTS.map((f) => join(outDir, f));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const written = await buildDashboard(process.argv[2] ? { outDir: resolve(process.argv[2]) } : {});
  process.stdout.write(`dashboard: ${written.length} files in ${dirname(written[0])}\n`);
}
