/**
 * Recipe exploration: the learning arithmetic of a central-noise federation with a secret Poisson
 * draw, without the protocol, so that learning rates, widths and clip norms can be compared in a
 * tenth of the time a real run (`npm run bench -- utility`) takes.
 *
 * Each round every participant of the population is drawn with probability q = cohort/population;
 * each drawn one trains on its IID shard of MNIST (as `fedveil simulate` partitions it), its update
 * is clipped to C, the clipped updates are summed, the sum gets N(0, (z·C/s)²) noise per
 * coordinate and is divided by the number drawn (the coordinator divides by its contributors),
 * and the server optimiser and the moving average of the releases follow. With `--adaptive-clip` the clip norm follows a quantile of the
 * update norms by the federation's rule, from a noised count with the bit's noise z/β, the
 * update's noise scaled by 1/s, s = √(1 − β²), as the coordinator does. z is calibrated for the
 * target ε against model observers by PLD, as simulate calibrates it.
 *
 * What it leaves out: secure aggregation, dropouts, the ledger, the encoding's quantisation and
 * rotation, and real secret draws (the draw and the noise come from one seeded generator). Its
 * accuracies are therefore estimates for choosing a recipe, never figures for the privacy–utility
 * table; a recipe chosen here is measured by `utility` with the same flags.
 *
 * `npm run bench -- recipe --population 10000 --cohort 1000 --rounds 80 --hidden 128 --clip 0.25
 * --server-lr 8` (every option below; `--noise-multiplier 0` runs it without noise); `--model cnn
 * --filters 8,16 --downsample stride --hidden none` explores the small CNN, as simulate builds it.
 */
import { calibrateNoiseMultiplier, checkAdaptiveClipRule, l2Norm, nextClipNorm, type AdaptiveClipRule } from '../../src/dp/index.js';
import { adaptiveClipRule } from '../../src/server/adaptive-clip.js';
import {
  createModel,
  createRng,
  createServerOptimizer,
  evaluate,
  getFlatWeights,
  initBackend,
  loadMnist,
  loadMnistLabels,
  partitionDataset,
  ReleasedModelAverage,
  setFlatWeights,
  subset,
  trainLocal,
  type CnnDownsample,
  type ServerLrSchedule,
} from '../../src/trainer/index.js';
import { simulateOptionsFromFlags } from '../../src/cli/simulate.js';
import { modelSpecOf, serverLrScheduleOf } from '../../src/cli/simulate/options.js';
import { numberArg, type BenchArgs } from '../args.js';
import type { BenchResult } from '../results.js';

const OPTIONS = [
  'population',
  'cohort',
  'rounds',
  'epsilon',
  'delta',
  'noise-multiplier',
  'model',
  'hidden',
  'filters',
  'downsample',
  'local-epochs',
  'learning-rate',
  'batch-size',
  'server-lr',
  'server-lr-decay-from',
  'server-lr-final',
  'momentum',
  'clip',
  'adaptive-clip',
  'clip-quantile',
  'clip-lr',
  'clip-share',
  'clip-max',
  'model-average',
  'seed',
  'every',
] as const;

/** The options of one exploration run; defaults are the 10 000-participant MLP recipe. */
export interface RecipeRun {
  population: number;
  cohort: number;
  rounds: number;
  epsilon: number;
  delta: number;
  /** z; calibrated from ε when not given. */
  noiseMultiplier: number;
  model: 'mlp' | 'cnn';
  /** Hidden widths (an MLP's, or a CNN's dense layers: possibly none). */
  hidden: number[] | undefined;
  /** A CNN's convolution channels and downsampling. */
  filters: number[] | undefined;
  downsample: CnnDownsample | undefined;
  localEpochs: number;
  learningRate: number;
  batchSize: number;
  serverLr: number;
  /** The server lr's schedule; a cosine decay ends at the last round. */
  serverLrSchedule: ServerLrSchedule;
  momentum: number;
  clip: number;
  adaptive: { quantile: number; lr: number; share: number; max: number } | null;
  modelAverage: number;
  seed: number;
  every: number;
}

/** The run the bench options describe; throws on an option it does not take. */
export function recipeRunOf(args: BenchArgs): RecipeRun {
  const unknown = Object.keys(args).filter((k) => !(OPTIONS as readonly string[]).includes(k));
  if (unknown.length > 0) throw new Error(`recipe: unknown option(s) ${unknown.map((k) => `--${k}`).join(', ')}; it takes ${OPTIONS.map((k) => `--${k}`).join(', ')}`);
  const population = numberArg(args, 'population', 10_000);
  const cohort = numberArg(args, 'cohort', 1_000);
  const rounds = numberArg(args, 'rounds', 80);
  const epsilon = numberArg(args, 'epsilon', 4);
  const delta = numberArg(args, 'delta', 1e-5);
  if (!(Number.isInteger(population) && population >= 1 && cohort > 0 && cohort <= population)) throw new Error(`recipe: need 0 < cohort ≤ population, got ${cohort} of ${population}`);
  if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`recipe: --rounds must be a positive integer, got ${rounds}`);
  const model = args.model ?? 'mlp';
  if (model !== 'mlp' && model !== 'cnn') throw new Error(`recipe: --model must be mlp or cnn, got ${model}`);
  // The model and schedule flags as simulate reads and checks them (--hidden none for a CNN only,
  // --filters and --downsample for a CNN, a decay that starts before the last round).
  const flags = simulateOptionsFromFlags({
    model,
    rounds: String(rounds),
    hidden: args.hidden,
    filters: args.filters,
    downsample: args.downsample,
    serverLrDecayFrom: args['server-lr-decay-from'],
    serverLrFinal: args['server-lr-final'],
  });
  const given = args['noise-multiplier'];
  const noiseMultiplier =
    given === undefined ? calibrateNoiseMultiplier({ epsilon, delta, samplingRate: cohort / population, steps: rounds, accountant: 'pld' }) : numberArg(args, 'noise-multiplier', NaN);
  if (!(noiseMultiplier >= 0)) throw new Error(`recipe: --noise-multiplier must be ≥ 0, got ${noiseMultiplier}`);
  const serverLrSchedule = serverLrScheduleOf(flags);
  const serverLr = numberArg(args, 'server-lr', 8);
  const momentum = numberArg(args, 'momentum', 0.9);
  // The optimiser checks its lr and momentum before any data is loaded.
  createServerOptimizer({ kind: 'fedavgm', lr: serverLr, momentum, schedule: serverLrSchedule });
  const clip = numberArg(args, 'clip', 0.25);
  if (!(clip > 0)) throw new Error(`recipe: --clip must be > 0, got ${clip}`);
  const adaptive =
    args['adaptive-clip'] === undefined
      ? null
      : { quantile: numberArg(args, 'clip-quantile', 0.5), lr: numberArg(args, 'clip-lr', 0.2), share: numberArg(args, 'clip-share', 0.2), max: numberArg(args, 'clip-max', 1000 * clip) };
  if (adaptive !== null) {
    checkAdaptiveClipRule(clipRuleOf(clip, adaptive));
    if (!(adaptive.share > 0 && adaptive.share < 1)) throw new Error(`recipe: --clip-share must be in (0, 1), got ${adaptive.share}`);
  }
  return {
    population,
    cohort,
    rounds,
    epsilon,
    delta,
    noiseMultiplier,
    model,
    hidden: flags.hidden ?? (model === 'mlp' ? [128] : undefined),
    filters: flags.filters,
    downsample: flags.downsample,
    localEpochs: numberArg(args, 'local-epochs', 5),
    learningRate: numberArg(args, 'learning-rate', 0.2),
    batchSize: numberArg(args, 'batch-size', 16),
    serverLr,
    serverLrSchedule,
    momentum,
    clip,
    adaptive,
    modelAverage: numberArg(args, 'model-average', 0.8),
    seed: numberArg(args, 'seed', 1),
    every: numberArg(args, 'every', 10),
  };
}

/** The federation's clipping rule for these settings, its bounds resolved as a federation resolves them. */
function clipRuleOf(clip: number, a: NonNullable<RecipeRun['adaptive']>): AdaptiveClipRule {
  return adaptiveClipRule({ dp: { clipNorm: clip }, clipping: { adaptive: { targetQuantile: a.quantile, learningRate: a.lr, normShare: a.share, max: a.max } } }) as AdaptiveClipRule;
}

/** Runs the exploration; one accuracy per evaluated round (every `--every` rounds and the last). */
export async function run(args: BenchArgs): Promise<BenchResult[]> {
  const r = recipeRunOf(args);
  const backend = await initBackend({});
  const train = loadMnist({ split: 'train' });
  const test = loadMnist({ split: 'test' });
  const shards = partitionDataset(loadMnistLabels({ split: 'train' }), 10, { clients: r.population, spec: { kind: 'iid' }, seed: r.seed, minSize: 1 });
  const model = await createModel(modelSpecOf(r), r.seed);
  const weights0 = getFlatWeights(model);
  const optimizer = createServerOptimizer({ kind: 'fedavgm', lr: r.serverLr, momentum: r.momentum, schedule: r.serverLrSchedule });
  const average = new ReleasedModelAverage(r.modelAverage);
  const rng = createRng(r.seed);
  const q = r.cohort / r.population;
  const rule = r.adaptive === null ? null : clipRuleOf(r.clip, r.adaptive);
  const updateShare = r.adaptive === null ? 1 : Math.sqrt(1 - r.adaptive.share ** 2);
  const params = {
    population: r.population,
    cohort: r.cohort,
    epsilon: r.epsilon,
    noise_multiplier: r.noiseMultiplier,
    model: r.model,
    ...(r.hidden === undefined ? {} : { hidden: r.hidden.length === 0 ? 'none' : r.hidden.join(',') }),
    ...(r.filters === undefined ? {} : { filters: r.filters.join(',') }),
    ...(r.downsample === undefined ? {} : { downsample: r.downsample }),
    parameters: weights0.length,
    local_epochs: r.localEpochs,
    learning_rate: r.learningRate,
    server_lr: r.serverLr,
    server_lr_schedule: r.serverLrSchedule.kind === 'constant' ? 'constant' : `cosine from round ${r.serverLrSchedule.from} to ${r.serverLrSchedule.to}, final ×${r.serverLrSchedule.final}`,
    momentum: r.momentum,
    clip: r.clip,
    clipping: r.adaptive === null ? 'fixed' : `adaptive q${r.adaptive.quantile} η${r.adaptive.lr} max ${r.adaptive.max}`,
    model_average: r.modelAverage,
    seed: r.seed,
    rounds: r.rounds,
    backend: backend.name,
    command: `npm run bench -- recipe ${Object.entries(args).map(([k, v]) => `--${k}${v === 'true' ? '' : ` ${v}`}`).join(' ')}`.trim(),
  };
  console.log(`[recipe] model ${r.model}${r.filters === undefined ? '' : ` conv ${r.filters.join(',')}`}${r.downsample === undefined ? '' : ` ${r.downsample}`}${r.hidden === undefined ? '' : ` hidden ${params.hidden}`}, ${weights0.length} parameters`);
  console.log(`[recipe] z = ${r.noiseMultiplier.toFixed(4)} (${args['noise-multiplier'] === undefined ? `PLD, ε ${r.epsilon} at δ ${r.delta}, q ${q}, ${r.rounds} rounds` : 'given'}), backend ${backend.name}`);
  let weights = weights0;
  let clipNorm = r.clip;
  const results: BenchResult[] = [];
  const t0 = performance.now();
  for (let round = 0; round < r.rounds; round++) {
    const sum = new Float64Array(weights.length);
    const norms: number[] = [];
    let within = 0;
    for (let client = 0; client < r.population; client++) {
      if (rng.nextFloat() >= q) continue;
      const { update } = await trainLocal(model, weights, subset(train, shards[client]!.indices), {
        epochs: r.localEpochs,
        batchSize: r.batchSize,
        learningRate: r.learningRate,
        optimizer: 'sgd',
        seed: (r.seed * 1_000_003 + client * 7_919 + round) % 2 ** 31,
      });
      const n = l2Norm(update);
      norms.push(n);
      if (n <= clipNorm) within++;
      const f = Math.min(1, clipNorm / n);
      for (let i = 0; i < sum.length; i++) sum[i]! += update[i]! * f;
    }
    const sd = (r.noiseMultiplier * clipNorm) / updateShare;
    const mean = new Float32Array(weights.length);
    const contributors = Math.max(1, norms.length);
    for (let i = 0; i < mean.length; i++) mean[i] = (sum[i]! + sd * rng.nextNormal()) / contributors;
    weights = optimizer.apply(weights, mean);
    const averaged = average.add(weights);
    const used = clipNorm;
    if (rule !== null && r.adaptive !== null) {
      const fraction = (within + (r.noiseMultiplier / r.adaptive.share) * rng.nextNormal()) / contributors;
      clipNorm = nextClipNorm(clipNorm, fraction, rule);
    }
    if ((round + 1) % r.every === 0 || round === r.rounds - 1) {
      setFlatWeights(model, averaged);
      const avg = await evaluate(model, test);
      setFlatWeights(model, weights);
      const last = await evaluate(model, test);
      norms.sort((a, b) => a - b);
      const median = norms[norms.length >> 1] ?? 0;
      console.log(
        `[recipe]   round ${round + 1}: averaged ${(avg.accuracy * 100).toFixed(2)}%, last release ${(last.accuracy * 100).toFixed(2)}%, ` +
          `${norms.length} drawn, median update norm ${median.toFixed(3)}, clip ${used.toFixed(3)}, mean step norm ${l2Norm(mean).toFixed(3)}, ${((performance.now() - t0) / 1000).toFixed(0)} s`,
      );
      results.push({ metric: 'recipe_test_accuracy', value: avg.accuracy, unit: 'fraction', params: { ...params, after_round: round + 1, last_release: last.accuracy, median_update_norm: median, clip_norm: used } });
    }
  }
  return results;
}
