/**
 * The empirical privacy audit (`fedveil simulate --audit-canaries`): over several seeds, how often
 * an honest run fails the audit (false alarms), how often runs whose participants add only a
 * fraction of the calibrated noise fail it (detection), and how far below the claimed ε an honest
 * run's estimate sits. Every run is a real simulated federation (masks, noise shares, secure
 * aggregation) with K = 100 canaries. Budget: BENCH_AUDIT_SEEDS (default 3) seeds ×
 * BENCH_AUDIT_FACTORS (default 1,0.75,0.5,0.25) noise factors, each run 2 rounds; about 15 minutes
 * on one core.
 */
import { rmSync } from 'node:fs';
import { SimulateOptionsSchema, type SimulateOptions } from '../../src/cli/simulate/options.js';
import { runSimulation } from '../../src/cli/simulate/run.js';
import type { EmpiricalAudit } from '../../src/dp/index.js';
import type { BenchResult } from '../results.js';

const K = 100;
/** simulate's defaults (logreg, ε = 8, δ = 1e-5, 10% dropout, Skellam, SecAgg+) with few clients and rounds, so that 100 canaries fit the budget. */
const SETTINGS: Partial<SimulateOptions> = { clients: 10, rounds: 2, examples: 100, testExamples: 200, auditCanaries: K, workers: 1 };
const seeds = (process.env['BENCH_AUDIT_SEEDS'] ?? '3').includes(',') ? process.env['BENCH_AUDIT_SEEDS']!.split(',').map(Number) : Array.from({ length: Number(process.env['BENCH_AUDIT_SEEDS'] ?? '3') }, (_, i) => i + 1);
const factors = (process.env['BENCH_AUDIT_FACTORS'] ?? '1,0.75,0.5,0.25').split(',').map(Number);
const quiet = { info: () => undefined, phase: () => undefined, roundEnded: () => undefined };

async function audited(seed: number, factor: number): Promise<EmpiricalAudit> {
  const out = `bench/results/audit-run`;
  rmSync(out, { recursive: true, force: true });
  if (factor === 1) delete process.env['FEDVEIL_TEST_NOISE_SCALE'];
  else process.env['FEDVEIL_TEST_NOISE_SCALE'] = String(factor);
  try {
    const t0 = performance.now();
    const s = await runSimulation(SimulateOptionsSchema.parse({ ...SETTINGS, seed, out, json: true }), quiet);
    const a = s.audit;
    if (a === null) throw new Error(`seed ${seed}, noise ×${factor}: the run produced no audit`);
    console.log(
      `[audit] seed ${seed} noise ×${factor}: ε̂ ${a.epsilon.toFixed(3)} [${a.lower.toFixed(3)}, ${a.upper.toFixed(3)}] claimed ${a.claimedEpsilon?.toFixed(3)} ${a.passed ? 'passed' : 'FAILED'} (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
    );
    return a;
  } finally {
    delete process.env['FEDVEIL_TEST_NOISE_SCALE'];
  }
}

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const params = { canaries: K, clients: SETTINGS.clients!, rounds: SETTINGS.rounds!, seeds: seeds.length, model: 'logreg', target_epsilon: 8 };
  for (const factor of factors) {
    const audits: EmpiricalAudit[] = [];
    for (const seed of seeds) audits.push(await audited(seed, factor));
    const failed = audits.filter((a) => !a.passed).length / audits.length;
    const ratio = audits.reduce((s, a) => s + a.epsilon / (a.claimedEpsilon as number), 0) / audits.length;
    const lowerRatio = audits.reduce((s, a) => s + a.lower / (a.claimedEpsilon as number), 0) / audits.length;
    if (factor === 1) {
      results.push({ metric: 'audit_false_alarm_rate', value: failed, unit: 'fraction', params });
      results.push({ metric: 'audit_honest_estimate_to_claim', value: ratio, unit: 'ratio', params });
      results.push({ metric: 'audit_honest_lower_to_claim', value: lowerRatio, unit: 'ratio', params });
    } else {
      results.push({ metric: 'audit_detection_rate', value: failed, unit: 'fraction', params: { ...params, noise_factor: factor } });
      results.push({ metric: 'audit_estimate_to_claim', value: ratio, unit: 'ratio', params: { ...params, noise_factor: factor } });
    }
  }
  rmSync('bench/results/audit-run', { recursive: true, force: true });
  return results;
}
