/**
 * Scale benchmark: one SecAgg+ round per configuration over loopback HTTP, the coordinator in its
 * own process (its peak RSS read from /proc/PID/status VmHWM by this process), the clients in
 * `workers` load-generator processes producing real masked, signed messages (client-worker.ts).
 * Each batch of `concurrent` masked vectors is uploaded at once.
 *
 * `npm run bench -- scale` runs N ∈ {100, 500, 1000, 2000, 5000} at D = 10⁵ and N ∈ {100, 1000} at
 * D = 10⁶; `--cells 1,3` picks some of them (1-based); `--n 1000 --d 1e6` runs one configuration.
 * Other options: `--concurrent` (default N, or 128 at D ≥ 10⁶ so the generator fits in memory),
 * `--workers` (2), `--slots` (coordinator staging buffers, 8), `--queue` (uploads that may wait
 * for one, 64), `--runtime` (the coordinator process: node on a bundle of the sources, as
 * production runs compiled JavaScript, or tsx; default node), `--dropout` (0.1),
 * `--dropout-phase` (masked-input), `--graph` (secagg+ | complete), `--mode` (semi-honest |
 * malicious), `--deadline-s` (each phase's deadline; a phase with dropouts lasts this long),
 * `--append` (keep the other cells of the last bench/results/scale.json and fit over all),
 * `--from-logs a.log,b.log` (no run: the results and fits of the cells those runs' output printed).
 * FEDVEIL_SCALE_MEMLOG=<ms> has the coordinator log its memory by phase (coordinator-process.ts).
 * After each cell at most `--flower-max-nd` (n·d, 10⁸) Flower's SecAgg+ runs at the same n, d,
 * dropout, k and t (`--flower false` skips it; `--flower-timeout-s`, 300; see flower.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { PHASES, type Phase } from '../../src/protocol/phases.js';
import { numberArg, type BenchArgs } from '../args.js';
import type { BenchResult, BenchSuiteFile } from '../results.js';
import { runFlower, type FlowerFigures } from './flower.js';
import { runScale, type ScaleFigures, type ScaleRun } from './load-generator.js';

const CELLS: { n: number; d: number }[] = [
  { n: 100, d: 1e5 },
  { n: 500, d: 1e5 },
  { n: 1000, d: 1e5 },
  { n: 2000, d: 1e5 },
  { n: 5000, d: 1e5 },
  { n: 100, d: 1e6 },
  { n: 1000, d: 1e6 },
];

const FLOWER = 'flower-1.30-secaggplus';
/** DESIGN.md: round CPU at least 20× below Flower's SecAgg+ at the same n, d and dropout. */
const FLOWER_RATIO_TARGET = 20;

/** The coordinator's memory target of issue 16 (n = 1000, d = 10⁶, all uploads concurrent). */
const RSS_TARGET_MB = 256;

function runOf(n: number, d: number, args: BenchArgs): ScaleRun {
  const graph = args.graph ?? 'secagg+';
  if (graph !== 'secagg+' && graph !== 'complete') throw new Error(`--graph must be secagg+ or complete, got '${graph}'`);
  const mode = args.mode ?? 'semi-honest';
  if (mode !== 'semi-honest' && mode !== 'malicious') throw new Error(`--mode must be semi-honest or malicious, got '${mode}'`);
  const runtime = args.runtime ?? 'node';
  if (runtime !== 'node' && runtime !== 'tsx') throw new Error(`--runtime must be node or tsx, got '${runtime}'`);
  const dropoutPhase = (args['dropout-phase'] ?? 'masked-input') as Phase;
  if (!PHASES.includes(dropoutPhase)) throw new Error(`--dropout-phase must be one of ${PHASES.join(', ')}`);
  // Bell et al.'s k for 10 % dropout and corruption is 33 at n = 100 and grows with n (47 at 500).
  const kGuess = graph === 'complete' ? n : 64;
  return {
    n,
    d,
    dropout: numberArg(args, 'dropout', 0.1),
    dropoutPhase,
    graph,
    mode,
    concurrent: numberArg(args, 'concurrent', d >= 1e6 ? Math.min(n, 128) : n),
    workers: numberArg(args, 'workers', 2),
    uploadSlots: numberArg(args, 'slots', 8),
    uploadQueue: numberArg(args, 'queue', 64),
    runtime,
    // Generous for a loaded 2-core machine (masking costs about n·d·k word operations in all, and
    // a client still uploading at the deadline fails the run); the phase with the dropouts is
    // closed as soon as only they are missing (coordinator-process.ts), so this costs no waiting.
    deadlineMs: 1000 * numberArg(args, 'deadline-s', Math.max(1800, Math.ceil(30 + (n * d * kGuess * 64) / 1e9))),
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

function results(r: ScaleRun, f: ScaleFigures, flower: FlowerFigures | null): BenchResult[] {
  const params = { n: r.n, d: r.d, concurrent: r.concurrent, k: f.k, t: f.t, dropout: r.dropout, dropout_phase: r.dropoutPhase, graph: r.graph, mode: r.mode, slots: r.uploadSlots, workers: r.workers };
  const base = (value: number | undefined) => (flower && value !== undefined ? { baseline: { name: FLOWER, value: round3(value) } } : {});
  const out: BenchResult[] = [
    { metric: 'round_cpu_s', value: round3(f.roundCpuS), unit: 's', params, ...base(flower?.roundCpuS) },
    { metric: 'coordinator_cpu_s', value: round3(f.coordinatorCpuS), unit: 's', params },
    { metric: 'server_unmask_cpu_s', value: round3(f.serverUnmaskCpuS), unit: 's', params, ...base(flower?.serverUnmaskCpuS) },
    { metric: 'client_share_keys_ms', value: round3(f.shareKeysMs), unit: 'ms', params, ...base(flower?.shareKeysMs) },
    { metric: 'client_masked_input_ms', value: round3(f.maskedInputMs), unit: 'ms', params, ...base(flower?.maskedInputMs) },
    {
      metric: 'coordinator_peak_rss_mb',
      value: round3(f.coordinatorPeakRssMb),
      unit: 'MB',
      params: { n: r.n, d: r.d, concurrent: r.concurrent, slots: r.uploadSlots, queue: r.uploadQueue, runtime: r.runtime },
      ...(r.d >= 1e6 ? { target: RSS_TARGET_MB } : {}),
    },
    { metric: 'coordinator_idle_rss_mb', value: round3(f.coordinatorIdleRssMb), unit: 'MB', params: { n: r.n, d: r.d, runtime: r.runtime } },
    { metric: 'upload_busy_retries', value: f.busyRetries, unit: 'count', params: { n: r.n, d: r.d, concurrent: r.concurrent, slots: r.uploadSlots, queue: r.uploadQueue } },
    { metric: 'generator_peak_rss_mb', value: round3(f.generatorPeakRssMb), unit: 'MB', params: { n: r.n, d: r.d, concurrent: r.concurrent, workers: r.workers } },
    { metric: 'round_wall_s', value: round3(f.roundWallS), unit: 's', params },
  ];
  if (flower) {
    // Flower ran in this run, right after this cell, at the same n, d, dropout, k and t.
    const fp = { n: r.n, d: r.d, k: f.k, t: f.t, dropout: r.dropout, flower_k: flower.k, flower_t: flower.t, flower_measured_at: flower.measuredAt };
    out.push({ metric: 'flower_round_cpu_ratio', value: round3(flower.roundCpuS / f.roundCpuS), unit: 'ratio', params: fp, target: FLOWER_RATIO_TARGET });
    out.push({ metric: 'flower_server_unmask_cpu_ratio', value: round3(flower.serverUnmaskCpuS / f.serverUnmaskCpuS), unit: 'ratio', params: fp });
    out.push({ metric: 'flower_peak_rss_mb', value: round3(flower.peakRssMb), unit: 'MB', params: fp });
  }
  return out;
}

/** Whether Flower runs after a cell: `--flower` (true | false, default true) and at most `--flower-max-nd` (n·d, default 10⁸). */
function flowerWanted(r: ScaleRun, args: BenchArgs): boolean {
  if ((args.flower ?? 'true') === 'false') return false;
  if (r.graph !== 'secagg+' || r.mode !== 'semi-honest' || r.dropoutPhase !== 'masked-input') return false;
  return r.n * r.d <= numberArg(args, 'flower-max-nd', 1e8);
}

/** Least-squares slope of ys against xs (both already on a log scale), to three decimals. */
function slope(xs: number[], ys: number[]): number {
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  xs.forEach((x, i) => {
    num += (x - mx) * ((ys[i] as number) - my);
    den += (x - mx) ** 2;
  });
  return Math.round((num / den) * 1000) / 1000;
}

const GROWTH = ['coordinator_cpu', 'server_unmask', 'coordinator_rss'] as const;

/**
 * Log-log least-squares slopes of the server's figures (coordinator CPU, its unmask CPU, its peak
 * RSS) against n over the cells at one d (three cells at least), and against d over the cells at
 * one n (two at least), from `results` (this run's and any kept by `--append`). The protocol's
 * bound is O(n·k + d·(survivors + dropped neighbours)): at fixed d and dropout rate it is linear in
 * n but for k's slow growth with n, and at fixed n linear in d once d dominates n·k.
 */
function growth(results: BenchResult[]): BenchResult[] {
  const cells = new Map<string, { n: number; d: number; coordinator_cpu?: number; server_unmask?: number; coordinator_rss?: number }>();
  const at = (r: BenchResult) => {
    const n = Number(r.params.n);
    const d = Number(r.params.d);
    const key = `${n}/${d}`;
    const cell = cells.get(key) ?? { n, d };
    cells.set(key, cell);
    return cell;
  };
  for (const r of results) {
    if (r.metric === 'coordinator_cpu_s') at(r).coordinator_cpu = r.value;
    if (r.metric === 'server_unmask_cpu_s') at(r).server_unmask = r.value;
    if (r.metric === 'coordinator_peak_rss_mb') at(r).coordinator_rss = r.value;
  }
  const all = [...cells.values()].sort((x, y) => x.n - y.n || x.d - y.d);
  const out: BenchResult[] = [];
  for (const d of [...new Set(all.map((c) => c.d))]) {
    const same = all.filter((c) => c.d === d);
    if (same.length < 3) continue;
    const params = { d, ns: same.map((c) => c.n).join(',') };
    for (const g of GROWTH) {
      const value = slope(same.map((c) => Math.log(c.n)), same.map((c) => Math.log(c[g] as number)));
      out.push({ metric: `${g}_growth_exponent`, value, unit: 'exponent', params, ...(g === 'coordinator_rss' ? {} : { target: 1 }) });
    }
  }
  for (const n of [...new Set(all.map((c) => c.n))]) {
    const same = all.filter((c) => c.n === n);
    if (same.length < 2) continue;
    const params = { n, ds: same.map((c) => c.d).join(',') };
    for (const g of GROWTH) {
      const value = slope(same.map((c) => Math.log(c.d)), same.map((c) => Math.log(c[g] as number)));
      out.push({ metric: `${g}_d_growth_exponent`, value, unit: 'exponent', params, ...(g === 'coordinator_rss' ? {} : { target: 1 }) });
    }
  }
  return out;
}

/** The cell results of an earlier `bench/results/scale.json`, less those of `rerun` cells and its fits. */
function earlier(rerun: { n: number; d: number }[]): BenchResult[] {
  const path = new URL('../results/scale.json', import.meta.url);
  if (!existsSync(path)) return [];
  const file = JSON.parse(readFileSync(path, 'utf8')) as BenchSuiteFile;
  return file.results.filter(
    (r) => !r.metric.endsWith('growth_exponent') && !rerun.some((c) => Number(r.params.n) === c.n && Number(r.params.d) === c.d),
  );
}

/**
 * The results of cells already run, from the `[scale] n=… d=… concurrent=…: {figures}` lines that
 * their runs printed (`--from-logs a.log,b.log`): a run stopped before its last cell writes no
 * results file. Each cell's other parameters are this invocation's options (their defaults unless
 * given), as when it ran; Flower's figures are not recovered.
 */
function fromLogs(paths: string[], args: BenchArgs): BenchResult[] {
  const out: BenchResult[] = [];
  for (const path of paths) {
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const m = /^\[scale\] n=(\d+) d=(\d+) concurrent=(\d+): (\{.*\})$/.exec(line.trim());
      if (!m) continue;
      const f = JSON.parse(m[4] as string) as ScaleFigures;
      if (f.status !== 'completed') continue;
      out.push(...results(runOf(Number(m[1]), Number(m[2]), { ...args, concurrent: m[3] as string }), f, null));
    }
  }
  return out;
}

/** Runs the configurations the options select (see the module comment). */
export async function run(args: BenchArgs = {}): Promise<BenchResult[]> {
  if (args['from-logs'] !== undefined) {
    const out = fromLogs(args['from-logs'].split(','), args);
    return [...out, ...growth(out)];
  }
  let cells = CELLS;
  if (args.n !== undefined || args.d !== undefined) cells = [{ n: numberArg(args, 'n', 100), d: numberArg(args, 'd', 1e5) }];
  else if (args.cells !== undefined) {
    cells = args.cells.split(',').map((s) => {
      const c = CELLS[Number(s) - 1];
      if (!c) throw new Error(`--cells: no configuration ${s} (1..${CELLS.length})`);
      return c;
    });
  }
  // --append keeps the other cells of the last results file, so that cells run one group at a
  // time end in one file with one fit over all of them.
  const out: BenchResult[] = args.append === 'true' ? earlier(cells) : [];
  for (const cell of cells) {
    const r = runOf(cell.n, cell.d, args);
    const f = await runScale(r);
    console.log(`[scale] n=${r.n} d=${r.d} concurrent=${r.concurrent}: ${JSON.stringify(f)}`);
    if (f.status !== 'completed') throw new Error(`scale round n=${r.n} d=${r.d} ${f.status}: ${f.code ?? ''}`);
    let flower: FlowerFigures | null = null;
    if (flowerWanted(r, args)) {
      const got = await runFlower({ n: r.n, d: r.d, dropout: r.dropout, k: f.k, t: f.t, timeoutS: numberArg(args, 'flower-timeout-s', 300) });
      console.log(`[scale] flower n=${r.n} d=${r.d} k=${f.k} t=${f.t}: ${JSON.stringify(got)}`);
      if (got.ok) flower = got.figures;
    }
    out.push(...results(r, f, flower));
  }
  return [...out, ...growth(out)];
}
