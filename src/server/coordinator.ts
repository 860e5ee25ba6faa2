import { sha256 } from '@noble/hashes/sha2.js';
import { adaptiveClipRule, ClipChain, fractionNoiseStd, releasedFraction, releasedUpdate, roundClip, type RoundClip } from './adaptive-clip.js';
import { EVALUATION_COORDINATES, evaluationNoised, evaluationRates, evaluationTotals, releasedNoiseStd, roundDim, type EvaluationTotals } from './federated-evaluation.js';
import { noiseProbeCoordinates, releasedNoiseProbe } from './noise-probe.js';
import { ledgerReaderEpsilon, type DpConfig, type DpEvent, type RoundPrivacyEntry } from '../dp/index.js';
import { planRound, toWireConfig, type RoundConfig, type RoundPlan } from '../protocol/config.js';
import type { ClientMessage, ServerMessage } from '../protocol/messages.js';
import { phasesOf, type Phase } from '../protocol/phases.js';
import type { CompletedOutcome, RoundOutcome, ServerStep } from '../protocol/results.js';
import { ServerRound } from '../protocol/server/server-round.js';
import {
  defaultProvider,
  FedveilError,
  fromHex,
  randomBytes,
  systemRandom,
  toHex,
  utf8,
  type CryptoProvider,
  type KeyPair,
  type RandomSource,
} from '../secagg/index.js';
import {
  createServerOptimizer,
  type ServerOptimizer,
  type ServerOptimizerConfig,
  type ServerOptimizerState,
} from '../trainer/serverOptimizer.js';
import { AsyncGroups, type AsyncGroupsView } from './async-groups.js';
import type { AsyncGroup } from './async-staleness.js';
import { drawCohort, type CohortDraw } from './cohort.js';
import type { FederationConfig } from './config.js';
import { federationDpConfig, federationSamplingRate, roundGraph } from './federation-plan.js';
import { HttpError } from './http-errors.js';
import { nextRoundBudget } from './budget-guard.js';
import { chainLedgerEntry, chargedEntries, entryEvent, type ChargedEntry, type GenesisEntry, type LedgerEntry, type StatisticsEntry } from './ledger-entry.js';
import type { FixedStandardization } from './data-schema.js';
import { statisticsSpec } from './federated-statistics.js';
import { statisticsEntryOf, statisticsRecord } from './statistics-entry.js';
import { signLedgerHead, type LedgerHead } from './ledger-head.js';
import { describeChange } from './ledger-amendment.js';
import { openLedger } from './ledger-open.js';
import { boundDraw, roundBinding, type BoundDraw, type LedgerHeadRef } from './round-binding.js';
import { abortedAfterUnmaskRecord, chargedRoundFields, RoundCoSignatures, type RoundContext } from './round-record.js';
import { privacyEntryOf } from './report.js';
import { CoordinatorMetrics } from './metrics.js';
import { modelHash } from './sqlite-store.js';
import { storedWeights, type CoordinatorStore, type StoredModel } from './store.js';

/** What the coordinator is doing. */
export type CoordinatorStatus = 'starting' | 'running' | 'finished' | 'stopped';

/** The end of one round, as the coordinator saw it (for simulate, the dashboard and tests). */
export interface RoundSummary {
  round: number;
  status: 'completed' | 'aborted';
  /** Abort code (protocol or coordinator), when aborted. */
  code?: string;
  reason?: string;
  /** Phase that could not complete, when aborted. */
  phase?: Phase;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  /** Wall-clock time each phase ran, in ms. */
  phaseMs: Partial<Record<Phase, number>>;
  cohortSize: number;
  /** |U3| when completed. */
  contributors: number;
  /** Number of participants that missed each phase. */
  dropouts: Partial<Record<Phase, number>>;
  /** Published model version after the round. */
  modelVersion: number;
  /** ε spent by all released rounds so far (RDP accountant, at the federation's δ); null without DP. */
  epsilon: number | null;
  /** How well the model released by this round does, when it was evaluated. */
  evaluation?: RoundEvaluation;
  /** Asynchronous federations: the group's trained-on versions and staleness weights, in index order. */
  group?: AsyncGroup;
  /** True for the statistics round of a federation with federated standardisation (it releases no model). */
  statistics?: boolean;
  /** With adaptive clipping: the clip norm C_t the round ran with and, when it released, the noised fraction b̄ of updates that fit it. */
  clipping?: { clipNorm: number; fraction: number | null };
}

/** Accuracy and loss of a round's released model. */
export interface RoundEvaluation {
  /** 'federated': totals of the participants' held-out data under secure aggregation; 'test-set': the operator's own data. */
  source: 'federated' | 'test-set';
  accuracy: number;
  /** Mean loss per example. */
  loss: number;
  /** Examples the figures rest on (for federated totals: the released, possibly noised, count). */
  examples: number;
  /** True when the figures were released with DP noise (federated totals under a DP mechanism). */
  noised: boolean;
  /**
   * The model version evaluated, when it is not the one the round released: federated totals
   * evaluate the model the round's cohort started from (each participant measures the model it
   * was sent before training on it).
   */
  modelVersion?: number;
}

/** Public view of the coordinator's state: what `GET /v1/round` returns. */
export interface CoordinatorState {
  federationId: string;
  status: CoordinatorStatus;
  /** Increases on every change a client may wait for (long-polling compares it). */
  stateVersion: number;
  /** The round in progress (or the last one), null before the first. */
  round: number | null;
  /** Phase being collected; 'finalizing' while the ledger entry is committed; null between rounds. */
  phase: Phase | 'finalizing' | null;
  /** Round config (wire JSON) of the running round; cohort members are `participants` in index order. */
  roundConfig: unknown;
  /** The running round's cohort draw, which its binding covers (null between rounds). */
  cohortDraw: BoundDraw | null;
  /** The ledger head the running round extends, which its binding covers (null between rounds). */
  ledgerHead: LedgerHeadRef | null;
  /**
   * The clip norm C_t the running round's participants clip to, which its binding covers: with
   * adaptive clipping, what the ledger's fractions give; null with fixed clipping and between rounds.
   */
  clipNorm: number | null;
  /** Published global model version. */
  modelVersion: number;
  roundsCompleted: number;
  roundsTarget: number;
  /** How the last finished round ended. */
  lastRound: { round: number; status: 'completed' | 'aborted'; code?: string } | null;
  /** Milliseconds until the current phase's deadline, when one is running. */
  deadlineInMs: number | null;
}

/** What an observer hears (see {@link Coordinator.observe}). */
export type CoordinatorEvent = { kind: 'changed' } | { kind: 'submitted'; round: number; phase: Phase; index: number };

/** Options of {@link Coordinator.open}. */
export interface CoordinatorOptions {
  config: FederationConfig;
  store: CoordinatorStore;
  /** The coordinator's long-term Ed25519 key: signs the ledger. */
  identity: KeyPair;
  /** Global model version 0, used only when the store holds no model yet. */
  initialModel: Float32Array;
  provider?: CryptoProvider;
  /**
   * Server optimiser applied to each decoded mean update; default FedAvg with learning rate 1.
   * Give its config (not an instance) to have its state (momentum, moments) persisted with every
   * model version and restored after a restart; an instance is used as is, its state not restored.
   */
  serverOptimizer?: ServerOptimizer | ServerOptimizerConfig;
  /**
   * Source of the coordinator's secrets and public round seeds, and of central-DP noise. Default
   * systemRandom; inject a seeded source only for reproducible simulations.
   */
  random?: RandomSource;
  /** Milliseconds since the epoch; default Date.now. */
  clock?: () => number;
  /** One line per notable event (round start/end, rejections are logged by the HTTP layer). */
  log?: (line: string) => void;
  metrics?: CoordinatorMetrics;
  /** Called after each round ends (completed rounds only after their ledger entry is committed). */
  onRoundEnd?: (summary: RoundSummary) => void;
  /** Stop after this many consecutive aborted rounds (default 3·rounds + 3). */
  maxConsecutiveAborts?: number;
  /**
   * Consent to amend a running federation whose config changes only its rounds and/or ε target
   * (see openLedger); without it such a config is refused. `reason` is recorded in the ledger.
   */
  amend?: { reason?: string } | null;
}

/** The running round's coordinator-side context. */
interface ActiveRound extends RoundContext {
  config: RoundConfig;
  wireConfig: unknown;
  ledgerHead: LedgerHeadRef;
  cohortDraw: BoundDraw;
  server: ServerRound;
  draw: CohortDraw;
  index: Map<string, number>;
  modelBefore: StoredModel;
  startedAt: number;
  phaseStartedAt: number;
  phaseMs: Partial<Record<Phase, number>>;
  phase: Phase | 'finalizing';
  deadlineAt: number | null;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** `sender:nonce` of accepted requests in this round (replay protection; round ids never repeat). */
  nonces: Set<string>;
  /** The statistics round of a federation with federated standardisation (its payload is feature moments, not an update). */
  statistics: boolean;
}

/** Waiter of a long-poll. */
interface Waiter {
  ready: (s: CoordinatorState) => boolean;
  resolve: (s: CoordinatorState) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Serialises a server optimiser state (JSON with base64 moment vectors). */
export function encodeOptimizerState(state: ServerOptimizerState): Uint8Array {
  const b64 = (v: Float32Array | null) => (v === null ? null : Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'));
  return utf8(JSON.stringify({ kind: state.kind, step: state.step, m: b64(state.m), v: b64(state.v) }));
}

/** Inverse of {@link encodeOptimizerState}. */
export function decodeOptimizerState(bytes: Uint8Array): ServerOptimizerState {
  const o = JSON.parse(new TextDecoder().decode(bytes)) as { kind: ServerOptimizerState['kind']; step: number; m: string | null; v: string | null };
  const f32 = (s: string | null) => {
    if (s === null) return null;
    const b = Buffer.from(s, 'base64');
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  };
  return { kind: o.kind, step: o.step, m: f32(o.m), v: f32(o.v) };
}

/** Maps a protocol rejection to the HTTP rule it breaks. */
function httpRejection(code: string, message: string): HttpError {
  const text = `${code}: ${message}`;
  switch (code) {
    case 'protocol/duplicate-submission':
      return new HttpError('round/duplicate-submission', text);
    case 'protocol/wrong-phase':
      return new HttpError('round/wrong-phase', text);
    case 'protocol/wrong-round':
    case 'protocol/wrong-federation':
    case 'protocol/wrong-version':
      return new HttpError('round/wrong-round', text);
    case 'protocol/round-finished':
      return new HttpError('round/not-running', text);
    case 'protocol/vector-length-mismatch':
    case 'protocol/vector-size-mismatch':
    case 'protocol/wrong-bits':
      return new HttpError('vector/wrong-length', text);
    case 'protocol/vector-hash-mismatch':
      return new HttpError('vector/hash-mismatch', text);
    case 'protocol/unexpected-sender':
      return new HttpError('auth/not-in-cohort', text);
    case 'protocol/malformed-message':
      return new HttpError('request/invalid-body', text);
    default:
      return new HttpError('round/rejected', text);
  }
}

/**
 * The coordinator: runs the federation's rounds one after another with the protocol's
 * ServerRound, drives phase deadlines, draws each cohort, and commits every released round to the
 * ledger (with the new model, in one store transaction) before publishing the new model. It is
 * transport-agnostic; {@link createCoordinatorApp} puts it behind HTTP.
 *
 * Crash rule: on open, a round the store still shows running is recorded aborted (its aggregate
 * was never released) and the next round gets a fresh id, so signed requests of the old round
 * can never be replayed into a new one.
 */
export class Coordinator {
  readonly config: FederationConfig;
  /** The DP configuration rounds encode with: the genesis's, or the latest amendment's. */
  private dpValue: DpConfig;
  readonly provider: CryptoProvider;
  readonly metrics: CoordinatorMetrics;
  readonly samplingRate: number;
  /** Allowed participant keys (hex). */
  readonly allowed: ReadonlySet<string>;
  private readonly store: CoordinatorStore;
  private readonly identity: KeyPair;
  private optimizer: ServerOptimizer;
  private readonly optimizerConfig: ServerOptimizerConfig | null;
  private readonly random: RandomSource;
  private readonly clock: () => number;
  private readonly log: (line: string) => void;
  private readonly onRoundEnd: ((s: RoundSummary) => void) | undefined;
  private readonly maxConsecutiveAborts: number;
  private readonly amend: { reason?: string } | null;
  private drawSeed: Uint8Array = new Uint8Array(0);
  private published!: StoredModel;
  private genesis!: GenesisEntry;
  private lastEntry!: LedgerEntry;
  /** The released statistics round, when the federation has federated standardisation and ran it. */
  private statisticsEntry: StatisticsEntry | null = null;
  /** The privacy-report entries of the charged rounds, in ledger order. */
  private privacyEntries: RoundPrivacyEntry[] = [];
  /** Each charged entry's ledger-reader event, in order (what the ε target is checked against). */
  private chargedEvents: DpEvent[] = [];
  /** The ε target in force (the genesis's, or the latest amendment's); null without one. */
  private epsilonTarget: number | null = null;
  /** The headline ε of {@link privacyEntries}, recomputed only when a round is charged. */
  private spent: number | null = 0;
  /** With adaptive clipping, the clip norms the charged rounds followed and the next one's; null with fixed clipping. */
  private readonly clipChain: ClipChain | null;
  private active: ActiveRound | null = null;
  private statusValue: CoordinatorStatus = 'starting';
  private stateVersion = 0;
  private roundsCompleted = 0;
  private consecutiveAborts = 0;
  private lastRound: CoordinatorState['lastRound'] = null;
  private lastRoundId: number | null = null;
  private waiters = new Set<Waiter>();
  private readonly observers = new Set<(e: CoordinatorEvent) => void>();
  private readonly summariesValue: RoundSummary[] = [];
  private work: Promise<void> = Promise.resolve();
  /** Asynchronous federations: who is ready, and the groups formed from them; null for synchronous rounds. */
  private readonly groups: AsyncGroups | null;
  /** True while no round runs because fewer than K participants are ready. */
  private awaitingGroup = false;
  private announcements = 0;
  private finishedResolve!: () => void;
  /** Resolves when the federation finished its rounds or the coordinator stopped. */
  readonly finished: Promise<void>;

  private constructor(opts: CoordinatorOptions) {
    this.config = opts.config;
    this.store = opts.store;
    this.identity = opts.identity;
    this.provider = opts.provider ?? defaultProvider;
    const so = opts.serverOptimizer ?? { kind: 'fedavg', lr: 1 };
    this.optimizerConfig = 'apply' in so ? null : so;
    this.optimizer = 'apply' in so ? so : createServerOptimizer(so);
    this.random = opts.random ?? systemRandom;
    this.clock = opts.clock ?? Date.now;
    this.log = opts.log ?? (() => {});
    this.metrics = opts.metrics ?? new CoordinatorMetrics();
    this.onRoundEnd = opts.onRoundEnd;
    this.maxConsecutiveAborts = opts.maxConsecutiveAborts ?? 3 * opts.config.rounds + 3;
    this.dpValue = federationDpConfig(opts.config);
    this.amend = opts.amend ?? null;
    this.samplingRate = federationSamplingRate(opts.config);
    const clipRule = adaptiveClipRule(opts.config);
    this.clipChain = clipRule === null ? null : new ClipChain(clipRule);
    this.allowed = new Set(opts.config.participants);
    this.finished = new Promise((resolve) => (this.finishedResolve = resolve));
    const asyncRules = opts.config.async;
    const groupSize = 'size' in opts.config.cohort ? opts.config.cohort.size : 0;
    this.groups =
      asyncRules === undefined || groupSize === 0
        ? null
        : new AsyncGroups({
            groupSize,
            ...asyncRules,
            clock: this.clock,
            onFormable: () => {
              if (!this.awaitingGroup || this.statusValue !== 'running') return;
              this.awaitingGroup = false;
              this.enqueue(() => this.nextRound());
            },
            onDissolved: (ready) => {
              this.metrics.asyncGroupsDissolved.inc();
              this.log(`group dissolved: ${ready} of ${groupSize} participants ready within ${asyncRules.formationTimeoutMs} ms; they stay ready for the next group`);
              this.changed(); // the dashboard shows it
            },
          });
  }

  /**
   * An asynchronous participant's update is trained on model version `trainedOn` (the request was
   * authenticated by the caller); returns how many participants are ready. Throws HttpError
   * `coordinator/not-async` in a synchronous federation, `round/not-running` once the federation
   * ended, `coordinator/stale-update` for an update staler than the bound.
   */
  announceReady(key: string, trainedOn: number): number {
    if (this.groups === null) throw new HttpError('coordinator/not-async', 'this federation runs synchronous rounds: wait to be drawn into a cohort');
    if (this.statusValue === 'finished' || this.statusValue === 'stopped') throw new HttpError('round/not-running', `the federation is ${this.statusValue}`);
    if (!this.allowed.has(key)) throw new HttpError('auth/unknown-sender', `public key ${key} is not a participant of this federation`);
    const queued = this.groups.announce(key, trainedOn, this.published.version);
    this.announcements++;
    this.changed();
    return queued;
  }

  /** Readiness announcements accepted since this coordinator opened. */
  get readyAnnouncements(): number {
    return this.announcements;
  }

  /** Asynchronous federations: who waits for a group and the groups dissolved; null for synchronous rounds. */
  asyncGroups(): AsyncGroupsView | null {
    return this.groups?.view() ?? null;
  }

  /** Participants waiting for an asynchronous group (0 in a synchronous federation). */
  get readyCount(): number {
    return this.groups?.readyCount ?? 0;
  }

  /**
   * Opens a coordinator on `store`: stores the initial model when there is none, checks the
   * stored ledger belongs to this federation and coordinator key, records any round left running
   * by a crash as aborted, and restores the published model and ε. Call {@link start} to run.
   */
  static async open(opts: CoordinatorOptions): Promise<Coordinator> {
    const c = new Coordinator(opts);
    await c.restore(opts.initialModel);
    return c;
  }

  private async restore(initialModel: Float32Array): Promise<void> {
    const fed = await this.store.initMeta('federation-id', this.config.federationId);
    if (fed !== this.config.federationId) {
      throw new FedveilError('coordinator/store-mismatch', `store belongs to federation '${fed}', not '${this.config.federationId}'`);
    }
    const key = await this.store.initMeta('coordinator-public-key', toHex(this.identity.publicKey));
    if (key !== toHex(this.identity.publicKey)) {
      throw new FedveilError('coordinator/store-mismatch', `store was written by coordinator key ${key}, not this one`);
    }
    const seed = this.config.seed === undefined ? await this.store.initMeta('cohort-seed', toHex(randomBytes(this.random, 32))) : `config:${this.config.seed}`;
    this.drawSeed = utf8(seed);
    this.published = await this.store.initModel(new Uint8Array(initialModel.buffer, initialModel.byteOffset, initialModel.byteLength));
    if (this.optimizerConfig !== null && this.published.optimizerState) {
      this.optimizer = createServerOptimizer(this.optimizerConfig, decodeOptimizerState(this.published.optimizerState));
    }
    if (this.published.weights.byteLength !== this.config.dim * 4) {
      throw new FedveilError('coordinator/store-mismatch', `stored model has ${this.published.weights.byteLength / 4} weights, config dim is ${this.config.dim}`);
    }
    const aborted = await this.store.abortRunningRounds('coordinator-restart', new Date(this.clock()).toISOString());
    for (const r of aborted) this.log(`round ${r}: recorded aborted (coordinator restarted while it ran; nothing was released)`);
    const { entries: ledger, genesis, terms, amendment } = await openLedger({
      store: this.store,
      config: this.config,
      identity: this.identity,
      provider: this.provider,
      drawSeed: this.drawSeed,
      model: this.published,
      timestamp: new Date(this.clock()).toISOString(),
      amend: this.amend,
    });
    this.genesis = genesis;
    this.dpValue = terms.mechanism;
    this.epsilonTarget = terms.epsilonBudget;
    if (amendment !== null) {
      this.log(
        `federation amended from round ${amendment.fromRound}: ${describeChange('rounds', amendment.previous.rounds, amendment.amended.rounds)}, ` +
          `${describeChange('ε target', amendment.previous.epsilonBudget, amendment.amended.epsilonBudget)}; ε spent so far ${amendment.epsilonSpent ?? 'unbounded'}; ` +
          `noise multiplier of the remaining rounds ${amendment.mechanism.noiseMultiplier} (ledger entry ${amendment.seq})`,
      );
    }
    this.lastEntry = ledger.at(-1) as LedgerEntry;
    this.statisticsEntry = statisticsEntryOf(ledger);
    this.charge(chargedEntries(ledger));
    this.roundsCompleted = ledger.filter((e) => e.kind === 'round').length;
    const rounds = await this.store.rounds();
    const last = rounds.at(-1);
    if (last) {
      this.lastRoundId = last.round;
      this.lastRound = { round: last.round, status: last.status === 'completed' ? 'completed' : 'aborted', ...(last.abortReason ? { code: last.abortReason } : {}) };
    }
    this.metrics.modelVersion.set(this.published.version);
  }

  /** The DP configuration rounds encode with: the genesis's, or the latest amendment's. */
  get dp(): DpConfig {
    return this.dpValue;
  }

  /**
   * The standardisation every participant applies when the federation estimates it: the one the
   * ledger's statistics entry records, null before that round released (or with no federated
   * standardisation).
   */
  get standardization(): FixedStandardization | null {
    return this.statisticsEntry?.statistics.standardize ?? null;
  }

  /** Begins running rounds (returns at once). */
  start(): void {
    if (this.statusValue !== 'starting') return;
    this.statusValue = 'running';
    this.enqueue(() => this.nextRound());
  }

  /** Stops: cancels the running round (recorded aborted, nothing released) and answers long-polls. */
  async stop(): Promise<void> {
    if (this.statusValue === 'stopped') return;
    const wasRunning = this.active;
    this.statusValue = 'stopped';
    this.groups?.stop();
    if (wasRunning) {
      clearTimeout(wasRunning.timer);
      this.active = null;
      await this.store.abortRound(wasRunning.round, 'coordinator-stopped', new Date(this.clock()).toISOString());
    }
    await this.work.catch(() => {});
    this.changed();
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(this.state());
    }
    this.waiters.clear();
    this.finishedResolve();
  }

  /** Per-round summaries of the rounds this process ran, in order. */
  get summaries(): readonly RoundSummary[] {
    return this.summariesValue;
  }

  /** The published global model. */
  get model(): StoredModel {
    return this.published;
  }

  /** The coordinator's Ed25519 public key. */
  get publicKey(): Uint8Array {
    return this.identity.publicKey;
  }

  /**
   * ε spent by all released rounds: the privacy report's headline (against ledger readers, the
   * worst participant's, at the config's δ); null when unbounded (no DP).
   */
  epsilonSpent(): number | null {
    return this.spent;
  }

  /** Adds charged entries to the account: the headline ε and its metric are recomputed once. */
  private charge(entries: readonly ChargedEntry[]): void {
    if (entries.length === 0) return;
    this.privacyEntries.push(...entries.map((e) => privacyEntryOf(this.genesis, e)));
    this.chargedEvents.push(...entries.map((e) => entryEvent(e, this.genesis.colluders)));
    for (const e of entries) this.clipChain?.follow(e);
    const eps = ledgerReaderEpsilon(this.privacyEntries, { delta: this.genesis.delta, colluders: this.genesis.colluders });
    this.spent = Number.isFinite(eps) ? eps : null;
    if (this.spent !== null) this.metrics.epsilon.set(this.spent);
  }

  /** The ledger as committed. */
  ledger(): Promise<LedgerEntry[]> {
    return this.store.ledger();
  }

  /** The last committed ledger entry (the head). */
  get ledgerHead(): LedgerEntry {
    return this.lastEntry;
  }

  /** The coordinator-signed head statement of a committed entry (what participants keep as receipts). */
  signedHead(entry: LedgerEntry): LedgerHead {
    return signLedgerHead(entry, this.provider, this.identity);
  }

  /** A stored model version. */
  getModel(version: number): Promise<StoredModel | null> {
    return version === this.published.version ? Promise.resolve(this.published) : this.store.getModel(version);
  }

  /** The public state. */
  state(): CoordinatorState {
    const a = this.active;
    return {
      federationId: this.config.federationId,
      status: this.statusValue,
      stateVersion: this.stateVersion,
      round: a ? a.round : this.lastRoundId,
      phase: a ? a.phase : null,
      roundConfig: a ? a.wireConfig : null,
      cohortDraw: a ? a.cohortDraw : null,
      ledgerHead: a ? a.ledgerHead : null,
      clipNorm: a ? a.clipNorm : null,
      modelVersion: this.published.version,
      roundsCompleted: this.roundsCompleted,
      roundsTarget: this.config.rounds,
      lastRound: this.lastRound,
      deadlineInMs: a && a.deadlineAt !== null ? Math.max(0, a.deadlineAt - this.clock()) : null,
    };
  }

  /**
   * Resolves with the state as soon as `ready(state)` holds, or after `timeoutMs` with whatever
   * the state is then (a long-poll).
   */
  waitFor(ready: (s: CoordinatorState) => boolean, timeoutMs: number): Promise<CoordinatorState> {
    const now = this.state();
    if (ready(now) || this.statusValue === 'stopped' || this.statusValue === 'finished') return Promise.resolve(now);
    return new Promise((resolve) => {
      const w: Waiter = {
        ready,
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(w);
          resolve(this.state());
        }, timeoutMs),
      };
      this.waiters.add(w);
    });
  }

  /**
   * A digest of everything a request could change: state, the running round's submissions and
   * accepted nonces, the published model and the ledger head. Equal before and after a rejected
   * request (tests and fuzzing assert it).
   */
  fingerprint(): string {
    const a = this.active;
    const { deadlineInMs: _d, ...state } = this.state();
    return JSON.stringify({
      state,
      submitted: a ? a.server.submitted : null,
      expected: a ? a.server.expected.length : null,
      nonces: a ? a.nonces.size : null,
      model: this.published.hash,
      ledger: this.lastEntry?.hash ?? null,
    });
  }

  /**
   * Progress of the running phase, or null between rounds: the cohort (public keys in index
   * order), who may submit in this phase and who did (indices).
   */
  phaseProgress(): { round: number; phase: Phase; members: readonly string[]; expected: readonly number[]; submitted: number[] } | null {
    const a = this.active;
    if (a === null || a.phase === 'finalizing') return null;
    return { round: a.round, phase: a.phase, members: a.draw.members, expected: a.server.expected, submitted: a.server.submitted };
  }

  /**
   * Ends the running phase now, as if its deadline had passed (an operator closing a phase early,
   * or a test that knows who will not answer). Returns false when no phase is running.
   */
  expireDeadline(): boolean {
    const a = this.active;
    if (a === null || a.phase === 'finalizing') return false;
    this.onDeadline(a, a.phase);
    return true;
  }

  /**
   * Calls `listener` after every change a long-poll could see and after every accepted submission
   * (a dashboard's feed); returns the function that stops it. Listeners must not throw.
   */
  observe(listener: (e: CoordinatorEvent) => void): () => void {
    this.observers.add(listener);
    return () => this.observers.delete(listener);
  }

  /** Number of long-polls waiting (metrics, tests). */
  get waiting(): number {
    return this.waiters.size;
  }

  /**
   * Checks, without changing anything, that `sender` may act in `round`/`phase` now; returns its
   * index in the round. Throws the HttpError of the first rule broken.
   */
  authorize(round: number, phase: Phase, sender: string): number {
    const a = this.active;
    if (a === null || a.round !== round) {
      throw new HttpError('round/wrong-round', a === null ? `no round is running (asked for round ${round})` : `round ${round} is not the running round ${a.round}`);
    }
    const index = a.index.get(sender);
    if (index === undefined) throw new HttpError('auth/not-in-cohort', `sender is not in the cohort of round ${round}`);
    return index;
  }

  /** Checks the request nonce was not used in this round (no state change). */
  checkNonce(sender: string, nonce: string): void {
    if (this.active?.nonces.has(`${sender}:${nonce}`)) throw new HttpError('auth/replayed-nonce', 'this nonce was already used');
  }

  /** Records an accepted request's nonce. */
  useNonce(round: number, sender: string, nonce: string): void {
    this.active?.nonces.add(`${sender}:${nonce}`);
    void this.store.useNonce(sender, nonce, round).catch((e: unknown) => this.log(`nonce store failed: ${String(e)}`));
  }

  /** The running round's plan (vector length, bits …) for request validation. */
  plan(round: number): RoundPlan {
    const a = this.active;
    if (a === null || a.round !== round) throw new HttpError('round/wrong-round', `round ${round} is not running`);
    return a.plan;
  }

  /**
   * Feeds a submission of participant `index` to the running round. The message is checked
   * fully before anything changes; a rejected one throws its HttpError and changes nothing.
   * `onAccept` runs synchronously right after acceptance (the HTTP layer records the nonce there).
   */
  submit(round: number, phase: Phase, index: number, message: ClientMessage, onAccept?: () => void): void {
    const a = this.active;
    if (a === null || a.round !== round) throw new HttpError('round/wrong-round', `round ${round} is not running`);
    if (a.phase !== phase) throw new HttpError('round/wrong-phase', `round ${round} is in phase ${a.phase}, not ${phase}`);
    if (message.type !== phase) throw new HttpError('request/invalid-body', `a ${message.type} message was posted to phase ${phase}`, 'type');
    if (message.header.sender !== index) {
      throw new HttpError('auth/sender-mismatch', `the message claims sender ${message.header.sender}, the request is signed by participant ${index}`, 'header.sender');
    }
    const step = a.server.receive(message);
    if (step.kind === 'rejected') throw httpRejection(step.code, step.message);
    onAccept?.();
    a.cosign.observe(index, message);
    this.metrics.participants.set({ phase }, a.server.submitted.length);
    for (const o of this.observers) o({ kind: 'submitted', round, phase, index });
    this.afterStep(a, step);
  }

  /** The server message addressed to participant `index` for `phase` (its request), or a round-aborted notice. */
  view(round: number, phase: Phase, index: number): ServerMessage {
    const a = this.active;
    if (a === null || a.round !== round) throw new HttpError('round/wrong-round', `round ${round} is not running`);
    const m = a.server.messageFor(index);
    if (m === undefined) throw new HttpError('round/wrong-phase', `nothing for phase ${phase} yet: the round is in phase ${a.phase}`);
    if (m.type === 'round-aborted' || m.header.phase === phase) return m;
    throw new HttpError('round/wrong-phase', `the round's request to you is for phase ${m.header.phase}, not ${phase}`);
  }

  // ——— round lifecycle ———

  private enqueue(fn: () => Promise<void>): void {
    this.work = this.work.then(fn).catch((e: unknown) => {
      this.log(`coordinator error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    });
  }

  private changed(): void {
    this.stateVersion++;
    for (const o of this.observers) o({ kind: 'changed' });
    if (this.waiters.size === 0) return;
    const s = this.state();
    for (const w of [...this.waiters]) {
      if (w.ready(s) || this.statusValue !== 'running') {
        clearTimeout(w.timer);
        this.waiters.delete(w);
        w.resolve(s);
      }
    }
  }

  private async nextRound(): Promise<void> {
    if (this.statusValue !== 'running') return;
    const done = this.roundsCompleted >= this.config.rounds || this.consecutiveAborts >= this.maxConsecutiveAborts;
    const budget = done
      ? null
      : nextRoundBudget({
          charged: this.chargedEvents,
          mechanism: this.dp,
          target: this.epsilonTarget,
          delta: this.genesis.delta,
          colluders: this.genesis.colluders,
          dim: roundDim(this.config),
          accountant: this.config.dp.accountant ?? 'rdp',
        });
    const overBudget = budget !== null && !budget.within;
    if (done || overBudget) {
      this.groups?.stop();
      this.statusValue = 'finished';
      this.log(
        `federation finished: ${this.roundsCompleted} of ${this.config.rounds} rounds released` +
          (overBudget
            ? ` (ε target reached: one more round could bring ε to ${budget.projected.toFixed(4)}, above the target ${budget.target}; rounds aborted after unmask were charged without releasing a model)`
            : ''),
      );
      this.changed(); // answers every long-poll: the status is no longer 'running'
      this.finishedResolve();
      return;
    }
    let formed: CohortDraw | null = null;
    if (this.groups !== null) {
      const group = this.groups.take(this.published.version);
      if (group === null) {
        // No round until K participants are ready; the next announcement that makes K starts one.
        this.awaitingGroup = true;
        return;
      }
      formed = {
        members: group.members,
        method: 'ready-first',
        samplingRate: 1,
        seedCommitment: toHex(sha256(this.drawSeed)),
        population: this.config.participants.length,
        group: group.group,
      };
    }
    const round = await this.store.nextRoundId();
    const draw = formed ?? drawCohort(this.config.participants, this.config.cohort, this.drawSeed, round);
    const startedAt = this.clock();
    const drawRecord = boundDraw(draw);
    let config: RoundConfig | null = null;
    let plan: RoundPlan | null = null;
    let failure: string | null = null;
    let unboundConfig: Record<string, unknown> = {};
    const ledgerHead = { seq: this.lastEntry.seq, hash: this.lastEntry.hash };
    const clipNorm = this.clipChain?.current ?? null;
    if (draw.members.length < Math.max(2, this.config.threshold, this.dp.minContributors)) {
      failure = `cohort of ${draw.members.length} is below the threshold ${this.config.threshold} or the ${this.dp.minContributors} contributors the noise needs`;
    } else {
      const { graph, threshold } = roundGraph(this.config, draw.members.length);
      config = {
        federationId: this.config.federationId,
        round,
        participants: draw.members.map((k) => fromHex(k)),
        threshold,
        graph,
        mode: this.config.mode,
        colluders: this.config.colluders,
        dim: roundDim(this.config),
        extraCoordinates: 0,
        dp: this.dp,
        roundSeed: randomBytes(this.random, 32),
      };
      unboundConfig = toWireConfig(config) as Record<string, unknown>;
      // Every signature the participants make in this round covers this binding (spec/ledger.md §4).
      config.binding = roundBinding({ roundConfig: unboundConfig, draw: drawRecord, genesisHash: this.genesis.hash, ledgerHead, clipNorm });
      try {
        plan = planRound(config);
      } catch (e) {
        failure = e instanceof Error ? e.message : String(e);
      }
    }
    await this.store.beginRound({ round, startedAt: new Date(startedAt).toISOString(), cohort: draw.members, draw: { ...drawRecord } });
    if (this.statusValue !== 'running') {
      await this.store.abortRound(round, 'coordinator-stopped', new Date(this.clock()).toISOString());
      return;
    }
    this.lastRoundId = round;
    this.metrics.currentRound.set(round);
    if (failure !== null || config === null || plan === null) {
      await this.store.abortRound(round, 'cohort-too-small', new Date(this.clock()).toISOString());
      this.log(`round ${round}: aborted before it began: ${failure}`);
      this.recordEnd({
        round,
        status: 'aborted',
        code: 'coordinator/cohort-too-small',
        reason: failure ?? 'invalid round',
        startedAt: new Date(startedAt).toISOString(),
        endedAt: new Date(this.clock()).toISOString(),
        durationMs: this.clock() - startedAt,
        phaseMs: {},
        cohortSize: draw.members.length,
        contributors: 0,
        dropouts: {},
        modelVersion: this.published.version,
        epsilon: this.epsilonSpent(),
      });
      this.enqueue(() => this.nextRound());
      return;
    }
    const a: ActiveRound = {
      federationId: this.config.federationId,
      round,
      config,
      plan,
      wireConfig: toWireConfig(config),
      unboundConfig,
      binding: toHex(config.binding as Uint8Array),
      cohortDraw: drawRecord,
      ledgerHead,
      dp: this.dp,
      samplingRate: this.samplingRate,
      cosign: new RoundCoSignatures(),
      clipNorm,
      server: new ServerRound(plan, { rng: this.random, provider: this.provider }),
      draw,
      index: new Map(draw.members.map((k, i) => [k, i])),
      modelBefore: this.published,
      startedAt,
      phaseStartedAt: startedAt,
      phaseMs: {},
      phase: 'advertise-keys',
      deadlineAt: null,
      timer: undefined,
      nonces: new Set(),
      // The first round of a federation with federated standardisation estimates it (until one released).
      statistics: statisticsSpec(this.config) !== null && this.statisticsEntry === null,
    };
    this.active = a;
    void this.store.pruneNonces(round).catch(() => {});
    this.log(
      `round ${round}: ${a.statistics ? 'statistics round (feature means and spreads for the federated standardisation) ' : ''}started with ${draw.members.length} participants (${plan.threshold}-of-${config.graph.kind === 'complete' ? plan.n : config.graph.degree + 1})` +
        (clipNorm === null ? '' : `, clip norm ${clipNorm}`),
    );
    this.enterPhase(a, 'advertise-keys');
  }

  private enterPhase(a: ActiveRound, phase: Phase): void {
    a.phase = phase;
    a.phaseStartedAt = this.clock();
    clearTimeout(a.timer);
    const ms = this.config.deadlines[phase];
    a.deadlineAt = a.phaseStartedAt + ms;
    a.timer = setTimeout(() => this.onDeadline(a, phase), ms);
    a.timer.unref?.();
    this.metrics.participants.set({ phase }, 0);
    void this.store.setRoundPhase(a.round, phase).catch(() => {});
    this.changed();
  }

  private onDeadline(a: ActiveRound, phase: Phase): void {
    if (this.active !== a || a.phase !== phase) return;
    this.log(`round ${a.round}: ${phase} deadline passed with ${a.server.submitted.length} of ${a.server.expected.length} submissions`);
    const step = a.server.deadline();
    if (step.kind === 'accepted') this.afterStep(a, step);
  }

  private afterStep(a: ActiveRound, step: Extract<ServerStep, { kind: 'accepted' }>): void {
    const status = a.server.status;
    if (status === a.phase) return;
    const now = this.clock();
    if (a.phase !== 'finalizing') a.phaseMs[a.phase] = now - a.phaseStartedAt;
    if (step.outcome) {
      clearTimeout(a.timer);
      a.deadlineAt = null;
      a.phase = 'finalizing';
      this.changed();
      const outcome = step.outcome;
      this.enqueue(() => this.finishRound(a, outcome));
      return;
    }
    this.enterPhase(a, status as Phase);
  }

  private async finishRound(a: ActiveRound, outcome: RoundOutcome): Promise<void> {
    if (this.active !== a) return;
    const endedAt = this.clock();
    const iso = new Date(endedAt).toISOString();
    const who = (i: number): string => `${i} (${(a.draw.members[i] ?? '?').slice(0, 16)})`;
    if (outcome.status === 'completed' && outcome.wrongShares.length > 0) {
      const list = outcome.wrongShares.map((w) => `${who(w.holder)} for the ${w.secret} secret of ${w.owner}`);
      this.log(`round ${a.round}: excluded wrong unmask shares from ${list.join('; ')}`);
    }
    if (outcome.status === 'aborted' && outcome.suspects) {
      this.log(`round ${a.round}: wrong unmask shares; one or more of ${outcome.suspects.map(who).join(', ')} sent or dealt them`);
    }
    const dropoutCounts = (d: Record<Phase, number[]> | undefined): Partial<Record<Phase, number>> => {
      const out: Partial<Record<Phase, number>> = {};
      if (!d) return out;
      for (const p of phasesOf(this.config.mode)) out[p] = d[p].length;
      return out;
    };
    if (outcome.status === 'aborted') {
      if (outcome.phase === 'unmask' && a.cosign.unmaskResponders.length > 0) await this.chargeAborted(a, outcome, iso);
      else await this.store.abortRound(a.round, outcome.code, iso);
      this.endActive(a, {
        ...this.roundTiming(a, iso, endedAt),
        status: 'aborted',
        code: outcome.code,
        reason: outcome.reason,
        phase: outcome.phase,
        contributors: 0,
        dropouts: {},
        modelVersion: this.published.version,
        epsilon: this.epsilonSpent(),
      });
      return;
    }
    if (a.statistics) {
      await this.releaseStatistics(a, outcome, iso, endedAt, dropoutCounts(outcome.dropouts));
      return;
    }
    let entry: LedgerEntry;
    let next: StoredModel;
    const optimizerBefore = this.optimizer.exportState();
    try {
      ({ entry, next } = this.releaseRecord(a, outcome, iso));
      // Commit point: ledger entry + round completed + new model, one transaction.
      await this.store.completeRound(a.round, entry, next, iso);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      // Nothing was released: the optimiser must not keep this round's step either.
      if (this.optimizerConfig !== null) this.optimizer = createServerOptimizer(this.optimizerConfig, optimizerBefore);
      await this.store.abortRound(a.round, 'coordinator/release-failed', iso);
      this.log(`round ${a.round}: aborted at release: ${reason}`);
      this.endActive(a, {
        ...this.roundTiming(a, iso, endedAt),
        status: 'aborted',
        code: 'coordinator/release-failed',
        reason,
        contributors: 0,
        dropouts: dropoutCounts(outcome.dropouts),
        modelVersion: this.published.version,
        epsilon: this.epsilonSpent(),
      });
      return;
    }
    // Only now, after the commit, is the new model served.
    this.published = next;
    this.lastEntry = entry;
    this.charge([entry as ChargedEntry]);
    this.roundsCompleted++;
    if (entry.kind === 'round' && entry.clipping && this.clipChain !== null) this.logClip(a, entry.clipping, outcome.u3.length);
    this.metrics.modelVersion.set(next.version);
    for (const p of phasesOf(this.config.mode)) {
      const n = outcome.dropouts[p].length;
      if (n > 0) this.metrics.dropouts.inc({ phase: p }, n);
    }
    this.endActive(a, {
      ...this.roundTiming(a, iso, endedAt),
      status: 'completed',
      contributors: outcome.u3.length,
      dropouts: dropoutCounts(outcome.dropouts),
      modelVersion: next.version,
      epsilon: this.spent,
      ...this.releasedEvaluation(entry),
      ...(entry.kind === 'round' && entry.clipping ? { clipping: entry.clipping } : {}),
    });
  }

  /**
   * Commits a completed statistics round: its ledger entry (released moments and the
   * standardisation they give) with no new model, then publishes that standardisation.
   */
  private async releaseStatistics(a: ActiveRound, outcome: CompletedOutcome, iso: string, endedAt: number, dropouts: Partial<Record<Phase, number>>): Promise<void> {
    const spec = statisticsSpec(this.config);
    let entry: StatisticsEntry;
    const summary = {
      ...this.roundTiming(a, iso, endedAt),
      dropouts,
      modelVersion: this.published.version,
      statistics: true,
    };
    try {
      if (spec === null) throw new FedveilError('coordinator/no-statistics', 'the federation has no federated standardisation');
      entry = chainLedgerEntry(this.lastEntry, statisticsRecord(a, outcome, spec, a.modelBefore, iso), this.provider, this.identity.secretKey) as StatisticsEntry;
      await this.store.completeRound(a.round, entry, null, iso);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      await this.store.abortRound(a.round, 'coordinator/release-failed', iso);
      this.log(`round ${a.round}: aborted at release: ${reason}`);
      this.endActive(a, { ...summary, status: 'aborted', code: 'coordinator/release-failed', reason, contributors: 0, epsilon: this.epsilonSpent() });
      return;
    }
    this.lastEntry = entry;
    this.statisticsEntry = entry;
    this.charge([entry]);
    const { mean, std } = entry.statistics.standardize;
    const features = this.config.data?.features ?? [];
    this.log(
      `round ${a.round}: statistics released by ${outcome.u3.length} contributors; every participant standardises with ` +
        features.map((f, i) => `${f} mean ${(mean[i] as number).toPrecision(4)} std ${(std[i] as number).toPrecision(4)}`).join(', '),
    );
    this.endActive(a, { ...summary, status: 'completed', contributors: outcome.u3.length, epsilon: this.spent });
  }

  /** Says what a round released of its clipping: C_t, the noised fraction with its noise deviation, and the next round's clip norm. */
  private logClip(a: ActiveRound, record: { clipNorm: number; fraction: number | null }, contributors: number): void {
    const clip = roundClip({ ...this.config, dp: this.dp }, record.clipNorm) as RoundClip;
    const noise = fractionNoiseStd(releasedNoiseStd(this.dp, contributors), contributors, clip);
    this.log(
      `round ${a.round}: clip norm ${record.clipNorm}, fraction of updates within it ${record.fraction}` +
        `${noise > 0 ? ` (±${noise.toPrecision(3)} noise std)` : ' (exact: no DP noise)'}; next clip norm ${(this.clipChain as ClipChain).current}`,
    );
  }

  /** The summary's evaluation of a released round whose entry carries evaluation totals. */
  private releasedEvaluation(entry: LedgerEntry): Pick<RoundSummary, 'evaluation'> {
    const totals = entry.kind === 'round' ? entry.evaluation : undefined;
    const rates = totals ? evaluationRates(totals) : null;
    if (!totals || rates === null) return {};
    return {
      evaluation: { source: 'federated', ...rates, examples: totals.examples, noised: evaluationNoised(entry.mechanism), modelVersion: totals.modelVersion },
    };
  }

  /** The ledger entry and next model of a completed round (pure computation, nothing stored). */
  private releaseRecord(a: ActiveRound, outcome: CompletedOutcome, iso: string): { entry: LedgerEntry; next: StoredModel } {
    const before = a.modelBefore;
    const weights = storedWeights(before);
    const spec = this.config.evaluation;
    const dim = this.config.dim;
    const evaluationEnd = spec ? dim + EVALUATION_COORDINATES : dim;
    // The decoded mean is the model's coordinates, then the evaluation counts (federated
    // evaluation), then the clipping bit (adaptive clipping).
    const evaluation: EvaluationTotals | undefined = spec
      ? { modelVersion: before.version, ...evaluationTotals(outcome.aggregate.subarray(dim, dim + EVALUATION_COORDINATES), outcome.u3.length, spec, this.dp.clipNorm) }
      : undefined;
    const clip = roundClip({ ...this.config, dp: this.dp }, a.clipNorm);
    const mean = clip === null ? outcome.aggregate.subarray(0, dim) : releasedUpdate(outcome.aggregate.subarray(0, dim), clip);
    const clipping = clip === null ? undefined : { clipNorm: clip.clipNorm, fraction: releasedFraction(outcome.aggregate[evaluationEnd] as number, clip) };
    const updated = this.optimizer.apply(weights, mean);
    const probe = noiseProbeCoordinates(this.config);
    const bytes = new Uint8Array(updated.buffer, updated.byteOffset, updated.byteLength);
    const next: StoredModel = {
      version: before.version + 1,
      hash: modelHash(bytes),
      weights: bytes,
      optimizerState: encodeOptimizerState(this.optimizer.exportState()),
    };
    const sum = outcome.sum;
    const entry = chainLedgerEntry(
      this.lastEntry,
      {
        kind: 'round',
        ...chargedRoundFields(a, outcome.u3, outcome.dropouts, iso),
        modelVersionBefore: before.version,
        modelVersionAfter: next.version,
        modelHashBefore: before.hash,
        modelHashAfter: next.hash,
        aggregateHash: toHex(sha256(new Uint8Array(sum.buffer, sum.byteOffset, sum.byteLength))),
        ...(evaluation ? { evaluation } : {}),
        ...(clipping ? { clipping } : {}),
        ...(probe > 0 ? { noiseProbe: releasedNoiseProbe(outcome.aggregate, probe) } : {}),
      },
      this.provider,
      this.identity.secretKey,
    );
    return { entry, next };
  }

  /**
   * A round that aborted after some participant revealed unmask shares: nothing is published, but
   * the coordinator may hold enough shares to unmask the sum, so its ε is charged in the ledger.
   */
  private async chargeAborted(a: ActiveRound, outcome: Extract<RoundOutcome, { status: 'aborted' }>, iso: string): Promise<void> {
    const record = abortedAfterUnmaskRecord(a, a.server.sets, a.config.mode === 'malicious', a.modelBefore, outcome, iso);
    const entry = chainLedgerEntry(this.lastEntry, record, this.provider, this.identity.secretKey);
    await this.store.chargeAbortedRound(a.round, entry, outcome.code, iso);
    this.lastEntry = entry;
    this.charge([entry as ChargedEntry]);
    this.log(`round ${a.round}: aborted after unmask shares were revealed; charged in the ledger (entry ${entry.seq})`);
  }

  /** The fields every summary of an ended round shares: when it ran, its phases, its cohort (and group). */
  private roundTiming(a: ActiveRound, iso: string, endedAt: number): Pick<RoundSummary, 'round' | 'startedAt' | 'endedAt' | 'durationMs' | 'phaseMs' | 'cohortSize' | 'group'> {
    return {
      round: a.round,
      startedAt: new Date(a.startedAt).toISOString(),
      endedAt: iso,
      durationMs: endedAt - a.startedAt,
      phaseMs: a.phaseMs,
      cohortSize: a.draw.members.length,
      ...(a.draw.group ? { group: a.draw.group } : {}),
    };
  }

  private endActive(a: ActiveRound, summary: RoundSummary): void {
    clearTimeout(a.timer);
    if (this.active === a) this.active = null;
    this.recordEnd(summary);
    this.enqueue(() => this.nextRound());
  }

  private recordEnd(summary: RoundSummary): void {
    this.consecutiveAborts = summary.status === 'aborted' ? this.consecutiveAborts + 1 : 0;
    this.lastRound = { round: summary.round, status: summary.status, ...(summary.code ? { code: summary.code } : {}) };
    this.summariesValue.push(summary);
    this.metrics.rounds.inc({ outcome: summary.status });
    this.metrics.roundSeconds.observe({ outcome: summary.status }, summary.durationMs / 1000);
    this.log(
      `round ${summary.round}: ${summary.status}${summary.code ? ` (${summary.code})` : ''} in ${summary.durationMs} ms, ` +
        `${summary.contributors}/${summary.cohortSize} contributors, model v${summary.modelVersion}`,
    );
    this.changed();
    this.onRoundEnd?.(summary);
  }
}
