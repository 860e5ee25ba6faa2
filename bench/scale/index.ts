/**
 * Scale benchmark: one SecAgg+ round per configuration over loopback HTTP, the coordinator in its
 * own process (its peak RSS read from /proc/PID/status VmHWM by this process), the clients in
 * `workers` load-generator processes producing real masked, signed messages (client-worker.ts).
 * Each batch of `concurrent` masked vectors is uploaded at once.
 *
 * `npm run bench -- scale` runs N ∈ {100, 500, 1000, 2000, 5000} at D = 10⁵ and N ∈ {100, 1000} at
 * D = 10⁶; `--cells 1,3` picks some of them (1-based); `--n 1000 --d 1e6` runs one configuration.
 * Other options: `--concurrent` (default N, or 128 at D ≥ 10⁶ so the generator fits in memory),
 * `--workers` (2), `--slots` (coordinator staging buffers, 8), `--dropout` (0.1),
 * `--dropout-phase` (masked-input), `--graph` (secagg+ | complete), `--mode` (semi-honest |
 * malicious), `--deadline-s` (each phase's deadline; a phase with dropouts lasts this long).
 */
import { PHASES, type Phase } from '../../src/protocol/phases.js';
import { numberArg, type BenchArgs } from '../args.js';
import type { BenchResult } from '../results.js';
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
/** Flower 1.30 SecAgg+ (k = 21, t = 11, 10 % dropped at masked-input), the figures bench/protocol compares with. */
const FLOWER_FIGURES: Record<string, { shareKeysMs: number; maskedInputMs: number; unmaskS: number }> = {
  '100/100000': { shareKeysMs: 86, maskedInputMs: 43, unmaskS: 10 },
  '100/1000000': { shareKeysMs: 80, maskedInputMs: 158, unmaskS: 10.5 },
  '500/100000': { shareKeysMs: 83, maskedInputMs: 42, unmaskS: 51 },
};

/** The coordinator's memory target of issue 16 (n = 1000, d = 10⁶, all uploads concurrent). */
const RSS_TARGET_MB = 256;

function runOf(n: number, d: number, args: BenchArgs): ScaleRun {
  const graph = args.graph ?? 'secagg+';
  if (graph !== 'secagg+' && graph !== 'complete') throw new Error(`--graph must be secagg+ or complete, got '${graph}'`);
  const mode = args.mode ?? 'semi-honest';
  if (mode !== 'semi-honest' && mode !== 'malicious') throw new Error(`--mode must be semi-honest or malicious, got '${mode}'`);
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
    // Generous for this 2-core machine: masking costs about n·d·k word operations in all, and a
    // client still uploading at the deadline fails the run.
    deadlineMs: 1000 * numberArg(args, 'deadline-s', Math.ceil(30 + (n * d * kGuess * 16) / 1e9)),
  };
}

function results(r: ScaleRun, f: ScaleFigures): BenchResult[] {
  const params = { n: r.n, d: r.d, concurrent: r.concurrent, k: f.k, dropout: r.dropout, dropout_phase: r.dropoutPhase, graph: r.graph, mode: r.mode, slots: r.uploadSlots, workers: r.workers };
  const flower = r.graph === 'secagg+' && r.dropout === 0.1 && r.dropoutPhase === 'masked-input' ? FLOWER_FIGURES[`${r.n}/${r.d}`] : undefined;
  const round3 = (x: number) => Math.round(x * 1000) / 1000;
  const out: BenchResult[] = [
    { metric: 'round_cpu_s', value: round3(f.roundCpuS), unit: 's', params },
    { metric: 'coordinator_cpu_s', value: round3(f.coordinatorCpuS), unit: 's', params },
    { metric: 'server_unmask_cpu_s', value: round3(f.serverUnmaskCpuS), unit: 's', params, ...(flower ? { baseline: { name: FLOWER, value: flower.unmaskS } } : {}) },
    { metric: 'client_share_keys_ms', value: round3(f.shareKeysMs), unit: 'ms', params, ...(flower ? { baseline: { name: FLOWER, value: flower.shareKeysMs } } : {}) },
    { metric: 'client_masked_input_ms', value: round3(f.maskedInputMs), unit: 'ms', params, ...(flower ? { baseline: { name: FLOWER, value: flower.maskedInputMs } } : {}) },
    {
      metric: 'coordinator_peak_rss_mb',
      value: round3(f.coordinatorPeakRssMb),
      unit: 'MB',
      params: { n: r.n, d: r.d, concurrent: r.concurrent, slots: r.uploadSlots },
      ...(r.d >= 1e6 ? { target: RSS_TARGET_MB } : {}),
    },
    { metric: 'generator_peak_rss_mb', value: round3(f.generatorPeakRssMb), unit: 'MB', params: { n: r.n, d: r.d, concurrent: r.concurrent, workers: r.workers } },
    { metric: 'round_wall_s', value: round3(f.roundWallS), unit: 's', params },
  ];
  return out;
}

/**
 * Least-squares slope of log(coordinator CPU) against log(n) over the runs at one d: the
 * exponent of the server's growth in n (the protocol's bound is linear at fixed d, k and dropout rate).
 */
function growth(runs: { r: ScaleRun; f: ScaleFigures }[]): BenchResult[] {
  const out: BenchResult[] = [];
  for (const d of [...new Set(runs.map((x) => x.r.d))]) {
    const at = runs.filter((x) => x.r.d === d && x.f.status === 'completed');
    if (at.length < 3) continue;
    const xs = at.map((x) => Math.log(x.r.n));
    const fit = (ys: number[]) => {
      const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
      const my = ys.reduce((a, b) => a + b, 0) / ys.length;
      let num = 0;
      let den = 0;
      xs.forEach((x, i) => {
        num += (x - mx) * ((ys[i] as number) - my);
        den += (x - mx) ** 2;
      });
      return Math.round((num / den) * 1000) / 1000;
    };
    const params = { d, ns: at.map((x) => x.r.n).join(',') };
    out.push({ metric: 'coordinator_cpu_growth_exponent', value: fit(at.map((x) => Math.log(x.f.coordinatorCpuS))), unit: 'exponent', params, target: 1 });
    out.push({ metric: 'server_unmask_growth_exponent', value: fit(at.map((x) => Math.log(x.f.serverUnmaskCpuS))), unit: 'exponent', params, target: 1 });
    out.push({ metric: 'coordinator_rss_growth_exponent', value: fit(at.map((x) => Math.log(x.f.coordinatorPeakRssMb))), unit: 'exponent', params });
  }
  return out;
}

/** Runs the configurations the options select (see the module comment). */
export async function run(args: BenchArgs = {}): Promise<BenchResult[]> {
  let cells = CELLS;
  if (args.n !== undefined || args.d !== undefined) cells = [{ n: numberArg(args, 'n', 100), d: numberArg(args, 'd', 1e5) }];
  else if (args.cells !== undefined) {
    cells = args.cells.split(',').map((s) => {
      const c = CELLS[Number(s) - 1];
      if (!c) throw new Error(`--cells: no configuration ${s} (1..${CELLS.length})`);
      return c;
    });
  }
  const runs: { r: ScaleRun; f: ScaleFigures }[] = [];
  const out: BenchResult[] = [];
  for (const cell of cells) {
    const r = runOf(cell.n, cell.d, args);
    const f = await runScale(r);
    console.log(`[scale] n=${r.n} d=${r.d} concurrent=${r.concurrent}: ${JSON.stringify(f)}`);
    if (f.status !== 'completed') throw new Error(`scale round n=${r.n} d=${r.d} ${f.status}: ${f.code ?? ''}`);
    runs.push({ r, f });
    out.push(...results(r, f));
  }
  return [...out, ...growth(runs)];
}
