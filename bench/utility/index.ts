/**
 * The privacy–utility benchmark: MNIST test accuracy of `fedveil simulate` against the ε it cost
 * (δ = 10⁻⁵), over the population, the model and the target ε, written as JSON and as
 * docs/utility-vs-epsilon.svg. Every private run draws its cohorts by Poisson sampling from a
 * secret seed and calibrates the noise to the model-observer ε (against someone who sees only
 * the released models, amplified by the secret draw: the ε the DP-FedAvg literature reports);
 * the ledger-reader ε of the same report (anyone who reads the ledger, no amplification) is
 * recorded beside it. Long: hours for the full grid.
 *
 * The grid's axes are {@link AXES}; calibration accountant (rdp | pld) and clipping (fixed |
 * adaptive) are axes with one value each until the PLD accountant and adaptive clipping exist.
 * Environment variables narrow the grid: FEDVEIL_UTILITY_POPULATIONS, FEDVEIL_UTILITY_MODELS,
 * FEDVEIL_UTILITY_EPSILONS (comma-separated), FEDVEIL_UTILITY_ROUNDS (rounds of every run).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { SimulateOptionsSchema, type SimulateOptions } from '../../src/cli/simulate/options.js';
import { runSimulation, type SimulationSummary } from '../../src/cli/simulate/run.js';
import type { PrivacyReport } from '../../src/dp/index.js';
import { accuracyEpsilonSeriesSvg, type Series } from '../accuracy/svg.js';
import type { BenchResult } from '../results.js';

/** The grid. */
export const AXES = {
  population: [100, 1000, 10_000],
  model: ['logreg', 'mlp'] as SimulateOptions['model'][],
  epsilon: [1, 2, 4, 8],
  accountant: ['rdp'] as const,
  clipping: ['fixed'] as const,
};

/** The literature's targets at ε ≤ 4 (issue 17): by population. */
const TARGETS: Record<number, number> = { 1000: 0.92, 10_000: 0.96 };

/**
 * The federation of one grid point: a tenth of the population per round in expectation (all of
 * 100 would leave nothing to amplify; 10 per round would drown in noise, so 100 → 50), a few
 * examples per participant from an iid split of MNIST's 60 000, FedAvg with server momentum.
 */
export function utilityOptions(population: number, model: SimulateOptions['model'], epsilon: number, rounds: number): Partial<SimulateOptions> {
  return {
    clients: population,
    cohort: population <= 100 ? population / 2 : population / 10,
    draw: 'poisson',
    epsilonAgainst: 'model-observer',
    epsilon,
    rounds,
    model,
    localEpochs: 1,
    batchSize: 16,
    learningRate: model === 'mlp' ? 0.1 : 0.2,
    serverOptimizer: 'fedavgm',
    serverLr: 1,
    clip: model === 'mlp' ? 0.5 : 1,
    testExamples: 10_000,
  };
}

const list = (name: string, fallback: readonly number[]): number[] => {
  const v = process.env[name];
  return v === undefined ? [...fallback] : v.split(',').map(Number);
};

const quiet = { info: () => undefined, phase: () => undefined, roundEnded: () => undefined };

export async function run(): Promise<BenchResult[]> {
  const populations = list('FEDVEIL_UTILITY_POPULATIONS', AXES.population);
  const models = (process.env.FEDVEIL_UTILITY_MODELS?.split(',') ?? AXES.model) as SimulateOptions['model'][];
  const epsilons = list('FEDVEIL_UTILITY_EPSILONS', AXES.epsilon);
  const rounds = Number(process.env.FEDVEIL_UTILITY_ROUNDS ?? 30);
  const results: BenchResult[] = [];
  const series: Series[] = [];
  for (const accountant of AXES.accountant) {
    for (const clipping of AXES.clipping) {
      for (const model of models) {
        for (const population of populations) {
          const curve: Series = { label: `${population} participants, ${model}`, points: [] };
          for (const epsilon of epsilons) {
            const given = utilityOptions(population, model, epsilon, rounds);
            const options = SimulateOptionsSchema.parse({ ...given, out: 'bench/results/utility-run', json: true });
            const s: SimulationSummary = await runSimulation(options, quiet);
            const report = JSON.parse(readFileSync(s.report as string, 'utf8')) as PrivacyReport;
            const observer = report.modelObserver.epsilon ?? -1;
            const reader = report.ledgerReader.epsilon ?? -1;
            const command = `fedveil simulate ${Object.entries(given)
              .map(([k, v]) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ${String(v)}`)
              .join(' ')}`;
            console.log(`[utility] ${command}: accuracy ${s.final.accuracy.toFixed(4)}, ε model observer ${observer}, ledger reader ${reader}, ${s.secondsPerRound.toFixed(1)} s/round`);
            const params = {
              population,
              cohort: s.final.cohort,
              draw: 'poisson-secret',
              model,
              rounds: s.final.rounds,
              completed_rounds: s.final.completedRounds,
              accountant,
              clipping,
              target_epsilon: epsilon,
              model_observer_epsilon: observer,
              amplification: report.modelObserver.amplification,
              ledger_reader_epsilon: reader,
              noise_multiplier: s.dp.noiseMultiplier,
              command,
            };
            const target = epsilon <= 4 ? TARGETS[population] : undefined;
            results.push({ metric: 'utility_test_accuracy', value: s.final.accuracy, unit: 'fraction', params, ...(target === undefined ? {} : { target }) });
            results.push({ metric: 'utility_round_s', value: s.secondsPerRound, unit: 's', params: { population, cohort: s.final.cohort, model, backend: s.backend.name } });
            curve.points.push({ epsilon: observer > 0 ? observer : epsilon, accuracy: s.final.accuracy });
          }
          series.push(curve);
        }
      }
    }
  }
  const caption = `ε against model observers (Poisson draws from a secret seed, RDP, fixed clipping), ${rounds} rounds; see bench/results/utility.json`;
  writeFileSync(new URL('../../docs/utility-vs-epsilon.svg', import.meta.url), accuracyEpsilonSeriesSvg(series, null, caption));
  return results;
}
