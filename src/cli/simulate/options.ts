import { z } from 'zod';
import { secaggPlusParameters } from '../../secagg/index.js';
import type { ModelSpec, ServerLrSchedule } from '../../trainer/index.js';

/** How the data is split across simulated participants. */
export type PartitionFlag = { kind: 'iid' } | { kind: 'dirichlet'; alpha: number } | { kind: 'quantity'; alpha: number };

/** Parses `iid`, `dirichlet:α` or `quantity:α`. */
export function parsePartition(text: string): PartitionFlag {
  if (text === 'iid') return { kind: 'iid' };
  const m = /^(dirichlet|quantity):([0-9]*\.?[0-9]+(?:e[-+]?[0-9]+)?)$/.exec(text);
  if (m === null) throw new Error(`--partition must be iid, dirichlet:ALPHA or quantity:ALPHA, got "${text}"`);
  const alpha = Number(m[2]);
  if (!(alpha > 0)) throw new Error(`--partition ${m[1]}: ALPHA must be > 0, got ${m[2]}`);
  return { kind: m[1] as 'dirichlet' | 'quantity', alpha };
}

/** Parses `--hidden`: comma-separated positive layer widths (`64`, `128,64`), or `none` (a CNN without hidden layers). */
export function parseHidden(text: string): number[] {
  if (text.trim() === 'none') return [];
  const widths = text.split(',').map((w) => w.trim());
  if (widths.some((w) => !/^[1-9][0-9]*$/.test(w))) throw new Error(`--hidden takes comma-separated layer widths, e.g. 64 or 128,64; got '${text}'`);
  return widths.map(Number);
}

/** Parses `--filters`: comma-separated positive channel counts of a CNN's convolutions (`8,16`). */
export function parseFilters(text: string): number[] {
  const counts = text.split(',').map((w) => w.trim());
  if (counts.some((w) => !/^[1-9][0-9]*$/.test(w))) throw new Error(`--filters takes comma-separated channel counts, e.g. 8,16; got '${text}'`);
  return counts.map(Number);
}

/**
 * Every setting of a simulated federation, validated. Defaults make `fedveil simulate` alone run a
 * private federation on MNIST that finishes in a few minutes on two cores.
 */
export const SimulateOptionsSchema = z
  .object({
    /** The population: participants exist as an index until drawn, so memory follows the cohort. */
    clients: z.number().int().min(2).max(1_000_000).default(100),
    rounds: z.number().int().min(1).max(100_000).default(10),
    /** Participants drawn per round; default all of them. */
    cohort: z.number().int().min(2).optional(),
    /**
     * `fixed`: a uniform subset of `cohort` participants per round from a public (replayable)
     * seed, which earns no amplification by sampling; `poisson`: each participant drawn
     * independently with probability cohort / clients from a seed only the coordinator holds,
     * the draw amplification by sampling needs.
     */
    draw: z.enum(['fixed', 'poisson']).default('fixed'),
    /**
     * Whose ε `--epsilon` bounds: `ledger-reader` (the report's headline: anyone who reads the
     * ledger, no amplification) or `model-observer` (someone who sees only the released models,
     * amplified by a secret draw: the ε the DP-FedAvg literature reports).
     */
    epsilonAgainst: z.enum(['ledger-reader', 'model-observer']).default('ledger-reader'),
    /** Shamir threshold t; default a majority of the cohort. */
    threshold: z.number().int().min(2).optional(),
    /** Fewest contributors the noise is shared among (and a round may release); default {@link minContributorsOf}. */
    minContributors: z.number().int().min(2).optional(),
    /** Probability that a cohort member drops out of a round, at a phase drawn uniformly. */
    dropout: z.number().min(0).lt(1).default(0.1),
    dp: z.enum(['skellam', 'ddg', 'central', 'none']).default('skellam'),
    /** Target ε over all rounds (calibrates the noise); ignored with --noise or --dp none. */
    epsilon: z.number().gt(0).optional(),
    delta: z.number().gt(0).lt(1).default(1e-5),
    /**
     * The accountant the noise is calibrated with: `rdp` (Rényi DP) or `pld` (privacy loss
     * distributions: tighter, so less noise for the same ε). PLD accounts central Gaussian noise
     * only, so it needs `--dp central` (a coordinator trusted to add the noise).
     */
    accountant: z.enum(['rdp', 'pld']).default('rdp'),
    /** Noise multiplier z, instead of calibrating to --epsilon. */
    noise: z.number().min(0).optional(),
    /** L2 clip norm of each participant's update; default {@link clipOf}. With adaptive clipping: the first round's, and the encoding's reference norm. */
    clip: z.number().gt(0).optional(),
    /** Adaptive clipping (Andrew et al. 2021): the clip norm follows a quantile of the update norms. */
    adaptiveClip: z.boolean().default(false),
    /** With adaptive clipping: the quantile γ, the step η, the bit's norm share β, the clip norm's bounds (defaults: the config's). */
    clipQuantile: z.number().gt(0).lt(1).optional(),
    clipLr: z.number().gt(0).max(10).optional(),
    clipShare: z.number().gt(0).lt(1).optional(),
    clipMin: z.number().gt(0).optional(),
    clipMax: z.number().gt(0).optional(),
    bits: z.number().int().min(8).max(32).default(32),
    model: z.enum(['logreg', 'mlp', 'cnn']).default('logreg'),
    /**
     * With `model: 'mlp'`: the hidden layers' widths (default McMahan et al.'s 200, 200); with
     * `model: 'cnn'`: its dense layers after the convolutions (default 512; empty: none). Under
     * client-level DP the noise on the mean grows as √(parameters), so small layers learn more.
     */
    hidden: z.array(z.number().int().min(1).max(4096)).max(16).optional(),
    /** With `model: 'cnn'`: the 5×5 convolutions' channels (default McMahan et al.'s 32, 64); `hidden` then gives its dense layers (default 512; `none`). */
    filters: z.array(z.number().int().min(1).max(1024)).min(1).max(8).optional(),
    /** With `model: 'cnn'`: how each convolution halves the image, 2×2 max pooling (default) or a stride of 2. */
    downsample: z.enum(['max-pool', 'stride']).optional(),
    /**
     * Decay β of an exponential moving average of the released models, evaluated and saved beside
     * the last released model (post-processing: no ε). Unset: no average.
     */
    modelAverage: z.number().gt(0).lt(1).optional(),
    partition: z.custom<PartitionFlag>().default({ kind: 'iid' }),
    /** `complete` (classic SecAgg) or `secagg+` (sparse graph, Bell et al. 2020). */
    neighbours: z.enum(['complete', 'secagg+']).default('secagg+'),
    mode: z.enum(['semi-honest', 'malicious']).default('malicious'),
    /** c, participants assumed to collude with the coordinator (raises the threshold and the malicious-mode quorum). */
    colluders: z.number().int().min(0).default(0),
    /** Examples each participant holds (taken from its partition); default all of its partition. */
    examples: z.number().int().min(1).optional(),
    localEpochs: z.number().int().min(1).max(100).default(1),
    batchSize: z.number().int().min(1).default(32),
    learningRate: z.number().gt(0).default(0.1),
    proxMu: z.number().min(0).default(0),
    serverOptimizer: z.enum(['fedavg', 'fedavgm', 'fedadam', 'fedyogi', 'fedadagrad']).default('fedavg'),
    serverLr: z.number().gt(0).optional(),
    /** Rounds at the full server lr before a cosine decay that reaches `serverLrFinal`·lr at the last round; unset: a constant lr. */
    serverLrDecayFrom: z.number().int().min(0).optional(),
    /** The server lr's final factor under `serverLrDecayFrom` (default 0.1). */
    serverLrFinal: z.number().min(0).max(1).optional(),
    /** K canary participants (empirical privacy audit): extra participants that contribute random directions of norm C instead of training. */
    auditCanaries: z.number().int().min(0).max(10_000).default(0),
    /** P noise-probe coordinates (input 0) every participant appends; default {@link DEFAULT_NOISE_PROBE} with canaries, else 0. */
    noiseProbe: z.number().int().min(0).max(65_536).optional(),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
    out: z.string().min(1).default('out'),
    workers: z.number().int().min(1).max(64).optional(),
    backend: z.enum(['node', 'wasm', 'cpu']).optional(),
    /** Test examples to evaluate the global model on after each round (default: the whole official test set). */
    testExamples: z.number().int().min(1).max(10_000).default(10_000),
    /**
     * Phase deadline in ms: dropped participants are detected when it passes. Default: three times
     * the longest a worker needs to train all its participants once (measured at start), plus 2 s.
     */
    deadlineMs: z.number().int().min(100).optional(),
    json: z.boolean().default(false),
    /** Run plain federated averaging with no masking and no DP, to measure the protocol's overhead. */
    insecureBaseline: z.boolean().default(false),
    /** Serve the dashboard on this port of 127.0.0.1 while the simulation runs (0: any free port). */
    dashboard: z.number().int().min(0).max(65_535).optional(),
    /** With `dashboard`: keep serving it after the run, until interrupted. */
    keepOpen: z.boolean().default(false),
    /**
     * Asynchronous federation (FedBuff): `rounds` groups of the first `cohort` participants ready,
     * participants training at their own simulated pace (see src/cli/simulate/async-schedule.ts).
     */
    async: z.boolean().default(false),
    /** Most model versions an update may lag (asynchronous). */
    maxStaleness: z.number().int().min(0).default(10),
    /** a of the staleness weight (1 + τ)^(−a) (asynchronous). */
    stalenessExponent: z.number().min(0).max(16).default(0.5),
    /** Median simulated seconds of one local training. */
    trainSeconds: z.number().gt(0).default(60),
    /** σ of the log-normal training times across participants (0: all equally fast). */
    speedSkew: z.number().min(0).max(5).default(1),
    /** Simulated seconds the masked protocol of one round (or group) takes, beyond training. */
    roundSeconds: z.number().min(0).default(10),
    /** Probability a participant is online when it could start a training (else offline for a while). */
    availability: z.number().gt(0).max(1).default(1),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.serverLrFinal !== undefined && o.serverLrDecayFrom === undefined) {
      ctx.addIssue({ code: 'custom', path: ['serverLrFinal'], message: '--server-lr-final needs --server-lr-decay-from (the round the decay starts)' });
    }
    if (o.serverLrDecayFrom !== undefined && o.serverLrDecayFrom >= o.rounds) {
      ctx.addIssue({ code: 'custom', path: ['serverLrDecayFrom'], message: `--server-lr-decay-from ${o.serverLrDecayFrom} must be below --rounds ${o.rounds}: the decay ends at the last round` });
    }
    const population = o.clients + o.auditCanaries;
    if (o.cohort !== undefined && o.cohort > population) {
      ctx.addIssue({ code: 'custom', path: ['cohort'], message: `--cohort ${o.cohort} exceeds --clients ${o.clients}${o.auditCanaries > 0 ? ` plus ${o.auditCanaries} --audit-canaries` : ''}` });
    }
    if (o.hidden !== undefined && o.model !== 'mlp' && o.model !== 'cnn') {
      ctx.addIssue({ code: 'custom', path: ['hidden'], message: `hidden layer widths apply to --model mlp or cnn, not ${o.model}` });
    }
    if (o.hidden !== undefined && o.hidden.length === 0 && o.model !== 'cnn') {
      ctx.addIssue({ code: 'custom', path: ['hidden'], message: '--hidden none applies to --model cnn; an MLP needs at least one hidden layer' });
    }
    if ((o.filters !== undefined || o.downsample !== undefined) && o.model !== 'cnn') {
      ctx.addIssue({ code: 'custom', path: [o.filters !== undefined ? 'filters' : 'downsample'], message: `--filters and --downsample apply to --model cnn, not ${o.model}` });
    }
    if (o.auditCanaries === 1) {
      ctx.addIssue({ code: 'custom', path: ['auditCanaries'], message: 'one canary gives no distribution to fit: give 0 or at least 2 (100 is a good start)' });
    }
    if ((o.noiseProbe ?? 0) > 0 && (o.dp === 'none' || o.insecureBaseline)) {
      ctx.addIssue({ code: 'custom', path: ['noiseProbe'], message: 'the noise probe tests a DP claim: it needs secure aggregation with DP' });
    }
    if (o.auditCanaries > 0 && (o.dp === 'none' || o.insecureBaseline)) {
      ctx.addIssue({ code: 'custom', path: ['auditCanaries'], message: 'the audit tests a DP claim: it needs secure aggregation with DP' });
    }
    const cohort = o.cohort ?? population;
    if (o.colluders >= cohort) {
      ctx.addIssue({ code: 'custom', path: ['colluders'], message: `--colluders ${o.colluders} must be below the cohort of ${cohort}` });
    }
    if (o.threshold !== undefined && o.threshold <= o.colluders) {
      ctx.addIssue({ code: 'custom', path: ['threshold'], message: `--threshold ${o.threshold} must exceed --colluders ${o.colluders} (t > c)` });
    }
    if (o.threshold !== undefined && o.threshold > cohort) {
      ctx.addIssue({ code: 'custom', path: ['threshold'], message: `--threshold ${o.threshold} exceeds the cohort of ${cohort}` });
    }
    if (o.minContributors !== undefined && o.minContributors > cohort) {
      ctx.addIssue({ code: 'custom', path: ['minContributors'], message: `--min-contributors ${o.minContributors} exceeds the cohort of ${cohort}` });
    }
    if (o.dp !== 'none' && o.epsilon !== undefined && o.noise !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['noise'], message: 'give --epsilon or --noise, not both' });
    }
    if (o.accountant === 'pld' && o.dp !== 'central') {
      ctx.addIssue({ code: 'custom', path: ['accountant'], message: `the PLD accountant calibrates central noise only (--dp central); ${o.dp} noise is accounted by RDP` });
    }
    if (o.accountant === 'pld' && o.noise !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['accountant'], message: 'the accountant calibrates --epsilon; with --noise there is nothing to calibrate (the report gives both ε anyway)' });
    }
    if (o.draw === 'poisson' && cohort >= population) {
      ctx.addIssue({ code: 'custom', path: ['draw'], message: `a Poisson draw needs --cohort below the population of ${population}` });
    }
    if (o.dp === 'none' && o.epsilon !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['epsilon'], message: '--dp none gives no ε guarantee; drop --epsilon' });
    }
    for (const k of ['clipQuantile', 'clipLr', 'clipShare', 'clipMin', 'clipMax'] as const) {
      if (o[k] !== undefined && !o.adaptiveClip) ctx.addIssue({ code: 'custom', path: [k], message: 'sets adaptive clipping: give --adaptive-clip too' });
    }
    if (o.adaptiveClip && (o.insecureBaseline || o.auditCanaries > 0)) {
      ctx.addIssue({ code: 'custom', path: ['adaptiveClip'], message: 'adaptive clipping runs in the secure federation, without audit canaries (they contribute at the fixed clip norm)' });
    }
    if (o.keepOpen && o.dashboard === undefined) {
      ctx.addIssue({ code: 'custom', path: ['keepOpen'], message: 'keeps the dashboard open: give --dashboard too' });
    }
    if (o.async && (o.draw !== 'fixed' || o.insecureBaseline || o.auditCanaries > 0)) {
      ctx.addIssue({ code: 'custom', path: ['async'], message: 'asynchronous groups are self-selected: no --draw poisson, --insecure-baseline or --audit-canaries with it' });
    }
    if (o.async && o.epsilonAgainst === 'model-observer') {
      ctx.addIssue({ code: 'custom', path: ['epsilonAgainst'], message: 'asynchronous groups earn no amplification by sampling: ε is against ledger readers' });
    }
    if (o.dashboard !== undefined && o.insecureBaseline) {
      ctx.addIssue({ code: 'custom', path: ['dashboard'], message: 'the insecure baseline runs no coordinator to serve a dashboard' });
    }
  });

/** Validated simulation settings. */
export type SimulateOptions = z.infer<typeof SimulateOptionsSchema>;

/** The ε a DP run targets when neither --epsilon nor --noise is given. */
export const DEFAULT_TARGET_EPSILON = 8;

/** The cohort size these options give (the expected size of a Poisson draw); canaries are drawn like everyone. */
export function cohortSize(o: Pick<SimulateOptions, 'cohort' | 'clients' | 'auditCanaries'>): number {
  return o.cohort ?? populationOf(o);
}

/**
 * Noise-probe coordinates a simulation's participants append when --noise-probe is not given and
 * canaries audit the run: 256 fill part of the padding the rotation adds anyway at the default
 * model (7 850 → 8 192), and give a test with power at a few percent of the noise (README).
 */
export const DEFAULT_NOISE_PROBE = 256;

/** P, the simulation's noise-probe coordinates: --noise-probe, else {@link DEFAULT_NOISE_PROBE} with canaries, else 0. */
export function noiseProbeOf(o: Pick<SimulateOptions, 'noiseProbe' | 'auditCanaries'>): number {
  return o.noiseProbe ?? (o.auditCanaries > 0 ? DEFAULT_NOISE_PROBE : 0);
}

/** Everyone a draw picks from: the clients and the audit's canaries. */
export function populationOf(o: Pick<SimulateOptions, 'clients' | 'auditCanaries'>): number {
  return o.clients + o.auditCanaries;
}

/** The largest cohort a round can have: the population under a Poisson draw. */
export function maxCohortOf(o: Pick<SimulateOptions, 'cohort' | 'clients' | 'auditCanaries' | 'draw'>): number {
  return o.draw === 'poisson' ? populationOf(o) : cohortSize(o);
}

/** Corruption fraction the SecAgg+ graph is sized for in simulations. */
export const SIMULATED_CORRUPTION = 0.1;

/** Dropout fraction the SecAgg+ graph is sized for: the injected rate, at least 5%. */
export function secaggPlusDropout(o: SimulateOptions): number {
  return Math.max(o.dropout, 0.05);
}

/**
 * The threshold t (Shamir threshold and fewest contributors a round may release). Default: a
 * strict majority of the cohort on the complete graph. On the SecAgg+ graph, Bell et al.'s
 * per-neighbourhood threshold, since a majority of the whole cohort would force every
 * neighbourhood to be nearly the whole cohort and leave it no room for dropouts; a cohort too
 * small for a sparse graph runs on the complete graph and gets the majority again. Never at or
 * below the assumed colluders (t > c).
 */
export function thresholdOf(o: SimulateOptions): number {
  if (o.threshold !== undefined) return o.threshold;
  const n = cohortSize(o);
  const majority = Math.max(2, Math.floor(n / 2) + 1);
  if (o.neighbours === 'secagg+') {
    const p = secaggPlusParameters({ n, dropoutFraction: secaggPlusDropout(o), corruptionFraction: SIMULATED_CORRUPTION });
    if (p.degree < n - 1) return Math.min(n, Math.max(2, p.threshold, o.colluders + 1));
  }
  return Math.min(n, Math.max(majority, o.colluders + 1));
}

/** Clip norm used without DP: high enough that it never binds on MNIST updates. */
export const NO_DP_CLIP = 100;
/** Clip norm used with DP when none is given. */
export const DP_CLIP = 0.5;

/** The clip norm: the given one, else {@link DP_CLIP} with DP and {@link NO_DP_CLIP} without. */
export function clipOf(o: SimulateOptions): number {
  return o.clip ?? (o.dp === 'none' ? NO_DP_CLIP : DP_CLIP);
}

/** The federation config's `clipping` section these options give (undefined: fixed clipping). */
export function clippingOf(o: SimulateOptions): { adaptive: Record<string, number> } | undefined {
  if (!o.adaptiveClip) return undefined;
  const given = { targetQuantile: o.clipQuantile, learningRate: o.clipLr, normShare: o.clipShare, min: o.clipMin, max: o.clipMax };
  return { adaptive: Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as Record<string, number> };
}

/** The model flags of a simulation: which model, and its shape. */
export type ModelFlags = Pick<SimulateOptions, 'model' | 'hidden' | 'filters' | 'downsample'>;

/** The trainer's spec of a model named on the command line, for MNIST's 784 features and 10 classes. */
export function modelSpecOf({ model, hidden, filters, downsample }: ModelFlags): ModelSpec {
  if (model === 'logreg') return { kind: 'logreg', inputSize: 784, numClasses: 10 };
  if (model === 'mlp') return hidden === undefined ? { kind: 'mlp' } : { kind: 'mlp', hidden };
  return {
    kind: 'cnn',
    ...(filters === undefined ? {} : { filters }),
    ...(hidden === undefined ? {} : { hidden }),
    ...(downsample === undefined ? {} : { downsample }),
  };
}

/** The server lr's schedule of a simulation: constant, or a cosine decay from --server-lr-decay-from to --server-lr-final (0.1) at the last round. */
export function serverLrScheduleOf(o: Pick<SimulateOptions, 'rounds' | 'serverLrDecayFrom' | 'serverLrFinal'>): ServerLrSchedule {
  return o.serverLrDecayFrom === undefined ? { kind: 'constant' } : { kind: 'cosine', from: o.serverLrDecayFrom, to: o.rounds, final: o.serverLrFinal ?? 0.1 };
}

/**
 * The fewest contributors the distributed noise is split among: the given number, else the
 * cohort's expected survivors less three standard deviations (binomial dropouts), never below
 * the threshold. Each participant adds 1/m of the noise variance, so the closer m is to the real
 * number of contributors, the closer the ε spent is to the ε calibrated for; a round with fewer
 * than m contributors is not released.
 */
export function minContributorsOf(o: SimulateOptions): number {
  if (o.minContributors !== undefined) return o.minContributors;
  const n = cohortSize(o);
  // Survivors are binomial: of the cohort with a fixed draw, of the population (at rate
  // cohort / clients × (1 − dropout)) with a Poisson draw, whose size varies too.
  const survive = o.draw === 'poisson' ? (n / o.clients) * (1 - o.dropout) : 1 - o.dropout;
  const trials = o.draw === 'poisson' ? o.clients : n;
  const expected = trials * survive - 3 * Math.sqrt(trials * survive * (1 - survive));
  return Math.min(n, Math.max(thresholdOf(o), Math.floor(expected)));
}
