/**
 * Browser bench: the participant page's computations in Debian's Chromium (through playwright-core,
 * never a downloaded browser) against Node's on the same machine. Per client, share-keys and
 * masked-input of whole in-memory rounds (N = 10 on the complete graph, t = 6, malicious mode, no
 * dropouts, no noise) at D = 10⁵ and 10⁶: in the page with the page's noble provider and the
 * bundle's portable ChaCha20 (the page's build options), in Node with the provider `fedveil client`
 * uses (libsodium where it loads). Then local epochs of the logistic-regression model (784 → 10,
 * 600 rows, batch 32, SGD) on every tfjs backend the page can start, and on Node's backend.
 * Both sides are timed in wall-clock ms (performance.now) by the same code (timing.ts); each
 * figure is the median of the timed rounds or epochs. Target: masked input within 3× of Node's.
 * The page's masked input is also timed with its JavaScript AES-256-CTR (the fallback where it
 * cannot compile WebAssembly), and both AES implementations' throughput side by side, so that
 * old against new is a ratio within one page run, which a loaded machine distorts less.
 *
 * Options: `--n`, `--rounds` (timed rounds per D, default 3), `--d` (one D instead of 1e5 and 1e6),
 * `--repeats` (timed epochs per backend, default 5).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { chromium as playwright } from 'playwright-core';
import { numberArg, type BenchArgs } from '../args.js';
import type { BenchResult } from '../results.js';
import { defaultProvider } from '../../src/secagg/index.js';
import { initBackend } from '../../src/trainer/index.js';
import type { BrowserBackendKind } from '../../src/trainer/browser-backend.js';
import { browserBundleOptions, WASM_BINARIES } from '../../scripts/build-participant-web.mjs';
import { chromium } from '../../test/services.js';
import { median, timeEpochs, timeRounds, type EpochCell, type RoundCell, type RoundTimes } from './timing.js';

const TARGET_RATIO = 3;
const BACKENDS: BrowserBackendKind[] = ['webgl', 'wasm', 'cpu'];

type AesBackend = 'wasm' | 'javascript';

interface PageBench {
  provider: string;
  /** The page's AES-256-CTR (the rounding and noise stream): 'wasm' where it compiles WebAssembly. */
  aes: AesBackend;
  rounds(cell: RoundCell): RoundTimes;
  aesRounds(cell: RoundCell): Record<AesBackend, number[]>;
  aesMsPerMb(mb: number): Record<AesBackend, number>;
  epochs(backend: BrowserBackendKind, cell: EpochCell): Promise<{ backend: string; ms?: number[]; dim?: number; error?: string }>;
}

/** Serves the bench page, its bundle and the wasm backend's binaries on a loopback port. */
async function servePage(bundle: string): Promise<{ server: Server; url: string }> {
  const wasmDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
  const files = new Map<string, { type: string; body: Buffer | string }>([
    ['/', { type: 'text/html', body: '<!doctype html><meta charset="utf-8"><title>fedveil browser bench</title><script type="module" src="bench.js"></script>' }],
    ['/bench.js', { type: 'text/javascript', body: bundle }],
    ...WASM_BINARIES.map((f): [string, { type: string; body: Buffer }] => [`/${f}`, { type: 'application/wasm', body: readFileSync(join(wasmDir, f)) }]),
  ]);
  const server = createServer((req, res) => {
    const file = files.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file.type }).end(file.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` };
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

export async function run(args: BenchArgs = {}): Promise<BenchResult[]> {
  const service = chromium();
  if (!service.available) throw new Error(service.skipReason);
  const n = numberArg(args, 'n', 10);
  const rounds = numberArg(args, 'rounds', 3);
  const repeats = numberArg(args, 'repeats', 5);
  const ds = args.d === undefined ? [1e5, 1e6] : [numberArg(args, 'd', 1e5)];
  const t = Math.floor(n / 2) + 1;
  const epochCell: EpochCell = { inputSize: 784, numClasses: 10, examples: 600, batch: 32, repeats };

  const out = await build({ ...browserBundleOptions(), entryPoints: [join(dirname(new URL(import.meta.url).pathname), 'page-entry.ts')], format: 'esm', write: false });
  const { server, url } = await servePage(out.outputFiles[0]!.text);
  const browser = await playwright.launch({ executablePath: service.location, args: ['--no-sandbox'] });
  const results: BenchResult[] = [];
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url);
    await page.waitForFunction(() => 'fedveilBench' in globalThis);
    const version = browser.version();
    const pageProvider = await page.evaluate(() => (globalThis as unknown as { fedveilBench: PageBench }).fedveilBench.provider);
    const pageAes = await page.evaluate(() => (globalThis as unknown as { fedveilBench: PageBench }).fedveilBench.aes);

    // The page's two AES-256-CTR implementations, side by side in one page (load hits both alike).
    const aesMs = await page.evaluate((mb) => (globalThis as unknown as { fedveilBench: PageBench }).fedveilBench.aesMsPerMb(mb), 16);
    console.log(`[browser] Chromium AES-256-CTR: JavaScript ${round1(aesMs.javascript)} ms/MB, WebAssembly ${round1(aesMs.wasm)} ms/MB`);
    const aesParams = { MB: 16, update: 65536, clock: 'wall', browser: `chromium ${version}` };
    results.push({ metric: 'browser_aes256ctr_ms_per_mb', value: round3(aesMs.javascript), unit: 'ms', params: { ...aesParams, aes: 'javascript' } });
    results.push({ metric: 'browser_aes256ctr_ms_per_mb', value: round3(aesMs.wasm), unit: 'ms', params: { ...aesParams, aes: 'wasm' } });

    for (const d of ds) {
      const cell: RoundCell = { n, d, t, rounds };
      const inPage = await page.evaluate((c) => (globalThis as unknown as { fedveilBench: PageBench }).fedveilBench.rounds(c), cell);
      // The JavaScript AES the page used before the WebAssembly one (and still uses where it
      // cannot compile WebAssembly) against the WebAssembly one, round for round in one page.
      const aesPairs = await page.evaluate((c) => (globalThis as unknown as { fedveilBench: PageBench }).fedveilBench.aesRounds(c), cell);
      const inNode = timeRounds(cell, defaultProvider);
      const params = { N: n, D: d, k: n, t, graph: 'complete', rounds, clock: 'wall' };
      const b = { shareKeys: median(inPage.shareKeysMs), masked: median(inPage.maskedInputMs) };
      const nd = { shareKeys: median(inNode.shareKeysMs), masked: median(inNode.maskedInputMs) };
      console.log(
        `[browser] N=${n} D=${d}: Chromium (${pageProvider}) share-keys [${inPage.shareKeysMs.map(round1).join(', ')}] ms, masked-input [${inPage.maskedInputMs.map(round1).join(', ')}] ms; ` +
          `Node (${defaultProvider.name}) share-keys [${inNode.shareKeysMs.map(round1).join(', ')}] ms, masked-input [${inNode.maskedInputMs.map(round1).join(', ')}] ms; ` +
          `Chromium masked-input in alternating rounds, JavaScript AES [${aesPairs.javascript.map(round1).join(', ')}] ms, WebAssembly AES [${aesPairs.wasm.map(round1).join(', ')}] ms`,
      );
      const browserParams = { ...params, provider: pageProvider, aes: pageAes, browser: `chromium ${version}` };
      const pairParams = { ...params, pairs: rounds, provider: pageProvider, browser: `chromium ${version}` };
      results.push({ metric: 'browser_masked_input_aes_pairs_ms', value: round1(median(aesPairs.javascript)), unit: 'ms', params: { ...pairParams, aes: 'javascript' } });
      results.push({ metric: 'browser_masked_input_aes_pairs_ms', value: round1(median(aesPairs.wasm)), unit: 'ms', params: { ...pairParams, aes: 'wasm' } });
      // The median of the pairs' ratios: each pair's two rounds ran back to back.
      const pairRatios = aesPairs.javascript.map((js, i) => js / (aesPairs.wasm[i] as number));
      results.push({ metric: 'browser_masked_input_aes_speedup', value: round3(median(pairRatios)), unit: 'ratio', params: { ...pairParams, aes: 'javascript / wasm' } });
      const nodeParams = { ...params, provider: defaultProvider.name, node: process.version };
      results.push({ metric: 'browser_share_keys_ms', value: round1(b.shareKeys), unit: 'ms', params: browserParams });
      results.push({ metric: 'browser_masked_input_ms', value: round1(b.masked), unit: 'ms', params: browserParams });
      results.push({ metric: 'node_share_keys_ms', value: round1(nd.shareKeys), unit: 'ms', params: nodeParams });
      results.push({ metric: 'node_masked_input_ms', value: round1(nd.masked), unit: 'ms', params: nodeParams });
      results.push({ metric: 'browser_to_node_share_keys_ratio', value: round3(b.shareKeys / nd.shareKeys), unit: 'ratio', params });
      results.push({ metric: 'browser_to_node_masked_input_ratio', value: round3(b.masked / nd.masked), unit: 'ratio', params, target: TARGET_RATIO });
    }

    const epochParams = { model: 'logreg', examples: epochCell.examples, batch: epochCell.batch, repeats };
    for (const backend of BACKENDS) {
      const r = await page.evaluate(([k, c]) => (globalThis as unknown as { fedveilBench: PageBench }).fedveilBench.epochs(k, c), [backend, epochCell] as const);
      if (r.ms === undefined) {
        console.log(`[browser] ${backend} backend did not start in Chromium: ${r.error}`);
        continue;
      }
      console.log(`[browser] Chromium ${r.backend} epochs [${r.ms.map(round1).join(', ')}] ms`);
      results.push({ metric: 'browser_local_epoch_ms', value: round1(median(r.ms)), unit: 'ms', params: { ...epochParams, dim: r.dim!, backend: r.backend, browser: `chromium ${version}` } });
    }
    const nodeBackend = await initBackend();
    const nodeEpochs = await timeEpochs(epochCell);
    console.log(`[browser] Node ${nodeBackend.name} epochs [${nodeEpochs.ms.map(round1).join(', ')}] ms`);
    results.push({ metric: 'node_local_epoch_ms', value: round1(median(nodeEpochs.ms)), unit: 'ms', params: { ...epochParams, dim: nodeEpochs.dim, backend: nodeBackend.name, node: process.version } });
    if (errors.length > 0) throw new Error(`the bench page failed: ${errors.join('; ')}`);
  } finally {
    await browser.close();
    server.close();
  }
  return results;
}
