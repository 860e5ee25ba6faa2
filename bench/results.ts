import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** One measured figure, in the shape DESIGN.md ("Benchmark results format") fixes. */
export interface BenchResult {
  metric: string;
  value: number;
  unit: string;
  params: Record<string, string | number | boolean>;
  /** The figure the project aims for, in the same unit. */
  target?: number;
  /** A real peer's figure for the same configuration. */
  baseline?: { name: string; value: number };
}

/** A suite's results file, `bench/results/<suite>.json`. */
export interface BenchSuiteFile {
  suite: string;
  date: string;
  node: string;
  cpus: number;
  results: BenchResult[];
}

/** Writes `bench/results/<suite>.json` and returns its path. */
export function writeSuite(suite: string, results: BenchResult[]): string {
  const file: BenchSuiteFile = {
    suite,
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    results,
  };
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const path = new URL(`${suite}.json`, dir);
  writeFileSync(path, JSON.stringify(file, null, 2) + '\n');
  return path.pathname;
}

/** Prints one line per result, with its ratio to the target where there is one. */
export function printSuite(suite: string, results: BenchResult[]): void {
  for (const r of results) {
    const params = Object.entries(r.params)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const target = r.target === undefined ? '' : `  target ${r.target} (ratio ${(r.value / r.target).toFixed(2)})`;
    const base = r.baseline === undefined ? '' : `  ${r.baseline.name} ${r.baseline.value} (ratio ${(r.baseline.value / r.value).toFixed(2)}×)`;
    console.log(`[${suite}] ${r.metric} ${params}: ${r.value} ${r.unit}${target}${base}`);
  }
}
