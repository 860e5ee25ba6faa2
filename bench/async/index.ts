/**
 * Synchronous rounds against asynchronous (FedBuff) groups on MNIST, participants of skewed
 * speeds (log-normal training times): simulated wall-clock to a target accuracy and the ε spent,
 * both federations run by `fedveil simulate` with the real coordinator and masked protocol, the
 * same cohort / group size and ε target (each calibrated over its own rounds), the asynchronous
 * one for `--async-rounds` groups (default 3 × `--rounds`: a group's members are the fastest
 * ready, so a group moves the model less than a round). The target is the synchronous run's
 * final accuracy less `--slack` (default 0.005). Writes docs/async-vs-sync.svg.
 *
 * `npm run bench -- async [--clients 40] [--cohort 8] [--rounds 10] [--async-rounds 30] [--skew 1] [--epsilon 8]
 *  [--examples 300] [--test-examples 1000] [--train-seconds 60] [--round-seconds 10] [--dropout 0.05] [--max-staleness 10]
 *  [--lr 0.1] [--batch-size 32] [--clip C] [--server-optimizer fedavgm [--server-lr 1]] [--seed 1] [--slack 0.005]`
 *
 * The size (README "Asynchronous federations"): `--clients 1000 --cohort 100 --rounds 10
 * --async-rounds 30 --examples 60 --test-examples 10000 --lr 0.2 --batch-size 16 --clip 1
 * --server-optimizer fedavgm --epsilon 8`.
 */
import { writeFileSync } from 'node:fs';
import { SimulateOptionsSchema, type SimulateOptions } from '../../src/cli/simulate/options.js';
import { runSimulation, type SimulationSummary } from '../../src/cli/simulate/run.js';
import { numberArg, type BenchArgs } from '../args.js';
import type { BenchResult } from '../results.js';
import { accuracyTimeSvg } from './svg.js';

const quiet = { info: () => undefined, phase: () => undefined, roundEnded: () => undefined };

async function simulate(o: Partial<SimulateOptions>): Promise<SimulationSummary> {
  const options = SimulateOptionsSchema.parse({ ...o, out: `bench/results/async-run`, json: true });
  const s = await runSimulation(options, quiet);
  console.log(
    `[async] ${o.async ? 'async' : 'sync'}: accuracy ${s.rounds.map((r) => r.accuracy.toFixed(3)).join(' ')}; simulated h ${s.rounds.map((r) => (r.simulatedSeconds / 3600).toFixed(2)).join(' ')}; ε ${s.final.epsilon}; ${s.seconds.toFixed(0)} s real`,
  );
  return s;
}

/** Simulated seconds and ε when the run first reached `target` accuracy; null when it never did. */
function reached(s: SimulationSummary, target: number): { seconds: number; epsilon: number | null; round: number } | null {
  const r = s.rounds.find((x) => x.status === 'completed' && x.accuracy >= target);
  return r === undefined ? null : { seconds: r.simulatedSeconds, epsilon: r.epsilon, round: r.round };
}

export async function run(args: BenchArgs): Promise<BenchResult[]> {
  const base: Partial<SimulateOptions> = {
    clients: numberArg(args, 'clients', 40),
    cohort: numberArg(args, 'cohort', 8),
    rounds: numberArg(args, 'rounds', 10),
    epsilon: numberArg(args, 'epsilon', 8),
    speedSkew: numberArg(args, 'skew', 1),
    trainSeconds: numberArg(args, 'train-seconds', 60),
    examples: numberArg(args, 'examples', 300),
    testExamples: numberArg(args, 'test-examples', 1000),
    dropout: numberArg(args, 'dropout', 0.05),
    seed: numberArg(args, 'seed', 1),
    learningRate: numberArg(args, 'lr', 0.1),
    batchSize: numberArg(args, 'batch-size', 32),
    ...(args.clip === undefined ? {} : { clip: numberArg(args, 'clip', 1) }),
    ...(args['server-optimizer'] === undefined ? {} : { serverOptimizer: args['server-optimizer'] as SimulateOptions['serverOptimizer'], serverLr: numberArg(args, 'server-lr', 1) }),
    maxStaleness: numberArg(args, 'max-staleness', 10),
    roundSeconds: numberArg(args, 'round-seconds', 10),
  };
  const sync = await simulate(base);
  const asynchronous = await simulate({ ...base, async: true, rounds: numberArg(args, 'async-rounds', 3 * (base.rounds as number)) });
  const target = sync.final.accuracy - numberArg(args, 'slack', 0.005);
  const params = (s: SimulationSummary): BenchResult['params'] => ({
    mode: s.async === null ? 'sync' : 'async',
    clients: s.final.clients,
    cohort: s.final.cohort,
    rounds: s.final.rounds,
    skew: s.speeds.skew,
    train_seconds_median: s.speeds.medianSeconds,
    mechanism: s.dp.mechanism,
    target_epsilon: s.dp.targetEpsilon ?? -1,
    target_accuracy: Number(target.toFixed(4)),
    examples: base.examples as number,
    max_staleness: base.maxStaleness as number,
    learning_rate: base.learningRate as number,
    server_optimizer: base.serverOptimizer ?? 'fedavg',
  });
  const results: BenchResult[] = [];
  for (const s of [sync, asynchronous]) {
    const hit = reached(s, target);
    results.push({ metric: 'simulated_s_to_target', value: hit?.seconds ?? -1, unit: 's', params: params(s) });
    results.push({ metric: 'epsilon_at_target', value: hit?.epsilon ?? -1, unit: 'epsilon', params: params(s) });
    results.push({ metric: 'final_accuracy', value: s.final.accuracy, unit: 'fraction', params: params(s) });
    results.push({ metric: 'final_epsilon', value: s.final.epsilon ?? -1, unit: 'epsilon', params: params(s) });
    results.push({ metric: 'simulated_s_total', value: s.final.simulatedSeconds, unit: 's', params: params(s) });
    results.push({ metric: 'real_s', value: s.seconds, unit: 's', params: params(s) });
  }
  const hs = reached(sync, target);
  const ha = reached(asynchronous, target);
  if (hs !== null && ha !== null) results.push({ metric: 'speedup_to_target', value: hs.seconds / ha.seconds, unit: 'ratio', params: params(asynchronous) });
  const series = [sync, asynchronous].map((s) => ({
    label: `${s.async === null ? 'synchronous rounds' : 'asynchronous groups'} (ε ${s.final.epsilon?.toFixed(2) ?? '∞'})`,
    points: s.rounds.map((r) => ({ seconds: r.simulatedSeconds, accuracy: r.accuracy })),
  }));
  const caption = `${base.clients} clients, cohort/group ${base.cohort}, ${sync.final.rounds} rounds / ${asynchronous.final.rounds} groups, speeds σ = ${base.speedSkew}, ${sync.dp.mechanism} ε target ${base.epsilon}`;
  writeFileSync(new URL('../../docs/async-vs-sync.svg', import.meta.url), accuracyTimeSvg(series, target, caption));
  return results;
}
