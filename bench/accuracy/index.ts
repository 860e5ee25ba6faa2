/**
 * End-to-end figures of `fedveil simulate`: MNIST test accuracy against ε (written as
 * docs/accuracy-vs-epsilon.svg too), accuracy without DP, and the per-round cost of secure
 * aggregation + DP against plain federated averaging on the same clients. Long: tens of minutes.
 */
import { writeFileSync } from 'node:fs';
import { SimulateOptionsSchema, type SimulateOptions } from '../../src/cli/simulate/options.js';
import { runSimulation, type SimulationSummary } from '../../src/cli/simulate/run.js';
import type { BenchResult } from '../results.js';
import { accuracyEpsilonSvg } from './svg.js';

const EPSILONS = [1, 2, 4, 8];
/** The private federation of the accuracy curve: `fedveil simulate`'s defaults. */
const PRIVATE: Partial<SimulateOptions> = {};
/** Plain FedAvg without DP: the accuracy target is ≥ 97% with the MLP. */
const NO_DP: Partial<SimulateOptions> = { dp: 'none', clients: 10, rounds: 10, learningRate: 0.2, dropout: 0, model: 'mlp', neighbours: 'complete' };

const quiet = { info: () => undefined, phase: () => undefined, roundEnded: () => undefined };

async function simulate(o: Partial<SimulateOptions>): Promise<SimulationSummary> {
  const options = SimulateOptionsSchema.parse({ ...o, out: `bench/results/accuracy-run`, json: true });
  const s = await runSimulation(options, quiet);
  console.log(
    `[accuracy] ${JSON.stringify(o)}: accuracy ${s.rounds.map((r) => r.accuracy.toFixed(4)).join(' ')} ε ${s.final.epsilon} ${s.secondsPerRound.toFixed(2)} s/round`,
  );
  return s;
}

function params(s: SimulationSummary, extra: Record<string, string | number> = {}): BenchResult['params'] {
  return { clients: s.final.clients, cohort: s.final.cohort, rounds: s.final.rounds, mechanism: s.dp.mechanism, backend: s.backend.name, ...extra };
}

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const points: { epsilon: number; accuracy: number }[] = [];
  let last: SimulationSummary | null = null;
  for (const epsilon of EPSILONS) {
    last = await simulate({ ...PRIVATE, epsilon });
    points.push({ epsilon, accuracy: last.final.accuracy });
    results.push({ metric: 'dp_test_accuracy', value: last.final.accuracy, unit: 'fraction', params: params(last, { target_epsilon: epsilon, spent_epsilon: last.final.epsilon ?? -1 }) });
  }
  const noDp = await simulate(NO_DP);
  results.push({ metric: 'nodp_test_accuracy', value: noDp.final.accuracy, unit: 'fraction', params: params(noDp), target: 0.97 });
  // The overhead of secure aggregation + DP: the same clients with Skellam noise and masking,
  // against plain averaging in the clear.
  const secureDp = await simulate({ ...NO_DP, dp: 'skellam' });
  const baseline = await simulate({ ...NO_DP, insecureBaseline: true });
  results.push({ metric: 'secure_round_s', value: secureDp.secondsPerRound, unit: 's', params: params(secureDp) });
  results.push({ metric: 'secure_nodp_round_s', value: noDp.secondsPerRound, unit: 's', params: params(noDp) });
  results.push({ metric: 'baseline_round_s', value: baseline.secondsPerRound, unit: 's', params: params(baseline) });
  results.push({ metric: 'protocol_overhead_ratio', value: secureDp.secondsPerRound / baseline.secondsPerRound, unit: 'ratio', params: params(secureDp) });
  if (last !== null) {
    const caption = `${last.final.clients} clients, ${last.final.rounds} rounds, ${last.dp.mechanism}, model ${PRIVATE.model ?? 'default'}; dashed: ${noDp.final.clients} clients without DP`;
    writeFileSync(new URL('../../docs/accuracy-vs-epsilon.svg', import.meta.url), accuracyEpsilonSvg(points, noDp.final.accuracy, caption));
  }
  return results;
}
