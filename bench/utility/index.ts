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
 * Options after the suite's name replace the model's recipe ({@link recipeOf}).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseFilters, parseHidden, SimulateOptionsSchema, type SimulateOptions } from '../../src/cli/simulate/options.js';
import { runSimulation, type SimulationObserver, type SimulationSummary } from '../../src/cli/simulate/run.js';
import { accuracyEpsilonSeriesSvg, type Series } from '../accuracy/svg.js';
import { numberArg, type BenchArgs } from '../args.js';
import type { BenchResult, BenchSuiteFile } from '../results.js';
import type { CnnDownsample } from '../../src/trainer/index.js';

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
  return model === 'mlp' ? MLP_ROUNDS : model === 'cnn' ? CNN_ROUNDS : LOGREG_ROUNDS;
}

/**
 * Expected cohort of populations above 100: a round costs compute by its cohort, and at a fixed
 * cohort a larger population means a smaller q, a smaller z for the same ε and so less noise on
 * the mean (at ε = 4 over 5 rounds: z = 1.07 at q = 0.2, 0.62 at q = 0.02).
 */
const COHORT = 200;
const LOGREG_ROUNDS = 5;
const MLP_ROUNDS = 40;
const CNN_ROUNDS = 80;

/** Models the grid runs when FEDVEIL_UTILITY_MODELS names them; the CNN is not on the default grid (it runs for the 10 000-participant target). */
const MODELS: readonly SimulateOptions['model'][] = ['logreg', 'mlp', 'cnn'];

/**
 * Local and server training of a run: the model's defaults ({@link TUNED}), which the bench's
 * options override (`npm run bench -- utility --cohort 500 --hidden 32 --local-epochs 5`).
 */
export interface Recipe {
  /** Expected cohort; by default {@link COHORT} (half of a population of 100). */
  cohort?: number;
  /** MLP or CNN hidden layer widths (simulate's --hidden; empty: a CNN without one). */
  hidden?: number[];
  /** A CNN's convolution channels (simulate's --filters). */
  filters?: number[];
  /** How a CNN's convolutions halve the image (simulate's --downsample). */
  downsample?: CnnDownsample;
  localEpochs: number;
  learningRate: number;
  serverOptimizer: SimulateOptions['serverOptimizer'];
  serverLr: number;
  /** Rounds at the full server lr before its cosine decay to `serverLrFinal` (simulate's --server-lr-decay-from); constant when absent. */
  serverLrDecayFrom?: number;
  /** The server lr's final factor under the decay (simulate's --server-lr-final). */
  serverLrFinal?: number;
  clip: number;
  /** Decay of the moving average of the released models (simulate's --model-average); none by default. */
  modelAverage?: number;
  /** Simulate's --seed (data partition, initial model, participants' randomness); simulate's default 1 when absent. */
  seed?: number;
}

/** Local and server training of each model, chosen by the exploration README describes. */
export const TUNED: Record<SimulateOptions['model'], Recipe> = {
  logreg: { localEpochs: 2, learningRate: 0.3, serverOptimizer: 'fedavgm', serverLr: 5, clip: 0.5 },
  mlp: { hidden: [64], localEpochs: 5, learningRate: 0.2, serverOptimizer: 'fedavgm', serverLr: 1.5, clip: 0.5, modelAverage: 0.8 },
  cnn: { filters: [8, 16], hidden: [], downsample: 'stride', localEpochs: 5, learningRate: 0.2, serverOptimizer: 'fedavgm', serverLr: 8, clip: 0.25, modelAverage: 0.8 },
};

/** The bench options a recipe takes, by their simulate flag names. */
const RECIPE_ARGS = ['cohort', 'hidden', 'filters', 'downsample', 'local-epochs', 'learning-rate', 'server-optimizer', 'server-lr', 'server-lr-decay-from', 'server-lr-final', 'clip', 'model-average', 'seed'] as const;

/**
 * A model's recipe with the bench's options applied; throws on an option the suite does not
 * take or a value that is no number (simulate's own validation then judges the values).
 */
export function recipeOf(model: SimulateOptions['model'], args: BenchArgs): Recipe {
  const unknown = Object.keys(args).filter((k) => !(RECIPE_ARGS as readonly string[]).includes(k));
  if (unknown.length > 0) throw new Error(`utility: unknown option(s) ${unknown.map((k) => `--${k}`).join(', ')}; it takes ${RECIPE_ARGS.map((k) => `--${k}`).join(', ')}`);
  const base = TUNED[model];
  const optional = (name: 'cohort' | 'model-average' | 'seed' | 'server-lr-decay-from' | 'server-lr-final'): number | undefined => (args[name] === undefined ? undefined : numberArg(args, name, NaN));
  const cohort = optional('cohort');
  const modelAverage = optional('model-average');
  const seed = optional('seed');
  const decayFrom = optional('server-lr-decay-from');
  const lrFinal = optional('server-lr-final');
  return {
    ...base,
    ...(cohort === undefined ? {} : { cohort }),
    ...(args.hidden === undefined || model === 'logreg' ? {} : { hidden: parseHidden(args.hidden) }),
    ...(args.filters === undefined || model !== 'cnn' ? {} : { filters: parseFilters(args.filters) }),
    ...(args.downsample === undefined || model !== 'cnn' ? {} : { downsample: args.downsample as Recipe['downsample'] }),
    localEpochs: numberArg(args, 'local-epochs', base.localEpochs),
    learningRate: numberArg(args, 'learning-rate', base.learningRate),
    serverOptimizer: (args['server-optimizer'] ?? base.serverOptimizer) as Recipe['serverOptimizer'],
    serverLr: numberArg(args, 'server-lr', base.serverLr),
    ...(decayFrom === undefined ? {} : { serverLrDecayFrom: decayFrom }),
    ...(lrFinal === undefined ? {} : { serverLrFinal: lrFinal }),
    clip: numberArg(args, 'clip', base.clip),
    ...(modelAverage === undefined ? {} : { modelAverage }),
    ...(seed === undefined ? {} : { seed }),
  };
}

/**
 * The federation of one grid point. The noise on the mean update is z·C/(qN) per coordinate;
 * for a fixed ε, T rounds and z past about 1, z grows about as q·√T/ε, so that noise is about
 * √T/(εN) whatever the sampling rate q: a larger cohort buys little against the noise once z is
 * past 1 and costs compute, a smaller one leaves z below 1 where amplification by sampling
 * fades. Hence a cohort of {@link COHORT} (a fifth of 1 000; 50 of 100: all of 100 would leave
 * nothing to amplify), and updates clipped below their typical norm (each then counts by its
 * direction) with a server learning rate that turns the clipped mean back into a full step.
 * Logistic regression: few rounds (each costs √T in noise, and compute), two local epochs. The
 * MLP learns slowly by rounds whatever the noise, so it runs 40 cheap ones (a 64-unit hidden
 * layer, five local epochs) and is judged by the moving average of its releases, which smooths
 * the noise of the last rounds at no ε. Adaptive clipping starts from the same C and follows the
 * median update norm.
 */
export function utilityOptions(population: number, model: SimulateOptions['model'], epsilon: number, point: GridPoint, t: Recipe = recipeOf(model, {})): Partial<SimulateOptions> {
  return {
    clients: population,
    cohort: t.cohort ?? (population <= 100 ? population / 2 : Math.min(COHORT, population / 5)),
    draw: 'poisson',
    epsilonAgainst: 'model-observer',
    epsilon,
    dp: point.mechanism,
    accountant: point.accountant,
    rounds: point.rounds,
    model,
    ...(t.hidden === undefined ? {} : { hidden: t.hidden }),
    ...(t.filters === undefined ? {} : { filters: t.filters }),
    ...(t.downsample === undefined ? {} : { downsample: t.downsample }),
    localEpochs: t.localEpochs,
    batchSize: 16,
    learningRate: t.learningRate,
    serverOptimizer: t.serverOptimizer,
    serverLr: t.serverLr,
    ...(t.serverLrDecayFrom === undefined ? {} : { serverLrDecayFrom: t.serverLrDecayFrom }),
    ...(t.serverLrFinal === undefined ? {} : { serverLrFinal: t.serverLrFinal }),
    clip: t.clip,
    adaptiveClip: point.clipping === 'adaptive',
    ...(t.modelAverage === undefined ? {} : { modelAverage: t.modelAverage }),
    ...(t.seed === undefined ? {} : { seed: t.seed }),
    testExamples: 10_000,
  };
}

const list = (name: string, fallback: readonly number[]): number[] => {
  const v = process.env[name];
  return v === undefined ? [...fallback] : v.split(',').filter((x) => x !== '').map(Number);
};

function names<T extends string>(name: string, allowed: readonly T[], fallback: readonly T[] = allowed): T[] {
  const v = process.env[name];
  if (v === undefined) return [...fallback];
  const given = v.split(',').filter((x) => x !== '') as T[];
  const bad = given.filter((g) => !allowed.includes(g));
  if (bad.length > 0) throw new Error(`${name}: unknown value(s) ${bad.join(', ')}; choose from ${allowed.join(', ')}`);
  return given;
}

/** The `fedveil simulate` command line of a grid point's options. */
export function commandOf(given: Partial<SimulateOptions>): string {
  const flags = Object.entries(given)
    .filter(([, v]) => v !== false)
    .map(([k, v]) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}${v === true ? '' : ` ${Array.isArray(v) ? (v.length === 0 ? 'none' : v.join(',')) : String(v)}`}`);
  return `fedveil simulate ${flags.join(' ')}`;
}

/**
 * What identifies a point in the results, so a later run of the same point replaces it: its
 * simulate command (every setting; the output directory is not in it).
 */
const pointKey = (p: Record<string, unknown>): string => String(p.command);

/** A flag's value in a result's command, or `fallback` where the command does not give it. */
function flagOf(p: Record<string, unknown>, flag: string, fallback: string): string {
  return new RegExp(`--${flag} (\\S+)`).exec(String(p.command ?? ''))?.[1] ?? fallback;
}

/** The server lr's decay as a label reads it, or nothing for a constant lr. */
function decayOf(p: Record<string, unknown>): string {
  const from = flagOf(p, 'server-lr-decay-from', '');
  return from === '' ? '' : ` cosine to ×${flagOf(p, 'server-lr-final', '0.1')} from round ${from}`;
}

/** The accuracy results of an earlier run of the suite (FEDVEIL_UTILITY_MERGE=1), or none. */
function earlierResults(): BenchResult[] {
  if (process.env.FEDVEIL_UTILITY_MERGE !== '1') return [];
  const file = new URL('../results/utility.json', import.meta.url);
  if (!existsSync(file)) return [];
  return (JSON.parse(readFileSync(file, 'utf8')) as BenchSuiteFile).results;
}

/** One line per round, so a long run shows how it goes. */
const progress: SimulationObserver = {
  info: () => undefined,
  phase: () => undefined,
  roundEnded: (r) =>
    console.log(`[utility]   round ${r.round}: ${r.status}, accuracy ${(r.accuracy * 100).toFixed(2)}%${r.averaged === undefined ? '' : ` (averaged ${(r.averaged.accuracy * 100).toFixed(2)}%)`}, ${r.seconds.toFixed(1)} s`),
};

/** The curves of the plot: one per (population, model, mechanism, accountant, clipping), over ε. */
function seriesOf(results: readonly BenchResult[]): Series[] {
  const curves = new Map<string, Series>();
  for (const r of results) {
    if (r.metric !== 'utility_test_accuracy') continue;
    const p = r.params;
    const conv = typeof p.filters === 'string' ? ` conv ${p.filters}${p.downsample === 'stride' ? ' strided' : ''},` : '';
    const model = `${String(p.model)}${conv}${typeof p.hidden === 'string' ? ` ${conv === '' ? '' : 'hidden '}${p.hidden}` : ''}`;
    const averaged = typeof p.model_average === 'number' ? `, averaged ${p.model_average}` : '';
    // Seeds of one recipe are separate curves: the plot shows the spread, not an average of it.
    const seed = flagOf(p, 'seed', '');
    const label = `N=${String(p.population)} ${model}, cohort ${String(p.cohort)}, ${String(p.mechanism)} ${String(p.accountant).toUpperCase()}, ${String(p.clipping)} clip, T=${String(p.rounds)}, E=${String(p.local_epochs ?? '?')}, lr ${flagOf(p, 'learning-rate', '0.1')}, server lr ${flagOf(p, 'server-lr', '1')}${decayOf(p)}${averaged}${seed === '' ? '' : `, seed ${seed}`}`;
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
export async function run(args: BenchArgs = {}): Promise<BenchResult[]> {
  const populations = list('FEDVEIL_UTILITY_POPULATIONS', AXES.population);
  const models = names('FEDVEIL_UTILITY_MODELS', MODELS, AXES.model);
  const epsilons = list('FEDVEIL_UTILITY_EPSILONS', AXES.epsilon);
  const mechanisms = names('FEDVEIL_UTILITY_MECHANISMS', AXES.mechanism);
  const accountants = names('FEDVEIL_UTILITY_ACCOUNTANTS', AXES.accountant);
  const clippings = names('FEDVEIL_UTILITY_CLIPPINGS', AXES.clipping);
  const roundsGiven = process.env.FEDVEIL_UTILITY_ROUNDS;
  const results: BenchResult[] = [];
  // Every model's recipe up front: a bad option is refused before the first (long) run.
  const recipes = new Map(models.map((m) => [m, recipeOf(m, args)] as const));
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
              const recipe = recipes.get(model) as Recipe;
              const given = utilityOptions(population, model, epsilon, { mechanism, accountant, clipping, rounds }, recipe);
              const command = commandOf(given);
              // One folder per command: two recipes of the same grid point must not share one.
              const run = `${population}-${model}-${mechanism}-${accountant}-${clipping}-${epsilon}-T${rounds}-${createHash('sha256').update(command).digest('hex').slice(0, 8)}`;
              const options = SimulateOptionsSchema.parse({ ...given, out: `bench/results/utility-run/${run}`, json: true });
              const cpuBefore = process.cpuUsage();
              const s: SimulationSummary = await runSimulation(options, progress);
              const cpu = process.cpuUsage(cpuBefore);
              // Worker threads share the process: its peak RSS (since the bench started) covers them.
              const peakRssMb = process.resourceUsage().maxRSS / 1024;
              const averaged = s.final.averaged;
              const eps = s.epsilons;
              if (eps === null) throw new Error(`utility: ${command} wrote no privacy report`);
              const observer = eps.modelObserver.epsilon ?? -1;
              const reader = eps.ledgerReader.epsilon ?? -1;
              console.log(
                `[utility] ${command}: accuracy ${s.final.accuracy.toFixed(4)}${averaged === null ? '' : ` (averaged model ${averaged.accuracy.toFixed(4)})`}, ε model observer ${observer} (PLD ${eps.modelObserver.pldEpsilon ?? '—'}), ledger reader ${reader} (PLD ${eps.ledgerReader.pldEpsilon ?? '—'}), ${s.secondsPerRound.toFixed(1)} s/round, ${((cpu.user + cpu.system) / 1e6).toFixed(0)} CPU s, peak RSS ${peakRssMb.toFixed(0)} MB`,
              );
              const params = {
                population,
                cohort: s.final.cohort,
                draw: 'poisson-secret',
                model,
                ...(recipe.hidden === undefined ? {} : { hidden: recipe.hidden.length === 0 ? 'none' : recipe.hidden.join(',') }),
                ...(model !== 'cnn' || recipe.filters === undefined ? {} : { filters: recipe.filters.join(','), downsample: recipe.downsample ?? 'max-pool' }),
                local_epochs: recipe.localEpochs,
                rounds,
                completed_rounds: s.final.completedRounds,
                mechanism,
                trust: TRUST[mechanism],
                accountant,
                clipping,
                target_epsilon: epsilon,
                model_observer_epsilon: observer,
                amplification: eps.modelObserver.amplification,
                ledger_reader_epsilon: reader,
                ...(eps.modelObserver.pldEpsilon === null ? {} : { model_observer_pld_epsilon: eps.modelObserver.pldEpsilon }),
                ...(eps.ledgerReader.pldEpsilon === null ? {} : { ledger_reader_pld_epsilon: eps.ledgerReader.pldEpsilon }),
                noise_multiplier: s.dp.noiseMultiplier,
                server_lr: given.serverLr ?? 1,
                seed: given.seed ?? 1,
                // The value is the delivered model's: the moving average where one was kept (the
                // same ε: an average of released models is post-processing), else the last release.
                ...(averaged === null ? {} : { model_average: averaged.decay, averaged_versions: averaged.versions, last_release_accuracy: s.final.accuracy }),
                command,
              };
              const target = epsilon <= 4 ? TARGETS[population] : undefined;
              results.push({ metric: 'utility_test_accuracy', value: averaged?.accuracy ?? s.final.accuracy, unit: 'fraction', params, ...(target === undefined ? {} : { target }) });
              results.push({
                metric: 'utility_round_s',
                value: s.secondsPerRound,
                unit: 's',
                params: { population, cohort: s.final.cohort, model, mechanism, accountant, clipping, target_epsilon: epsilon, rounds, backend: s.backend.name, cpu_s: (cpu.user + cpu.system) / 1e6, peak_rss_mb: peakRssMb, command },
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
  const series = seriesOf(all);
  // The axis starts 5 points below the lowest accuracy (rounded down to 5%), so close curves part.
  const lowest = Math.min(...series.flatMap((c) => c.points.map((p) => p.accuracy)));
  const yFrom = Number.isFinite(lowest) ? Math.max(0, Math.floor(lowest * 20) / 20 - 0.05) : 0;
  writeFileSync(new URL('../../docs/utility-vs-epsilon.svg', import.meta.url), accuracyEpsilonSeriesSvg(series, null, caption, 'below', yFrom));
  return all;
}
