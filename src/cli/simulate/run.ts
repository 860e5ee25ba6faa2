import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { phasesOf, type Phase } from '../../protocol/phases.js';
import { seededRandom, toHex, utf8 } from '../../secagg/index.js';
import { drawCohort } from '../../server/cohort.js';
import type { RoundSummary } from '../../server/coordinator.js';
import type { DashboardFeed } from '../../server/dashboard/feed.js';
import { startCoordinator } from '../../server/start.js';
import type { LayersModel } from '@tensorflow/tfjs';
import {
  createModel,
  createServerOptimizer,
  evaluate,
  getFlatWeights,
  initBackend,
  loadMnist,
  loadMnistLabels,
  partitionDataset,
  ReleasedModelAverage,
  setFlatWeights,
  type Dataset,
  type EvaluationResult,
  type ServerOptimizer,
  type ServerOptimizerConfig,
} from '../../trainer/index.js';
import { silentIn, simulatedDropout } from './dropout.js';
import { saveModelFiles } from '../model-files.js';
import { clipOf, cohortSize, maxCohortOf, modelSpecOf, populationOf, serverLrScheduleOf, thresholdOf, type SimulateOptions } from './options.js';
import { planSimulation, type SimulationPlan } from './plan.js';
import { AUDIT_SUBDIR, auditRunDir, saveModelVersion, writeCanaryReveal } from '../canary-audit-files.js';
import type { EmpiricalAudit, NoiseAudit, PrivacyReport } from '../../dp/index.js';
import { startWorker, type SimulationWorker } from './pool.js';
import { testNoiseScale } from '../test-noise-scale.js';
import type { AsyncMemberAssignment, BaselineTrainRequest, DataShards, RoundAssignment } from './worker-protocol.js';
import { asyncSchedule } from './async-schedule.js';
import { synchronousRoundSeconds, type SpeedModel } from './speeds.js';

/** One round of the simulation, as `--json` prints it. */
export interface RoundRow {
  round: number;
  status: 'completed' | 'aborted';
  /** Abort code and reason when the round was aborted. */
  code?: string;
  reason?: string;
  /** Test accuracy of the global model after the round. */
  accuracy: number;
  loss: number;
  /** With --model-average: the test accuracy and loss of the average of the models released so far. */
  averaged?: { accuracy: number; loss: number };
  /** ε spent by all rounds so far (null: no DP, unbounded). */
  epsilon: number | null;
  contributors: number;
  dropouts: number;
  seconds: number;
  /** Wall-clock seconds of each protocol phase. */
  phaseSeconds: Partial<Record<Phase, number>>;
  /**
   * Simulated wall-clock (seconds since the federation began) at which the round ended, under the
   * speed model: participants' training times, and `roundSeconds` for each round's protocol.
   */
  simulatedSeconds: number;
  /** Asynchronous groups: each member's staleness τ = version applied to − version trained on, in index order. */
  staleness?: number[];
  /** With --adaptive-clip: the round's clip norm and the noised fraction of updates within it. */
  clipping?: { clipNorm: number; fraction: number | null };
}

/** The `--json` summary of a simulation. */
export interface SimulationSummary {
  rounds: RoundRow[];
  final: {
    accuracy: number;
    loss: number;
    epsilon: number | null;
    delta: number;
    rounds: number;
    clients: number;
    cohort: number;
    threshold: number;
    completedRounds: number;
    perClassAccuracy: number[];
    /** Simulated wall-clock seconds when the last round ended. */
    simulatedSeconds: number;
    /** The moving average of the released models (--model-average), as saved; null without one or before any release. */
    averaged: AveragedModel | null;
  };
  dp: { mechanism: string; noiseMultiplier: number; targetEpsilon: number | null; clipNorm: number; bits: number; scale: number; minContributors: number };
  backend: { name: string; reason: string };
  secure: boolean;
  seconds: number;
  /** Mean wall-clock seconds per round. */
  secondsPerRound: number;
  report: string | null;
  ledger: string | null;
  coordinatorKey: string | null;
  model: string;
  out: string;
  /** True when the run was stopped early (SIGINT): the report covers the rounds released until then. */
  interrupted: boolean;
  /** The empirical privacy audit by the canaries (--audit-canaries), also written into the report; null without canaries. */
  audit: EmpiricalAudit | null;
  /** How the simulated wall-clock was made: the participants' speed model, and the seconds each round's protocol takes. */
  speeds: SpeedModel & { roundSeconds: number };
  /** Asynchronous federations (--async): group size K and the staleness rules; null for synchronous rounds. */
  async: { groupSize: number; maxStaleness: number; stalenessExponent: number } | null;
  /** The noise audit of the released probe values (--noise-probe), as the report states it; null without a probe. */
  noiseAudit: NoiseAudit | null;
  /**
   * The report's ε at its δ: against ledger readers (the headline, no amplification) and against
   * observers of the released models (what `--epsilon-against model-observer` calibrates), each
   * with its PLD value where the report has one; null without a report.
   */
  epsilons: ReportEpsilons | null;
}

/** The ε figures of a privacy report (see {@link SimulationSummary.epsilons}). */
export interface ReportEpsilons {
  ledgerReader: { epsilon: number | null; pldEpsilon: number | null };
  modelObserver: { epsilon: number | null; pldEpsilon: number | null; amplification: boolean };
}

/** The exponential moving average of the released models and how it scored. */
export interface AveragedModel {
  decay: number;
  /** Released versions averaged. */
  versions: number;
  accuracy: number;
  loss: number;
  /** Its model.json (under `out/model-averaged`). */
  model: string;
}

/** What the simulation tells its caller while it runs (progress bars, plain lines, or nothing). */
export interface SimulationObserver {
  info(line: string): void;
  phase(round: number, phase: string): void;
  roundEnded(row: RoundRow): void;
  /** The dashboard's URL, when one is served. */
  serving?(url: string): void;
  /** The run is over and `--keep-open` keeps the dashboard served until the signal aborts. */
  keptOpen?(url: string): void;
}

/** The partition as two flat arrays (see {@link DataShards}). */
function shardsOf(parts: readonly { indices: ArrayLike<number> }[], examples: number | undefined): DataShards {
  const starts = new Uint32Array(parts.length + 1);
  parts.forEach((p, i) => (starts[i + 1] = (starts[i] as number) + p.indices.length));
  const indices = new Uint32Array(starts[parts.length] as number);
  parts.forEach((p, i) => indices.set(p.indices, starts[i]));
  return examples === undefined ? { starts, indices } : { starts, indices, examples };
}

/**
 * `ds` with its features and labels copied into shared memory: handed to every worker without a
 * copy each (MNIST's training pixels are 188 MB as float32).
 */
function sharedDataset(ds: Dataset): Dataset {
  const features = new Float32Array(new SharedArrayBuffer(ds.features.byteLength));
  features.set(ds.features);
  const labels = new Uint8Array(new SharedArrayBuffer(ds.labels.byteLength));
  labels.set(ds.labels);
  return { ...ds, features, labels };
}

/** Cohort members split between the workers, evenly (members are in draw order, so random). */
function splitCohort(clients: readonly number[], workers: number): number[][] {
  const out: number[][] = Array.from({ length: workers }, () => []);
  clients.forEach((c, i) => (out[i % workers] as number[]).push(c));
  return out;
}

function rowOf(s: RoundSummary, ev: EvaluationResult, simulatedSeconds: number): RoundRow {
  const phaseSeconds: Partial<Record<Phase, number>> = {};
  for (const [p, ms] of Object.entries(s.phaseMs)) phaseSeconds[p as Phase] = ms / 1000;
  return {
    round: s.round,
    status: s.status,
    ...(s.code === undefined ? {} : { code: s.code }),
    ...(s.reason === undefined ? {} : { reason: s.reason }),
    accuracy: ev.accuracy,
    loss: ev.loss,
    epsilon: s.epsilon,
    contributors: s.contributors,
    dropouts: Object.values(s.dropouts).reduce((a, b) => a + (b ?? 0), 0),
    seconds: s.durationMs / 1000,
    phaseSeconds,
    simulatedSeconds,
    ...(s.group ? { staleness: s.group.trainedOn.map((v) => s.group!.modelVersion - v) } : {}),
    ...(s.clipping === undefined ? {} : { clipping: s.clipping }),
  };
}

/** What the rounds need, prepared once: data, model, workers, plan. */
interface Setup {
  o: SimulateOptions;
  observer: SimulationObserver;
  model: LayersModel;
  initial: Float32Array;
  test: Dataset;
  out: string;
  plan: SimulationPlan;
  workers: SimulationWorker[];
  /** Client index of each participant key. */
  clientOf: Map<string, number>;
  /** Round assignments the workers have not finished yet. */
  pending: { count: number; wake: (() => void) | null };
  /** Asynchronous replays (by slot) whose participant has stopped. */
  replayed: Set<number>;
  /** Baseline mode: updates handed back by the workers, by client. */
  trained: Map<number, Float32Array>;
  onTrained: { wake: (() => void) | null };
  rows: RoundRow[];
  lastEval: EvaluationResult | null;
  /** --model-average: the average of the released models and its latest evaluation. */
  average: { of: ReleasedModelAverage; eval: EvaluationResult | null } | null;
  signal: AbortSignal | undefined;
  /** Whether the run was stopped before its rounds were done (a later stop only closes a kept-open dashboard). */
  interrupted: boolean;
  /** The saved model's model.json, once written. */
  modelJson: string | null;
}

/** Writes the model as it was last evaluated (the last released one) under `out/model`. */
async function saveModel(s: Setup): Promise<string> {
  s.modelJson = (await saveModelFiles(s.model, join(s.out, 'model'))).modelJson;
  return s.modelJson;
}

/**
 * Runs a whole simulated federation on this machine: the real coordinator on 127.0.0.1, the
 * participants in worker threads (one per core) talking to it over HTTP, each training on its
 * partition of MNIST, with secure aggregation, distributed DP and the privacy ledger. Writes the
 * ledger, the privacy report and the final model under `o.out`. When `signal` aborts, the
 * federation stops (the running round is recorded aborted, nothing of it released) and the same
 * files are written for the rounds released so far (`interrupted` in the summary).
 */
export async function runSimulation(o: SimulateOptions, observer: SimulationObserver, signal?: AbortSignal): Promise<SimulationSummary> {
  const started = performance.now();
  const backend = await initBackend(o.backend ? { prefer: o.backend } : {});
  observer.info(`tfjs backend: ${backend.name} (${backend.reason})`);
  const layout = o.model === 'cnn' ? 'image' : 'flat';
  const parts = partitionDataset(loadMnistLabels({ split: 'train' }), 10, { clients: o.clients, spec: o.partition, seed: o.seed, minSize: 1 });
  const test = loadMnist({ split: 'test', layout, limit: o.testExamples });
  const model = await createModel(modelSpecOf(o), o.seed);
  const initial = getFlatWeights(model);
  const out = resolve(o.out);
  mkdirSync(out, { recursive: true });
  // A simulation starts a fresh federation: never resume an earlier run's coordinator state.
  const storage = join(out, 'coordinator.sqlite');
  for (const suffix of ['', '-wal', '-shm']) rmSync(storage + suffix, { force: true });

  const secure = !o.insecureBaseline;
  const workerCount = Math.min(o.workers ?? Math.max(1, availableParallelism()), cohortSize(o));
  const noiseScale = testNoiseScale();
  // The partition is indices into the one training set: participants are sliced from it when drawn.
  const shards = shardsOf(parts, o.examples);
  const train = sharedDataset(loadMnist({ split: 'train', layout }));
  const trained = new Map<number, Float32Array>();
  const onTrained: Setup['onTrained'] = { wake: null };
  const pending: Setup['pending'] = { count: 0, wake: null };
  const replayed = new Set<number>();
  const phases = [...phasesOf(o.mode)];
  const workers = Array.from({ length: workerCount }, () =>
    startWorker(
      {
        mode: secure ? 'participants' : 'baseline',
        train,
        shards,
        recipe: { model: o.model, ...(o.hidden === undefined ? {} : { hidden: o.hidden }), ...(o.filters === undefined ? {} : { filters: o.filters }), ...(o.downsample === undefined ? {} : { downsample: o.downsample }), epochs: o.localEpochs, batchSize: o.batchSize, learningRate: o.learningRate, proxMu: o.proxMu },
        seed: o.seed,
        dropout: secure ? o.dropout : 0,
        phases,
        ...(o.backend ? { backend: o.backend } : {}),
        clip: clipOf(o),
        ...(noiseScale === undefined ? {} : { noiseScale }),
      },
      (e) => {
        if (e.type === 'round-done') {
          replayed.add(e.round);
          pending.count--;
          pending.wake?.();
        }
        if (e.type !== 'trained') return;
        trained.set(e.client, e.update);
        onTrained.wake?.();
      },
    ),
  );
  try {
    const readiness = await Promise.all(workers.map((w) => w.ready));
    // A worker trains its share of the cohort one after another: phases must outwait that (a
    // Poisson cohort may exceed its expected size by a few standard deviations).
    const largestCohort = Math.min(maxCohortOf(o), Math.ceil(cohortSize(o) + 4 * Math.sqrt(cohortSize(o))));
    const busiestMs = Math.max(...readiness.map((r) => r.trainMs)) * Math.ceil(largestCohort / workers.length);
    const deadlineMs = o.deadlineMs ?? Math.ceil(3 * busiestMs + 2000);
    const plan = planSimulation(o, initial.length, storage, deadlineMs);
    const clientOf = new Map(plan.participants.map((k, i) => [k, i]));
    observer.info(
      `${o.clients} participants${o.auditCanaries > 0 ? ` and ${o.auditCanaries} audit canaries (population ${populationOf(o)})` : ''}, ${workers.length} worker threads, ${o.draw === 'poisson' ? 'Poisson cohort of expected size' : 'cohort'} ${cohortSize(o)}, threshold ${thresholdOf(o)}, ` +
        `noise shared by ≥ ${plan.dp.minContributors}, ${o.rounds} rounds, ` +
        `model ${o.model}${o.filters === undefined ? '' : ` conv ${o.filters.join('-')}${o.downsample === 'stride' ? ' strided' : ''}`}${o.hidden === undefined ? '' : ` ${o.hidden.length === 0 ? 'no hidden layer' : o.hidden.join('-')}`} (${initial.length} parameters), ` +
        (secure
          ? `dp ${plan.dp.mechanism}${plan.dp.mechanism === 'none' ? '' : ` z=${plan.dp.noiseMultiplier.toFixed(4)} C=${plan.dp.clipNorm}`}` +
            `${o.adaptiveClip ? ` (clip norm adaptive from ${plan.dp.clipNorm}, following quantile ${plan.config.clipping?.adaptive.targetQuantile} of the update norms)` : ''}` +
            `${plan.targetEpsilon === null ? '' : ` (target ε=${plan.targetEpsilon} against ${plan.epsilonAgainst}s, δ=${o.delta})`}, ${plan.config.neighbours.mode} graph, ` +
            `${plan.config.mode} mode, phase deadline ${(deadlineMs / 1000).toFixed(1)} s`
          : 'INSECURE BASELINE: no masking, no DP'),
    );
    const setup: Setup = { o, observer, model, initial, test, out, plan, workers, clientOf, pending, replayed, trained, onTrained, rows: [], lastEval: null, average: o.modelAverage === undefined ? null : { of: new ReleasedModelAverage(o.modelAverage), eval: null }, signal, interrupted: false, modelJson: null };
    let audit: Pick<SimulationSummary, 'report' | 'ledger' | 'coordinatorKey' | 'audit' | 'noiseAudit' | 'epsilons'> = { report: null, ledger: null, coordinatorKey: null, audit: null, noiseAudit: null, epsilons: null };
    if (secure) audit = await runSecureRounds(setup);
    else await runBaselineRounds(setup);
    const modelJson = setup.modelJson ?? (await saveModel(setup));
    const averagedJson = await saveAveragedModel(setup);
    const finalEval = setup.lastEval ?? (await evaluateWeights(setup, initial));
    const rows = setup.rows;
    return {
      rounds: rows,
      final: {
        accuracy: finalEval.accuracy,
        loss: finalEval.loss,
        epsilon: rows[rows.length - 1]?.epsilon ?? (secure && plan.dp.mechanism !== 'none' ? 0 : null),
        delta: o.delta,
        rounds: rows.length,
        clients: o.clients,
        cohort: cohortSize(o),
        threshold: thresholdOf(o),
        completedRounds: rows.filter((r) => r.status === 'completed').length,
        perClassAccuracy: finalEval.perClassAccuracy,
        simulatedSeconds: rows.at(-1)?.simulatedSeconds ?? 0,
        averaged: setup.average?.eval && averagedJson !== null
          ? { decay: setup.average.of.decay, versions: setup.average.of.versions, accuracy: setup.average.eval.accuracy, loss: setup.average.eval.loss, model: averagedJson }
          : null,
      },
      dp: {
        mechanism: secure ? plan.dp.mechanism : 'none',
        noiseMultiplier: secure ? plan.dp.noiseMultiplier : 0,
        targetEpsilon: secure ? plan.targetEpsilon : null,
        clipNorm: plan.dp.clipNorm,
        bits: plan.dp.bits,
        scale: plan.dp.scale,
        minContributors: plan.dp.minContributors,
      },
      backend: { name: backend.name, reason: backend.reason },
      secure,
      seconds: (performance.now() - started) / 1000,
      secondsPerRound: rows.length === 0 ? 0 : rows.reduce((a, r) => a + r.seconds, 0) / rows.length,
      ...audit,
      model: modelJson,
      out,
      interrupted: secure ? setup.interrupted : (signal?.aborted ?? false),
      speeds: { ...speedsOf(o), roundSeconds: o.roundSeconds },
      async: o.async ? { groupSize: cohortSize(o), maxStaleness: o.maxStaleness, stalenessExponent: o.stalenessExponent } : null,
    };
  } finally {
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
}

/** The participants' speed model of these options. */
function speedsOf(o: SimulateOptions): SpeedModel {
  return { medianSeconds: o.trainSeconds, skew: o.speedSkew, availability: o.availability };
}

/**
 * Evaluates a round's model: with --model-average, a released version first enters the average
 * (an aborted round releases nothing and leaves it as it was) and the average is evaluated too.
 * The released model is evaluated last, so it is the one `saveModel` writes.
 */
async function evaluateRound(s: Setup, weights: Float32Array, released: boolean): Promise<{ ev: EvaluationResult; averaged?: { accuracy: number; loss: number } }> {
  const a = s.average;
  if (a !== null && released) {
    setFlatWeights(s.model, a.of.add(weights));
    a.eval = await evaluate(s.model, s.test);
  }
  const ev = await evaluateWeights(s, weights);
  return a?.eval ? { ev, averaged: { accuracy: a.eval.accuracy, loss: a.eval.loss } } : { ev };
}

/** Writes the average of the released models under `out/model-averaged`; null without one. */
async function saveAveragedModel(s: Setup): Promise<string | null> {
  const a = s.average;
  if (a === null || a.of.versions === 0) return null;
  const last = getFlatWeights(s.model);
  setFlatWeights(s.model, a.of.current());
  const { modelJson } = await saveModelFiles(s.model, join(s.out, 'model-averaged'));
  setFlatWeights(s.model, last);
  return modelJson;
}

async function evaluateWeights(s: Setup, weights: Float32Array): Promise<EvaluationResult> {
  setFlatWeights(s.model, weights);
  s.lastEval = await evaluate(s.model, s.test);
  return s.lastEval;
}

/** The server optimiser of a simulation: its kind and lr, with a cosine decay ending at the last round under --server-lr-decay-from. */
export function serverOptimizerOf(o: SimulateOptions): ServerOptimizer {
  return createServerOptimizer({ kind: o.serverOptimizer, schedule: serverLrScheduleOf(o), ...(o.serverLr === undefined ? {} : { lr: o.serverLr }) } as ServerOptimizerConfig);
}

/** The real thing: coordinator on loopback, participants in the workers, the ledger exported at the end. */
async function runSecureRounds(s: Setup): Promise<Pick<SimulationSummary, 'report' | 'ledger' | 'coordinatorKey' | 'audit' | 'noiseAudit' | 'epsilons'>> {
  const auditing = s.plan.canaries.length > 0;
  // The audit measures the released model versions: keep each as published.
  const keep = (version: number, weights: Uint8Array) => {
    if (auditing) saveModelVersion(s.out, version, weights);
  };
  let evaluations: Promise<unknown> = Promise.resolve();
  let published: () => Uint8Array = () => new Uint8Array(0);
  let dashboard: DashboardFeed | null = null;
  const speeds = speedsOf(s.o);
  // Asynchronous: the simulated time line, replayed against the real coordinator (a few spare
  // groups in case some abort). Synchronous: each round waits for its slowest member.
  const schedule = s.o.async
    ? asyncSchedule({ clients: s.o.clients, groupSize: cohortSize(s.o), groups: s.o.rounds + Math.max(3, Math.ceil(s.o.rounds / 5)), maxStaleness: s.o.maxStaleness, seed: s.o.seed, speeds, roundSeconds: s.o.roundSeconds })
    : null;
  const membersOf = new Map<number, number[]>();
  let simulatedClock = 0;
  let ended = 0;
  const simulatedEnd = (round: number): number => {
    if (schedule !== null) return schedule.groups[ended]?.at ?? simulatedClock;
    return simulatedClock + synchronousRoundSeconds(s.o.seed, membersOf.get(round) ?? [], round, speeds) + s.o.roundSeconds;
  };
  const running = await startCoordinator({
    config: s.plan.config,
    identity: s.plan.coordinatorIdentity,
    initialModel: s.initial,
    serverOptimizer: serverOptimizerOf(s.o),
    random: seededRandom(`fedveil/simulate/${s.o.seed}/coordinator`),
    autoStart: false,
    app: { log: () => undefined },
    onRoundEnd: (summary) => {
      const bytes = Uint8Array.from(published());
      keep(summary.modelVersion, bytes);
      const weights = new Float32Array(bytes.buffer);
      simulatedClock = simulatedEnd(summary.round);
      ended++;
      const at = simulatedClock;
      evaluations = evaluations.then(async () => {
        const { ev, averaged } = await evaluateRound(s, weights, summary.status === 'completed');
        const row = { ...rowOf(summary, ev, at), ...(averaged === undefined ? {} : { averaged }) };
        dashboard?.recordEvaluation(summary.round, { source: 'test-set', accuracy: row.accuracy, loss: row.loss, examples: s.test.size, noised: false });
        s.rows.push(row);
        s.observer.roundEnded(row);
      });
    },
  });
  const coordinator = running.coordinator;
  published = () => coordinator.model.weights;
  dashboard = running.dashboard;
  if (dashboard !== null) s.observer.serving?.(running.url);
  if (auditing) rmSync(join(s.out, AUDIT_SUBDIR), { recursive: true, force: true });
  keep(coordinator.model.version, coordinator.model.weights);
  const clientOf = s.clientOf;
  const phases = phasesOf(s.plan.config.mode);
  let seen = '';
  let assigned = -1;
  const poll = setInterval(() => {
    const st = coordinator.state();
    const key = `${st.round}/${st.phase}`;
    if (st.round !== null && st.phase !== null && key !== seen) {
      seen = key;
      s.observer.phase(st.round, st.phase);
    }
    const progress = coordinator.phaseProgress();
    if (progress === null) return;
    // Participants exist only once drawn: hand each new cohort to the workers, who create them.
    if (progress.round > assigned) {
      assigned = progress.round;
      const members = progress.members.map((k) => clientOf.get(k) as number);
      membersOf.set(progress.round, members);
      // Asynchronous groups' members exist already: the replay of the schedule created them.
      if (schedule !== null) return;
      splitCohort(members, s.workers.length).forEach((clients, w) => {
        if (clients.length === 0) return;
        s.pending.count++;
        s.workers[w]?.worker.postMessage({ type: 'round', round: progress.round, coordinator: running.url, clients } satisfies RoundAssignment);
      });
    }
    // Dropout detection is what phase deadlines are for; a simulation knows who dropped and
    // closes the phase once only they are missing, instead of idling until the deadline.
    const submitted = new Set(progress.submitted);
    const missing = progress.expected.filter((i) => !submitted.has(i));
    const onlyDropped = missing.every((i) => {
      const client = clientOf.get(progress.members[i] as string) as number;
      return silentIn(phases, simulatedDropout(s.o.seed, s.o.dropout, phases, client, progress.round), progress.phase);
    });
    if (missing.length > 0 && onlyDropped) coordinator.expireDeadline();
  }, 50);
  try {
    coordinator.start();
    const interrupted = new Promise<void>((resolve) => {
      if (s.signal?.aborted) resolve();
      s.signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    if (schedule !== null) void replaySchedule(s, schedule, coordinator, running.url).catch((e: unknown) => s.observer.info(`replay stopped: ${e instanceof Error ? e.message : String(e)}`));
    await Promise.race([coordinator.finished, interrupted]);
    if (s.signal?.aborted) {
      // The running round is recorded aborted; its participants are terminated with their workers.
      await coordinator.stop();
    } else {
      // Let every drawn participant see its round's end (and fail the run if a worker failed).
      const failure = Promise.race(s.workers.map((w) => w.failed));
      while (s.pending.count > 0) {
        await Promise.race([new Promise<void>((r) => (s.pending.wake = r)), failure]);
        s.pending.wake = null;
      }
    }
    await evaluations;
    s.interrupted = s.signal?.aborted ?? false;
    const paths = await running.exportAudit(s.out);
    let audit: EmpiricalAudit | null = null;
    if (auditing) {
      // The secrets are revealed only now, after the last round: the genesis held their commitment.
      writeCanaryReveal(s.out, s.plan.config.federationId, s.plan.canaries.map((c) => ({ publicKey: toHex(c.identity.publicKey), secret: toHex(c.secret) })));
      try {
        audit = auditRunDir(s.out, { coordinatorKey: paths.coordinatorKey }).audit;
      } catch (e) {
        s.observer.info(`empirical audit not possible: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (s.o.keepOpen && dashboard !== null && !s.interrupted) {
      // Everything the run writes is written before the wait.
      if (s.lastEval === null) await evaluateWeights(s, s.initial);
      await saveModel(s);
      s.observer.keptOpen?.(running.url);
      await new Promise<void>((resolve) => {
        if (s.signal === undefined || s.signal.aborted) resolve();
        s.signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    const report = JSON.parse(readFileSync(paths.report, 'utf8')) as PrivacyReport;
    const epsilons: ReportEpsilons = {
      ledgerReader: { epsilon: report.ledgerReader.epsilon, pldEpsilon: report.ledgerReader.pldEpsilon ?? null },
      modelObserver: { epsilon: report.modelObserver.epsilon, pldEpsilon: report.modelObserver.pldEpsilon ?? null, amplification: report.modelObserver.amplification },
    };
    return { report: paths.report, ledger: paths.ledger, coordinatorKey: paths.coordinatorKey, audit, noiseAudit: report.noiseAudit ?? null, epsilons };
  } finally {
    clearInterval(poll);
    await running.close();
  }
}

/**
 * Replays an asynchronous schedule against the real coordinator: each announcement, in simulated
 * time order, becomes a participant (in a worker) that trains on the scheduled version and
 * announces it ready; the next is sent only once this one is queued and the groups formed before
 * it in simulated time have ended, so the coordinator forms the scheduled groups.
 */
async function replaySchedule(s: Setup, schedule: ReturnType<typeof asyncSchedule>, coordinator: Awaited<ReturnType<typeof startCoordinator>>['coordinator'], url: string): Promise<void> {
  const until = async (done: () => boolean): Promise<boolean> => {
    while (!done()) {
      if (coordinator.state().status !== 'running' || s.signal?.aborted) return false;
      await new Promise((r) => setTimeout(r, 5));
    }
    return true;
  };
  for (const [slot, a] of schedule.announcements.entries()) {
    if (!(await until(() => coordinator.summaries.length >= a.groupsBefore))) return;
    const announced = coordinator.readyAnnouncements;
    s.pending.count++;
    s.workers[slot % s.workers.length]?.worker.postMessage({ type: 'async-member', slot, coordinator: url, client: a.client, trainOn: a.trainedOn } satisfies AsyncMemberAssignment);
    // Queued, or (its update stale after all) given up: either way the next may go.
    if (!(await until(() => coordinator.readyAnnouncements > announced || s.replayed.has(slot)))) return;
  }
}

/** Plain federated averaging, updates in the clear: the yardstick for the protocol's overhead. */
async function runBaselineRounds(s: Setup): Promise<void> {
  const optimizer = serverOptimizerOf(s.o);
  // The coordinator's draw procedure; a Poisson federation's draw seed is the coordinator's
  // secret, so the baseline draws from the simulation's seed instead.
  const drawSeed = utf8(String(s.plan.config.seed ?? `simulation-${s.o.seed}`));
  const clientOf = s.clientOf;
  let weights = s.initial;
  for (let round = 0; round < s.o.rounds && !s.signal?.aborted; round++) {
    const t0 = performance.now();
    s.observer.phase(round, 'train');
    // The coordinator's draw procedure, seeded from the federation's seed.
    const cohort = new Set(drawCohort(s.plan.config.participants, s.plan.config.cohort, drawSeed, round).members.map((k) => clientOf.get(k) as number));
    s.trained.clear();
    splitCohort([...cohort], s.workers.length).forEach((clients, wi) => {
      if (clients.length > 0) s.workers[wi]?.worker.postMessage({ type: 'train', round, weights, clients } satisfies BaselineTrainRequest);
    });
    while (s.trained.size < cohort.size) {
      await new Promise<void>((r) => (s.onTrained.wake = r));
      s.onTrained.wake = null;
    }
    const mean = new Float32Array(weights.length);
    for (const update of s.trained.values()) for (let i = 0; i < mean.length; i++) mean[i]! += update[i]! / cohort.size;
    weights = optimizer.apply(weights, mean);
    const { ev, averaged } = await evaluateRound(s, weights, true);
    const row: RoundRow = {
      round,
      status: 'completed',
      accuracy: ev.accuracy,
      loss: ev.loss,
      ...(averaged === undefined ? {} : { averaged }),
      epsilon: null,
      contributors: cohort.size,
      dropouts: 0,
      seconds: (performance.now() - t0) / 1000,
      phaseSeconds: {},
      simulatedSeconds: (s.rows.at(-1)?.simulatedSeconds ?? 0) + synchronousRoundSeconds(s.o.seed, [...cohort], round, speedsOf(s.o)) + s.o.roundSeconds,
    };
    s.rows.push(row);
    s.observer.roundEnded(row);
  }
}
