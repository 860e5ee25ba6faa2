/**
 * The empirical privacy audit (`fedveil simulate --audit-canaries`): over several seeds, how often
 * an honest run fails the audit (false alarms), how often runs whose participants add only a
 * fraction of the calibrated noise fail it (detection), and how far below the claimed ε an honest
 * run's estimate sits. Every run is a real simulated federation (masks, noise shares, secure
 * aggregation) with K = 100 canaries, each in its own process (bench/audit/one-run.ts).
 *
 * Options (`npm run bench -- audit --settings defaults --seeds 5 --factors 1,0.5 --parallel 2`):
 * - `--settings small` (default): 10 training clients, 2 rounds, 100 examples each — about 5 CPU
 *   minutes a run; `defaults`: simulate's defaults (100 clients, 10 rounds, all their examples),
 *   about 6.6 CPU minutes a run at 200 participants (2026-12-05, bench/audit/defaults-2026-12-05.json).
 * - `--seeds N` (seeds 1..N) or `--seeds 4,5`; `--factors` the noise factors (1 = honest).
 * - `--parallel P`: runs at once (each one process with one participant worker); P ≤ cores.
 * Each finished run is appended to bench/results/audit-runs.jsonl as it ends, so an interrupted
 * bench keeps what it measured; `--from-log [FILE]` summarises such a log instead of running.
 * Also: BENCH_AUDIT_SEEDS, BENCH_AUDIT_FACTORS.
 *
 * `--probe`: the noise probe instead (bench/audit/noise-probe.ts): the same settings, seeds and
 * factors (default 1,0.95,0.93,0.9,0.85,0.25), each run the report's noise audit of the released
 * probe values, measured on the encoding path in seconds a run (2026-12-06,
 * bench/audit/noise-probe-defaults-2026-12-06.json).
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SimulateOptions } from '../../src/cli/simulate/options.js';
import type { EmpiricalAudit } from '../../src/dp/index.js';
import { numberArg, type BenchArgs } from '../args.js';
import type { BenchResult } from '../results.js';
import { probeRun, type ProbeRun } from './noise-probe.js';

const K = 100;
/** The measured settings: simulate's defaults (logreg, ε = 8, δ = 1e-5, 10% dropout, Skellam, SecAgg+) plus K canaries, or a small federation that fits a short budget. */
const SETTINGS: Record<string, Partial<SimulateOptions>> = {
  small: { clients: 10, rounds: 2, examples: 100, testExamples: 200, auditCanaries: K },
  defaults: { auditCanaries: K },
};

/** One run's outcome, as one-run.ts prints it. */
interface RunRecord {
  seed: number;
  factor: number;
  audit: EmpiricalAudit;
  seconds: number;
  cpuSeconds: number;
  completedRounds: number;
  abortedRounds: number;
  finalEpsilon: number | null;
}

const here = fileURLToPath(new URL('.', import.meta.url));
const results = fileURLToPath(new URL('../results/', import.meta.url));

function listArg(args: BenchArgs, name: string, env: string, fallback: string): number[] {
  const raw = args[name] ?? process.env[env] ?? fallback;
  if (raw.includes(',')) return raw.split(',').map(Number);
  return name === 'seeds' ? Array.from({ length: Number(raw) }, (_, i) => i + 1) : [Number(raw)];
}

function oneRun(settings: string, seed: number, factor: number): Promise<RunRecord> {
  const out = `${results}audit-run-${settings}-${seed}-${factor}`;
  const options = { ...SETTINGS[settings], seed, out, workers: 1, json: true };
  const env = { ...process.env };
  if (factor === 1) delete env['FEDVEIL_TEST_NOISE_SCALE'];
  else env['FEDVEIL_TEST_NOISE_SCALE'] = String(factor);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `${here}one-run.ts`, JSON.stringify(options)], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('exit', (code) => {
      rmSync(out, { recursive: true, force: true });
      if (code !== 0) return reject(new Error(`seed ${seed}, noise ×${factor}: the run exited ${code}`));
      const r = JSON.parse(stdout) as Omit<RunRecord, 'seed' | 'factor'>;
      if (r.audit === null) return reject(new Error(`seed ${seed}, noise ×${factor}: the run produced no audit`));
      resolve({ seed, factor, ...r });
    });
  });
}

export async function run(args: BenchArgs = {}): Promise<BenchResult[]> {
  const settings = args['settings'] ?? 'small';
  if (!(settings in SETTINGS)) throw new Error(`--settings must be one of ${Object.keys(SETTINGS).join(', ')}, got '${settings}'`);
  const seeds = listArg(args, 'seeds', 'BENCH_AUDIT_SEEDS', '3');
  const factors = listArg(args, 'factors', 'BENCH_AUDIT_FACTORS', '1,0.75,0.5,0.25');
  const parallel = numberArg(args, 'parallel', 1);
  if (args['probe'] !== undefined) return probeBench(settings, seeds, listArg(args, 'factors', 'BENCH_AUDIT_FACTORS', '1,0.95,0.93,0.9,0.85,0.25'));
  mkdirSync(results, { recursive: true });
  const log = `${results}audit-runs.jsonl`;
  if (args['from-log'] !== undefined) {
    // Summarises the runs an earlier (perhaps interrupted) bench logged, without running any.
    const logged = readFileSync(args['from-log'] === 'true' ? log : args['from-log'], 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as RunRecord & { settings: string })
      .filter((r) => r.settings === settings);
    return summarise(settings, [...new Set(logged.map((r) => r.factor))], logged, parallel, null);
  }
  // Seed-major order: an interrupted bench has every factor at the seeds it finished.
  const queue = seeds.flatMap((seed) => factors.map((factor) => ({ seed, factor })));
  const runs: RunRecord[] = [];
  const t0 = performance.now();
  const lane = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const r = await oneRun(settings, next.seed, next.factor);
      const a = r.audit;
      console.log(
        `[audit] ${settings} seed ${r.seed} noise ×${r.factor}: ε̂ ${a.epsilon.toFixed(3)} [${a.lower.toFixed(3)}, ${a.upper.toFixed(3)}] claimed ${a.claimedEpsilon?.toFixed(3)} ` +
          `${a.passed ? 'passed' : 'FAILED'} (${r.seconds.toFixed(0)} s, ${r.cpuSeconds.toFixed(0)} CPU s, ${r.completedRounds} released, ${r.abortedRounds} aborted)`,
      );
      appendFileSync(log, `${JSON.stringify({ settings, ...r })}\n`);
      runs.push(r);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, parallel) }, lane));
  return summarise(settings, factors, runs, parallel, (performance.now() - t0) / 1000);
}

function summarise(settings: string, factors: number[], runs: RunRecord[], parallel: number, wallS: number | null): BenchResult[] {
  const first = SETTINGS[settings] as Partial<SimulateOptions>;
  const params = { settings, canaries: K, clients: first.clients ?? 100, rounds: first.rounds ?? 10, model: 'logreg', target_epsilon: 8 };
  const out: BenchResult[] = [];
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  for (const factor of factors) {
    const audits = runs.filter((r) => r.factor === factor).map((r) => r.audit);
    if (audits.length === 0) continue;
    const failed = audits.filter((a) => !a.passed).length / audits.length;
    const ratio = mean(audits.map((a) => a.epsilon / (a.claimedEpsilon as number)));
    const lowerRatio = mean(audits.map((a) => a.lower / (a.claimedEpsilon as number)));
    const p = { ...params, seeds: audits.length };
    if (factor === 1) {
      out.push({ metric: 'audit_false_alarm_rate', value: failed, unit: 'fraction', params: p });
      out.push({ metric: 'audit_honest_estimate_to_claim', value: ratio, unit: 'ratio', params: p });
      out.push({ metric: 'audit_honest_lower_to_claim', value: lowerRatio, unit: 'ratio', params: p });
    } else {
      out.push({ metric: 'audit_detection_rate', value: failed, unit: 'fraction', params: { ...p, noise_factor: factor } });
      out.push({ metric: 'audit_estimate_to_claim', value: ratio, unit: 'ratio', params: { ...p, noise_factor: factor } });
      out.push({ metric: 'audit_lower_to_claim', value: lowerRatio, unit: 'ratio', params: { ...p, noise_factor: factor } });
    }
  }
  for (const r of runs) {
    const p = { ...params, seed: r.seed, noise_factor: r.factor, claimed_epsilon: r.audit.claimedEpsilon ?? -1, lower: r.audit.lower, passed: r.audit.passed, aborted_rounds: r.abortedRounds };
    out.push({ metric: 'audit_run_estimate_to_claim', value: r.audit.epsilon / (r.audit.claimedEpsilon as number), unit: 'ratio', params: p });
  }
  if (runs.length > 0) {
    out.push({ metric: 'audit_run_wall_s', value: mean(runs.map((r) => r.seconds)), unit: 's', params: { ...params, parallel, runs: runs.length } });
    out.push({ metric: 'audit_run_cpu_s', value: mean(runs.map((r) => r.cpuSeconds)), unit: 's', params: { ...params, runs: runs.length } });
    if (wallS !== null) out.push({ metric: 'audit_bench_wall_s', value: wallS, unit: 's', params: { ...params, parallel, runs: runs.length } });
  }
  return out;
}

/** The noise probe over seeds × factors: false alarms, detection, measured noise fraction and ε beside the claim. */
function probeBench(settings: string, seeds: number[], factors: number[]): BenchResult[] {
  const first = SETTINGS[settings] as Partial<SimulateOptions>;
  const runs: ProbeRun[] = [];
  for (const seed of seeds) {
    for (const factor of factors) {
      const r = probeRun(first, seed, factor);
      const a = r.audit;
      console.log(
        `[audit --probe] ${settings} seed ${seed} noise ×${factor}: ${(100 * a.noiseFraction).toFixed(1)}% of the claimed noise (≤ ${(100 * a.noiseFractionUpper).toFixed(1)}%), ` +
          `ε ≈ ${a.epsilon?.toFixed(3)} ≥ ${a.lower?.toFixed(3)} claimed ${a.claimedEpsilon?.toFixed(3)} ${a.passed ? 'passed' : 'FAILED'} [${r.codes.join(', ')}] (${r.seconds.toFixed(1)} s)`,
      );
      runs.push(r);
    }
  }
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const params = { settings, probe: runs[0]?.audit.samples ?? 0, clients: first.clients ?? 100, canaries: K, rounds: first.rounds ?? 10, model: 'logreg', target_epsilon: 8, confidence: runs[0]?.audit.confidence ?? 0 };
  const out: BenchResult[] = [];
  for (const factor of factors) {
    const mine = runs.filter((r) => r.factor === factor);
    const p = { ...params, seeds: mine.length, noise_factor: factor };
    const failed = mine.filter((r) => !r.audit.passed).length / mine.length;
    out.push({ metric: factor === 1 ? 'noise_probe_false_alarm_rate' : 'noise_probe_detection_rate', value: failed, unit: 'fraction', params: p });
    out.push({ metric: 'noise_probe_noise_fraction', value: mean(mine.map((r) => r.audit.noiseFraction)), unit: 'ratio', params: p });
    out.push({ metric: 'noise_probe_noise_fraction_upper', value: mean(mine.map((r) => r.audit.noiseFractionUpper)), unit: 'ratio', params: p });
    out.push({ metric: 'noise_probe_estimate_to_claim', value: mean(mine.map((r) => (r.audit.epsilon ?? Infinity) / (r.audit.claimedEpsilon as number))), unit: 'ratio', params: p });
    out.push({ metric: 'noise_probe_lower_to_claim', value: mean(mine.map((r) => (r.audit.lower ?? Infinity) / (r.audit.claimedEpsilon as number))), unit: 'ratio', params: p });
  }
  for (const r of runs) {
    out.push({
      metric: 'noise_probe_run_noise_fraction',
      value: r.audit.noiseFraction,
      unit: 'ratio',
      params: { ...params, seed: r.seed, noise_factor: r.factor, upper: r.audit.noiseFractionUpper, epsilon: r.audit.epsilon ?? -1, lower: r.audit.lower ?? -1, claimed_epsilon: r.audit.claimedEpsilon ?? -1, passed: r.audit.passed, codes: r.codes.join(' ') },
    });
  }
  out.push({ metric: 'noise_probe_run_s', value: mean(runs.map((r) => r.seconds)), unit: 's', params: { ...params, runs: runs.length } });
  return out;
}
