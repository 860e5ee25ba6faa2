/**
 * `npm run bench` runs every suite; `npm run bench -- <suite> [...]` runs the named ones, with
 * `--name value` options passed to them (`npm run bench -- protocol --n 1000 --d 1e5`).
 * A suite is `bench/<suite>/index.ts` exporting `run(args): Promise<BenchResult[]>`.
 */
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseBenchArgs, type BenchArgs } from './args.js';
import { printSuite, writeSuite, type BenchResult } from './results.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(here)
  .filter((name) => name !== 'results' && statSync(`${here}/${name}`).isDirectory())
  .sort();
const { suites: requested, args } = parseBenchArgs(process.argv.slice(2));
const unknown = requested.filter((s) => !available.includes(s));
if (unknown.length > 0) {
  console.error(`unknown bench suite(s): ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
for (const suite of requested.length > 0 ? requested : available) {
  const mod = (await import(`./${suite}/index.ts`)) as { run: (args: BenchArgs) => Promise<BenchResult[]> };
  const results = await mod.run(args);
  const path = writeSuite(suite, results);
  printSuite(suite, results);
  console.log(`[${suite}] wrote ${path}`);
}
