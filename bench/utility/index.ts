/**
 * The privacy–utility benchmark: MNIST test accuracy of `fedveil simulate` against the ε it cost
 * (δ = 10⁻⁵), over the population, the model and the target ε, written as JSON and as
 * docs/utility-vs-epsilon.svg. Every private run draws its cohorts by Poisson sampling from a
 * secret seed and calibrates the noise to the model-observer ε (against someone who sees only
 * the released models, amplified by the secret draw: the ε the DP-FedAvg literature reports);
 * the ledger-reader ε of the same report (anyone who reads the ledger, no amplification) is
 * recorded beside it. Long: hours for the full grid.
 *
 * The grid's axes are {@link AXES}: population, model, target ε, noise mechanism (distributed
 * Skellam or central Gaussian: who must be trusted, see {@link TRUST}), calibration accountant
 * (rdp | pld; PLD accounts central noise only, so Skellam runs with RDP alone) and clipping
 * (fixed | adaptive). Environment variables narrow the grid (comma-separated):
 * FEDVEIL_UTILITY_POPULATIONS, FEDVEIL_UTILITY_MODELS, FEDVEIL_UTILITY_EPSILONS,
 * FEDVEIL_UTILITY_MECHANISMS, FEDVEIL_UTILITY_ACCOUNTANTS, FEDVEIL_UTILITY_CLIPPINGS;
 * FEDVEIL_UTILITY_ROUNDS fixes the rounds of every run (default {@link defaultRounds});
 * FEDVEIL_UTILITY_MERGE=1 keeps an earlier run's results for the points not rerun (with an empty axis,
 * e.g. FEDVEIL_UTILITY_EPSILONS=, nothing is rerun and the plot is redrawn from the results file).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { SimulateOptionsSchema, type SimulateOptions } from '../../src/cli/simulate/options.js';
import { runSimulation, type SimulationSummary } from '../../src/cli/simulate/run.js';
import type { PrivacyReport } from '../../src/dp/index.js';
import { accuracyEpsilonSeriesSvg, type Series } from '../accuracy/svg.js';
import type { BenchResult, BenchSuiteFile } from '../results.js';

/**
 * The noise and who must be trusted with it. `skellam`: distributed discrete noise, each
 * contributor adds its share under secure aggregation, so nobody (the coordinator included) sees
 * a less-noised sum; the PLD accountant cannot account it (noise spread over every coordinate), so
 * it is calibrated with RDP only. `central`: the coordinator adds Gaussian noise after unmasking,
 * so the ε holds only if the coordinator is trusted; both accountants apply.
 */
export type Mechanism = 'skellam' | 'central';
export type Accountant = 'rdp' | 'pld';
export type Clipping = 'fixed' | 'adaptive';

/** The grid. */
export const AXES = {
  population: [100, 1000, 10_000],
  model: ['logreg', 'mlp'] as SimulateOptions['model'][],
  epsilon: [1, 2, 4, 8],
  mechanism: ['skellam', 'central'] as Mechanism[],
  accountant: ['rdp', 'pld'] as Accountant[],
  clipping: ['fixed', 'adaptive'] as Clipping[],
};

/** Whether a (mechanism, accountant) pair is a grid point: PLD accounts central Gaussian noise only. */
export function accountable(mechanism: Mechanism, accountant: Accountant): boolean {
  return accountant === 'rdp' || mechanism === 'central';
}

/** Who must be trusted for the ε of a mechanism to hold, as the results record it. */
export const TRUST: Record<Mechanism, string> = {
  skellam: 'distributed noise: no party, the coordinator included, sees a less-noised sum',
  central: 'central noise: the coordinator is trusted to add it',
};

/** The literature's targets at ε ≤ 4 (issue 17): by population. */
const TARGETS: Record<number, number> = { 1000: 0.92, 10_000: 0.96 };

/** One grid point's settings beyond population, model and ε. */
export interface GridPoint {
  mechanism: Mechanism;
  accountant: Accountant;
  clipping: Clipping;
  rounds: number;
}

/** Rounds of a grid point when FEDVEIL_UTILITY_ROUNDS does not fix them. */
export function defaultRounds(model: SimulateOptions['model']): number {
  return model === 'mlp' ? MLP_ROUNDS : LOGREG_ROUNDS;
}

/**
 * Expected cohort of populations above 100: a round costs compute by its cohort, and at a fixed
 * cohort a larger population means a smaller q, a smaller z for the same ε and so less noise on
 * the mean (at ε = 4 over 5 rounds: z = 1.07 at q = 0.2, 0.62 at q = 0.02).
 */
const COHORT = 200;
const LOGREG_ROUNDS = 5;
const MLP_ROUNDS = 5;

/** Local and server training of each model, chosen by the exploration README describes. */
const TUNED = {
  logreg: { localEpochs: 2, learningRate: 0.3, serverOptimizer: 'fedavgm', serverLr: 5, clip: 0.5 },
  mlp: { localEpochs: 2, learningRate: 0.1, serverOptimizer: 'fedavg', serverLr: 1, clip: 1 },
} as const satisfies Record<string, Pick<SimulateOptions, 'localEpochs' | 'learningRate' | 'serverOptimizer' | 'serverLr' | 'clip'>>;

/**
 * The federation of one grid point. The noise on the mean update is z·C/(qN) per coordinate;
 * for a fixed ε, T rounds and z past about 1, z grows about as q·√T/ε, so that noise is about
 * √T/(εN) whatever the sampling rate q: a larger cohort buys little against the noise once z is
 * past 1 and costs compute, a smaller one leaves z below 1 where amplification by sampling
 * fades. Hence a cohort of {@link COHORT} (a fifth of 1 000; 50 of 100: all of 100 would leave
 * nothing to amplify), few rounds (each costs √T in noise, and compute), two local epochs per round, and for
 * logistic regression updates clipped below their typical norm (each then counts by its
 * direction) with a server learning rate that turns the clipped mean back into a full step.
 * Adaptive clipping starts from the same C and follows the median update norm.
 */
export function utilityOptions(population: number, model: SimulateOptions['model'], epsilon: number, point: GridPoint): Partial<SimulateOptions> {
  const t = TUNED[model === 'mlp' ? 'mlp' : 'logreg'];
  return {
    clients: population,
    cohort: population <= 100 ? population / 2 : Math.min(COHORT, population / 5),
    draw: 'poisson',
    epsilonAgainst: 'model-observer',
    epsilon,
    dp: point.mechanism,
    accountant: point.accountant,
    rounds: point.rounds,
    model,
    localEpochs: t.localEpochs,
    batchSize: 16,
    learningRate: t.learningRate,
    serverOptimizer: t.serverOptimizer,
    serverLr: t.serverLr,
    clip: t.clip,
    adaptiveClip: point.clipping === 'adaptive',
    testExamples: 10_000,
  };
}

const list = (name: string, fallback: readonly number[]): number[] => {
  const v = process.env[name];
  return v === undefined ? [...fallback] : v.split(',').filter((x) => x !== '').map(Number);
};

function names<T extends string>(name: string, fallback: readonly T[]): T[] {
  const v = process.env[name];
  if (v === undefined) return [...fallback];
  const given = v.split(',').filter((x) => x !== '') as T[];
  const bad = given.filter((g) => !fallback.includes(g));
  if (bad.length > 0) throw new Error(`${name}: unknown value(s) ${bad.join(', ')}; choose from ${fallback.join(', ')}`);
  return given;
}

/** The `fedveil simulate` command line of a grid point's options. */
export function commandOf(given: Partial<SimulateOptions>): string {
  const flags = Object.entries(given)
    .filter(([, v]) => v !== false)
    .map(([k, v]) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}${v === true ? '' : ` ${String(v)}`}`);
  return `fedveil simulate ${flags.join(' ')}`;
}

/** What identifies a grid point in the results, so a later run of the same point replaces it. */
const POINT_KEYS = ['population', 'model', 'target_epsilon', 'mechanism', 'accountant', 'clipping', 'rounds', 'server_lr'] as const;
const pointKey = (p: Record<string, unknown>): string => POINT_KEYS.map((k) => String(k === 'server_lr' ? serverLrOf(p) : p[k])).join('|');

/** The server learning rate of a result: its parameter, else read from its command (results written before it was recorded). */
function serverLrOf(p: Record<string, unknown>): number {
  if (typeof p.server_lr === 'number') return p.server_lr;
  const m = /--server-lr (\S+)/.exec(String(p.command ?? ''));
  return m === null ? 1 : Number(m[1]);
}

/** The accuracy results of an earlier run of the suite (FEDVEIL_UTILITY_MERGE=1), or none. */
function earlierResults(): BenchResult[] {
  if (process.env.FEDVEIL_UTILITY_MERGE !== '1') return [];
  const file = new URL('../results/utility.json', import.meta.url);
  if (!existsSync(file)) return [];
  return (JSON.parse(readFileSync(file, 'utf8')) as BenchSuiteFile).results;
}

const quiet = { info: () => undefined, phase: () => undefined, roundEnded: () => undefined };

/** The curves of the plot: one per (population, model, mechanism, accountant, clipping), over ε. */
function seriesOf(results: readonly BenchResult[]): Series[] {
  const curves = new Map<string, Series>();
  for (const r of results) {
    if (r.metric !== 'utility_test_accuracy') continue;
    const p = r.params;
    const label = `N=${String(p.population)} ${String(p.model)}, ${String(p.mechanism)} ${String(p.accountant).toUpperCase()}, ${String(p.clipping)} clip, T=${String(p.rounds)}, server lr ${serverLrOf(p)}`;
    const curve = curves.get(label) ?? { label, points: [] };
    // A run calibrated with PLD is plotted at the PLD ε it was calibrated to (its RDP ε is higher).
    const observer = Number(p.accountant === 'pld' ? p.model_observer_pld_epsilon : p.model_observer_epsilon);
    curve.points.push({ epsilon: observer > 0 ? observer : Number(p.target_epsilon), accuracy: r.value });
    curves.set(label, curve);
  }
  for (const c of curves.values()) c.points.sort((a, b) => a.epsilon - b.epsilon);
  return [...curves.values()];
}

/**
 * Runs the grid that the environment selects (every axis by default) and returns its results;
 * with FEDVEIL_UTILITY_MERGE=1 the results of an earlier run for points not rerun are kept, so a
 * long grid can be run in parts. Writes docs/utility-vs-epsilon.svg from all of them.
 */
export async function run(): Promise<BenchResult[]> {
  const populations = list('FEDVEIL_UTILITY_POPULATIONS', AXES.population);
  const models = names('FEDVEIL_UTILITY_MODELS', AXES.model);
  const epsilons = list('FEDVEIL_UTILITY_EPSILONS', AXES.epsilon);
  const mechanisms = names('FEDVEIL_UTILITY_MECHANISMS', AXES.mechanism);
  const accountants = names('FEDVEIL_UTILITY_ACCOUNTANTS', AXES.accountant);
  const clippings = names('FEDVEIL_UTILITY_CLIPPINGS', AXES.clipping);
  const roundsGiven = process.env.FEDVEIL_UTILITY_ROUNDS;
  const results: BenchResult[] = [];
  for (const mechanism of mechanisms) {
    for (const accountant of accountants) {
      if (!accountable(mechanism, accountant)) {
        console.log(`[utility] skipping ${mechanism} with ${accountant}: the PLD accountant accounts central Gaussian noise only`);
        continue;
      }
      for (const clipping of clippings) {
        for (const model of models) {
          for (const population of populations) {
            for (const epsilon of epsilons) {
              const rounds = roundsGiven === undefined ? defaultRounds(model) : Number(roundsGiven);
              const given = utilityOptions(population, model, epsilon, { mechanism, accountant, clipping, rounds });
              const options = SimulateOptionsSchema.parse({ ...given, out: `bench/results/utility-run/${population}-${model}-${mechanism}-${accountant}-${clipping}-${epsilon}-T${rounds}-lr${given.serverLr ?? 1}`, json: true });
              const s: SimulationSummary = await runSimulation(options, quiet);
              const report = JSON.parse(readFileSync(s.report as string, 'utf8')) as PrivacyReport;
              const observer = report.modelObserver.epsilon ?? -1;
              const reader = report.ledgerReader.epsilon ?? -1;
              const command = commandOf(given);
              console.log(
                `[utility] ${command}: accuracy ${s.final.accuracy.toFixed(4)}, ε model observer ${observer} (PLD ${report.modelObserver.pldEpsilon ?? '—'}), ledger reader ${reader} (PLD ${report.ledgerReader.pldEpsilon ?? '—'}), ${s.secondsPerRound.toFixed(1)} s/round`,
              );
              const params = {
                population,
                cohort: s.final.cohort,
                draw: 'poisson-secret',
                model,
                rounds,
                completed_rounds: s.final.completedRounds,
                mechanism,
                trust: TRUST[mechanism],
                accountant,
                clipping,
                target_epsilon: epsilon,
                model_observer_epsilon: observer,
                amplification: report.modelObserver.amplification,
                ledger_reader_epsilon: reader,
                ...(report.modelObserver.pldEpsilon == null ? {} : { model_observer_pld_epsilon: report.modelObserver.pldEpsilon }),
                ...(report.ledgerReader.pldEpsilon == null ? {} : { ledger_reader_pld_epsilon: report.ledgerReader.pldEpsilon }),
                noise_multiplier: s.dp.noiseMultiplier,
                server_lr: given.serverLr ?? 1,
                command,
              };
              const target = epsilon <= 4 ? TARGETS[population] : undefined;
              results.push({ metric: 'utility_test_accuracy', value: s.final.accuracy, unit: 'fraction', params, ...(target === undefined ? {} : { target }) });
              results.push({
                metric: 'utility_round_s',
                value: s.secondsPerRound,
                unit: 's',
                params: { population, cohort: s.final.cohort, model, mechanism, accountant, clipping, target_epsilon: epsilon, rounds, server_lr: given.serverLr ?? 1, backend: s.backend.name },
              });
            }
          }
        }
      }
    }
  }
  const rerun = new Set(results.map((r) => `${r.metric}|${pointKey(r.params)}`));
  const all = [...earlierResults().filter((r) => !rerun.has(`${r.metric}|${pointKey(r.params)}`)), ...results];
  const caption = 'ε against model observers (secret Poisson draws; PLD ε for PLD-calibrated runs); bench/results/utility.json';
  writeFileSync(new URL('../../docs/utility-vs-epsilon.svg', import.meta.url), accuracyEpsilonSeriesSvg(seriesOf(all), null, caption, 'bottom'));
  return all;
}
