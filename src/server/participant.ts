import { z } from 'zod';
import { ClientRound } from '../protocol/client/client-round.js';
import { planRound, RoundConfigSchema, type RoundConfig, type RoundPlan } from '../protocol/config.js';
import { createClientEncoder } from '../dp/index.js';
import type { ClientMessage, ServerMessage } from '../protocol/messages.js';
import type { RoundPlanMemo } from '../protocol/plan-memo.js';
import type { ServerMessageMemo } from '../protocol/wire/message-memo.js';
import type { CheckedServerMessage } from '../protocol/wire/validate.js';
import { PHASES, phasesOf, type Phase } from '../protocol/phases.js';
import { decodeServerMessage, encodeClientMessage } from '../protocol/wire/serialize.js';
import {
  bytesEqual,
  defaultProvider,
  FedveilError,
  randomUnit,
  systemRandom,
  toHex,
  type CryptoProvider,
  type KeyPair,
  type RandomSource,
} from '../secagg/index.js';
import { CoordinatorHttp, CoordinatorRejection, DEFAULT_RETRY, sha256Hex, type RetryPolicy } from './http-transport.js';
import { appendClipBit, clipForEncoding, roundClip } from './adaptive-clip.js';
import { evaluationInput, roundDim, type EvaluationCounts } from './federated-evaluation.js';
import { withNoiseProbe } from './noise-probe.js';
import { describeChange } from './ledger-amendment.js';
import type { LedgerEntry } from './ledger-entry.js';
import { ParticipantLedger, type ReceiptKeeper } from './participant-ledger.js';
import type { LedgerStatistics, OwnPrivacy } from './participant-ledger-check.js';
import type { FederatedStandardizationSpec, FixedStandardization } from './data-schema.js';
import { sameStandardization, statisticsInput, type UnitMoments } from './federated-statistics.js';
import type { SharedLedger } from './ledger-memo.js';
import { joinFederation, newSessionToken } from './join-client.js';
import { ownGroupWeight, weightedUpdate } from './async-staleness.js';
import {
  CoordinatorStateSchema,
  FederationInfoSchema,
  OCTET_STREAM,
  READY_TARGET,
  ReadyAckSchema,
  SubmissionAckSchema,
  type CoordinatorStateWire,
  type FederationInfo,
  type JoinAck,
} from './wire.js';

/** What local training returns: the model update (local − global, flattened) and the number of examples used. */
export interface TrainResult {
  update: Float32Array;
  examples: number;
  /**
   * In a federation with `evaluation`: the global model (the weights `train` was given) measured
   * on held-out rows, at most `evaluation.maxExamples` of them; absent counts contribute nothing.
   */
  evaluation?: EvaluationCounts;
}

/**
 * Local training, supplied by the caller (the CLI wires src/trainer into it). In an asynchronous
 * federation training comes before any round: `round` is then the model version trained on.
 * `standardization`:
 * in a federation with federated standardisation, the per-feature mean and std to apply to the
 * raw features, as the verified statistics entry of the ledger records them (null otherwise).
 */
export type TrainFn = (
  globalWeights: Float32Array,
  info: { round: number; modelVersion: number; standardization: FixedStandardization | null },
) => Promise<TrainResult> | TrainResult;

/** How one participation ended. */
export interface ParticipationResult {
  round: number;
  /** completed: the round released an aggregate with my input; aborted: it ended without one;
   *  dropped: I stopped on purpose (injected dropout); refused: my protocol check failed;
   *  excluded: the coordinator moved on without me (I missed a deadline). */
  status: 'completed' | 'aborted' | 'dropped' | 'refused' | 'excluded';
  code?: string;
  /** Phase I performed last. */
  lastPhase: Phase | null;
  examples: number;
  /** Wall-clock time of the participation, in ms. */
  durationMs: number;
}

/** Options of a {@link Participant}. */
export interface ParticipantOptions {
  /** Base URL of the coordinator, e.g. http://127.0.0.1:8080/. */
  coordinator: string;
  identity: KeyPair;
  train: TrainFn;
  provider?: CryptoProvider;
  /** Source of every secret this client draws; default systemRandom. */
  random?: RandomSource;
  retry?: RetryPolicy;
  fetch?: typeof fetch;
  log?: (line: string) => void;
  /** Stop after taking part in this many rounds. */
  maxRounds?: number;
  /** Injected dropout (simulation, tests): the first phase of `round` I stay silent in. */
  dropout?: (round: number) => Phase | undefined;
  /** Longest single long-poll, in ms (the coordinator may cap it lower). */
  longPollMs?: number;
  signal?: AbortSignal;
  /** Where the pinned coordinator key and the receipts of my rounds persist; default: this process only. */
  receipts?: ReceiptKeeper;
  /** The coordinator's key obtained out of band (hex); default: pinned on first contact. */
  coordinatorKey?: string;
  /** Refuse a round that would take my own ε (over the rounds I contributed to, no amplification) past this. */
  maxEpsilon?: number;
  /** Refuse a federation whose genesis δ is above this. */
  maxDelta?: number;
  /** Called as I finish each phase of a round (what a page shows as progress). */
  onPhase?: (round: number, phase: Phase) => void;
  /** Called with each participation as it ends. */
  onResult?: (result: ParticipationResult) => void;
  /**
   * Called with each newly released global model (version ≥ 1, its hash checked) as soon as the
   * participant sees it, whether or not it took part in the round that released it.
   */
  onModel?: (weights: Float32Array, release: { version: number; hash: string }) => Promise<void> | void;
  /**
   * Fault injection for the empirical privacy audit's own tests: encode with the noise multiplier
   * times this factor while the federation still claims the calibrated one. Never set it outside
   * a test or a benchmark that must show the audit catches under-noising.
   */
  noiseScale?: number;
  /**
   * This identity's session token (32 hex); default a fresh one. A process that recreates a
   * participant object for the same identity passes the same token, so the new object's join
   * renews the session instead of being refused while the old one's lease runs.
   */
  session?: string;
  /**
   * Take part in this round only: stop once a later round runs. A simulation creates a
   * participant object per round it is drawn into.
   */
  onlyRound?: number;
  /** The ledger the other participants of this process verified (a simulation hosts many). */
  sharedLedger?: SharedLedger;
  /**
   * Asynchronous federations, simulations: replay one training of a participant that started it
   * earlier — train once on published version `trainOn` (not the latest), announce it, take part
   * in at most one group, and stop, also when the update went stale before a group took it (the
   * simulation then replays the next training).
   */
  replay?: { trainOn: number };
  /**
   * In a federation with federated standardisation: my feature moments over my (raw, training)
   * rows for its statistics round (src/server/federated-statistics.ts localMoments). Without it I
   * refuse that round (`client/no-statistics`).
   */
  moments?: (spec: FederatedStandardizationSpec) => Promise<UnitMoments> | UnitMoments;
  /** Round plans derived once for the participants of this process (a simulation hosts many); see RoundPlanMemo. */
  roundPlans?: RoundPlanMemo;
  /** Server messages decoded once for the participants of this process; see ServerMessageMemo. */
  serverMessages?: ServerMessageMemo;
}

/** What I send in a round: a model update, or (the statistics round) my feature moments. */
type RoundJob =
  | { kind: 'train'; standardization: FixedStandardization | null }
  | { kind: 'statistics'; spec: FederatedStandardizationSpec }
  /** An asynchronous group member's update, trained before the group formed, and its checked staleness weight. */
  | { kind: 'pretrained'; result: TrainResult; weight: number };

/**
 * A federation participant over HTTP. `run()` follows the coordinator from round to round: when
 * drawn into a cohort it fetches the global model, trains (concurrently with the key exchange),
 * and runs the protocol's ClientRound, posting each signed message and fetching each request.
 * Only ClientRound messages are ever sent: the update leaves the client masked, inside the
 * masked-input message, and nothing else derived from the data is transmitted.
 */
export class Participant {
  readonly publicKey: string;
  private readonly http: CoordinatorHttp;
  private readonly provider: CryptoProvider;
  private readonly random: RandomSource;
  private readonly log: (line: string) => void;
  private info: FederationInfo | null = null;
  private readonly results: ParticipationResult[] = [];
  private readonly ledger: ParticipantLedger;
  /** This process's session token (drawn from the system source: it is no protocol secret). */
  private readonly session: string;
  private joined = false;
  private stoppedSince: number | null = null;
  /** The latest model version handed to `onModel`. */
  private releasedVersion = 0;
  /** Hashes of the amendment entries already reported in the log. */
  private readonly amendmentsSeen = new Set<string>();
  private standardizationValue: FixedStandardization | null = null;

  constructor(private readonly opts: ParticipantOptions) {
    this.provider = opts.provider ?? defaultProvider;
    this.random = opts.random ?? systemRandom;
    this.log = opts.log ?? (() => {});
    this.publicKey = toHex(opts.identity.publicKey);
    this.http = new CoordinatorHttp(opts.coordinator, opts.identity, this.provider, this.random, opts.retry ?? DEFAULT_RETRY, opts.fetch ?? fetch, opts.signal, this.log);
    this.ledger = new ParticipantLedger(this.http, {
      self: this.publicKey,
      store: opts.receipts ?? null,
      provider: this.provider,
      ...(opts.coordinatorKey === undefined ? {} : { coordinatorKey: opts.coordinatorKey }),
      ...(opts.maxEpsilon === undefined ? {} : { maxEpsilon: opts.maxEpsilon }),
      ...(opts.maxDelta === undefined ? {} : { maxDelta: opts.maxDelta }),
      ...(opts.sharedLedger === undefined ? {} : { shared: opts.sharedLedger }),
      ...(opts.roundPlans === undefined ? {} : { roundPlans: opts.roundPlans }),
    });
    this.session = opts.session ?? newSessionToken(systemRandom);
    this.http.onUnknownSession = async () => {
      this.http.session = null;
      await joinFederation(this.http, await this.federation(), this.session);
    };
  }

  /**
   * Joins the federation (signed `POST /v1/join`), claiming this process's session for its
   * identity. Throws `client/not-a-participant` or `client/identity-in-use` with the
   * coordinator's explanation. {@link run} joins first; call it earlier to fail fast.
   */
  async join(): Promise<JoinAck> {
    const ack = await joinFederation(this.http, await this.federation(), this.session);
    this.joined = true;
    return ack;
  }

  /**
   * With federated standardisation: the standardisation I train with, as the ledger's statistics
   * entry records it (once I verified a ledger that has one); null before, or without it.
   */
  get standardization(): FixedStandardization | null {
    return this.standardizationValue;
  }

  /** Every participation so far. */
  get participations(): readonly ParticipationResult[] {
    return this.results;
  }

  /** The federation as the coordinator described it at start. */
  async federation(): Promise<FederationInfo> {
    this.info ??= await this.http.getJson('/v1/federation', FederationInfoSchema);
    return this.info;
  }

  /**
   * My own ε so far, from the coordinator's ledger verified under the pinned key and against my
   * receipts (what a participant reads before it agrees to take part).
   */
  async ownPrivacy(): Promise<OwnPrivacy> {
    const info = await this.federation();
    return this.ledger.ownPrivacy(info.federationId, info.coordinatorPublicKey);
  }

  /** Follows the federation until it finishes, the coordinator stops, or `maxRounds` participations. */
  async run(): Promise<ParticipationResult[]> {
    const info = await this.federation();
    if (!this.joined) await this.join();
    if (info.async !== null) return this.runAsync(info, info.async);
    let state = await this.getState('');
    const attempted = new Set<number>();
    for (;;) {
      await this.newRelease(state, info.dim);
      if (this.opts.signal?.aborted) break;
      if (this.results.at(-1)?.code === 'client/outcome-unknown') break;
      if (state.status === 'finished') break;
      if (state.status === 'stopped') {
        // A stopped coordinator is usually restarting: wait for it, as for one that is unreachable.
        if (!(await this.awaitRestart())) break;
        state = await this.getState('');
        continue;
      }
      this.stoppedSince = null;
      if (this.opts.maxRounds !== undefined && this.results.length >= this.opts.maxRounds) break;
      if (this.opts.onlyRound !== undefined && (this.results.length > 0 || (state.round !== null && state.round > this.opts.onlyRound))) break;
      if (state.round !== null && state.phase === 'advertise-keys' && !attempted.has(state.round) && (this.opts.onlyRound ?? state.round) === state.round) {
        attempted.add(state.round);
        const config = this.roundConfig(state, info);
        if (config !== null) {
          // Never contribute to a round the ledger I can verify does not back.
          const check = await this.ledger.beforeRound(info.federationId, info.coordinatorPublicKey, {
            config,
            draw: state.cohortDraw,
            ledgerHead: state.ledgerHead,
            clipNorm: state.clipNorm,
          });
          // The ledger also says what the round asks of me (training, or the statistics round).
          const job = check.ok ? await this.roundJob(check.statistics) : null;
          const refused = !check.ok ? check : job !== null && 'code' in job ? job : null;
          const result = refused !== null ? refusal(config.round, refused.code) : await this.participate(state, config, info, job as RoundJob);
          if (refused !== null) this.log(`round ${config.round}: refusing to contribute: ${refused.message}`);
          else if (check.ok) this.logAmendments(check.entries, check.epsilonIfContributing);
          if (check.ok && (result.status === 'completed' || (result.status === 'aborted' && result.lastPhase === 'unmask'))) {
            await this.keepReceipt(info.federationId, result, check.head);
          }
          this.results.push(result);
          this.opts.onResult?.(result);
          this.log(`round ${result.round}: ${result.status}${result.code ? ` (${result.code})` : ''}`);
          if (this.opts.maxRounds !== undefined && this.results.length >= this.opts.maxRounds) break;
          state = await this.getState('');
          continue;
        }
      }
      state = await this.getState(`?since=${state.stateVersion}`);
    }
    return this.results;
  }

  /**
   * An asynchronous federation: train on the published model, announce the update ready with the
   * version it was trained on, and contribute it to the group the coordinator forms, weighted by
   * the staleness weight the group states once I have checked it is s(τ) of my real staleness.
   * An update that went staler than the bound is trained again on the latest model; one whose
   * group ended without using it (aborted before unmask) is announced again.
   *
   * Before training and before each announcement the ledger is checked as before a group
   * ({@link ParticipantLedger.beforeReady}): when joining the next group would take my ε past
   * `maxEpsilon` (or the ledger fails a check) I neither train nor announce, so I never take a
   * group's place only to refuse it. The refusal is reported once (a result `refused` with its
   * code, lastPhase null); I keep following the federation and check again only when a round has
   * ended or the federation's terms changed (an amendment may add noise), announcing again if the
   * next group then fits. A group that lists me anyway (an announcement made elsewhere with my key)
   * is refused with the round's own checks (`client/epsilon-budget` first), or `client/not-ready`
   * when I hold no update to contribute.
   */
  private async runAsync(info: FederationInfo, rules: NonNullable<FederationInfo['async']>): Promise<ParticipationResult[]> {
    let state = await this.getState('');
    let trained: { version: number; result: TrainResult } | null = null;
    let announced = false;
    const replay = this.opts.replay;
    const attempted = new Set<number>();
    let lastStateVersion = state.stateVersion;
    /** The refusal before announcing, and the federation's progress it was made at (checked again once that moves). */
    let held: { at: string; code: string } | null = null;
    for (;;) {
      // A coordinator that restarted (its state versions count from 0 again) forgot who was ready.
      if (state.stateVersion < lastStateVersion) {
        announced = false;
        held = null;
      }
      lastStateVersion = state.stateVersion;
      await this.newRelease(state, info.dim);
      if (this.opts.signal?.aborted) break;
      if (this.results.at(-1)?.code === 'client/outcome-unknown') break;
      if (state.status === 'finished') break;
      if (state.status === 'stopped') {
        announced = false;
        held = null;
        if (!(await this.awaitRestart())) break;
        state = await this.getState('');
        continue;
      }
      this.stoppedSince = null;
      if (this.opts.maxRounds !== undefined && this.results.length >= this.opts.maxRounds) break;
      if (trained !== null && state.modelVersion - trained.version > rules.maxStaleness) {
        if (replay !== undefined) {
          this.results.push({ round: state.round ?? 0, status: 'excluded', code: 'client/update-stale', lastPhase: null, examples: 0, durationMs: 0 });
          break;
        }
        trained = null;
        announced = false;
      }
      if (!announced) {
        const at = `${state.lastRound?.round ?? -1}/${state.roundsCompleted}/${state.roundsTarget}`;
        if (held === null || held.at !== at) {
          const gate = await this.ledger.beforeReady(info.federationId, info.coordinatorPublicKey);
          const before: string | null = held === null ? null : held.code;
          if (gate.ok) held = null;
          else {
            if (before !== gate.code) {
              this.log(`not announcing an update: ${gate.message}`);
              const result = refusal(state.round ?? state.roundsCompleted, gate.code);
              this.results.push(result);
              this.opts.onResult?.(result);
            }
            held = { at, code: gate.code };
            if (replay !== undefined) break;
          }
        }
      }
      if (held === null && !announced) {
        if (trained === null) {
          const version = Math.min(replay?.trainOn ?? state.modelVersion, state.modelVersion);
          const global = await this.fetchModel(version, info.dim);
          trained = { version, result: await this.opts.train(global, { round: version, modelVersion: version, standardization: null }) };
        }
        try {
          await this.announceReady(info, trained.version);
          announced = true;
        } catch (e) {
          // The model moved on while I trained: train again on the latest. Or the federation ended.
          if (e instanceof CoordinatorRejection && (e.rule === 'coordinator/stale-update' || e.rule === 'round/not-running')) {
            if (e.rule === 'coordinator/stale-update' && replay !== undefined) {
              this.results.push({ round: state.round ?? 0, status: 'excluded', code: e.rule, lastPhase: null, examples: 0, durationMs: 0 });
              break;
            }
            if (e.rule === 'coordinator/stale-update') trained = null;
            state = await this.getState('');
            continue;
          }
          throw e;
        }
      }
      if (state.round !== null && state.phase === 'advertise-keys' && !attempted.has(state.round)) {
        attempted.add(state.round);
        const config = this.roundConfig(state, info);
        if (config !== null) {
          const result = await this.groupRound(state, config, info, rules, trained);
          this.results.push(result.result);
          this.opts.onResult?.(result.result);
          this.log(`round ${result.result.round}: ${result.result.status}${result.result.code ? ` (${result.result.code})` : ''}${result.weight === null ? '' : ` (staleness weight ${result.weight})`}`);
          // A released (or possibly unmasked) update is spent; any other is still mine to offer.
          if (result.result.status === 'completed' || (result.result.status === 'aborted' && result.result.lastPhase === 'unmask')) trained = null;
          announced = false;
          if (replay !== undefined) break;
          state = await this.getState('');
          continue;
        }
      }
      state = await this.getState(`?since=${state.stateVersion}`);
    }
    return this.results;
  }

  /**
   * A group that lists me: the ledger's checks first (my budget among them), then my place in the
   * group (my version and weight), then the masked protocol with my weighted update. Refuses with
   * `client/not-ready` when I hold no update (I did not announce one).
   */
  private async groupRound(
    state: CoordinatorStateWire,
    config: RoundConfig,
    info: FederationInfo,
    rules: NonNullable<FederationInfo['async']>,
    trained: { version: number; result: TrainResult } | null,
  ): Promise<{ result: ParticipationResult; weight: number | null }> {
    const check = await this.ledger.beforeRound(info.federationId, info.coordinatorPublicKey, { config, draw: state.cohortDraw, ledgerHead: state.ledgerHead });
    if (!check.ok) {
      this.log(`round ${config.round}: refusing to contribute: ${check.message}`);
      return { result: refusal(config.round, check.code), weight: null };
    }
    if (trained === null) {
      this.log(`round ${config.round}: refusing to contribute: the group lists me, but I announced no update`);
      return { result: refusal(config.round, 'client/not-ready'), weight: null };
    }
    const index = config.participants.findIndex((p) => bytesEqual(p, this.opts.identity.publicKey));
    const own = ownGroupWeight(state.cohortDraw?.group, index, trained.version, rules);
    if (!own.ok) {
      this.log(`round ${config.round}: refusing to contribute: ${own.message}`);
      return { result: refusal(config.round, own.code), weight: null };
    }
    this.logAmendments(check.entries, check.epsilonIfContributing);
    const result = await this.participate(state, config, info, { kind: 'pretrained', result: trained.result, weight: own.weight });
    if (result.status === 'completed' || (result.status === 'aborted' && result.lastPhase === 'unmask')) {
      await this.keepReceipt(info.federationId, result, check.head);
    }
    return { result, weight: own.weight };
  }

  /** Tells the coordinator my update, trained on model `version`, is ready for a group (signed `POST /v1/ready`). */
  private async announceReady(info: FederationInfo, version: number): Promise<void> {
    const body = new TextEncoder().encode(JSON.stringify({ modelVersion: version, time: Date.now() }));
    const ack = await this.http.postJson('/v1/ready', body, 'application/json', ReadyAckSchema, { federationId: info.federationId, ...READY_TARGET });
    this.log(`update trained on model v${version} announced ready (${ack.queued} waiting for a group)`);
  }

  /**
   * What the round asks of me, from the verified ledger: my moments in the statistics round (the
   * federation estimates its standardisation and the ledger records none yet), else training with
   * the standardisation the ledger records, which must be the one the coordinator publishes
   * (`client/standardization-mismatch` when it is not).
   */
  private async roundJob(statistics: LedgerStatistics | null): Promise<RoundJob | { code: string; message: string }> {
    if (statistics === null) return { kind: 'train', standardization: null };
    if (statistics.standardize === null) {
      if (this.opts.moments === undefined) return { code: 'client/no-statistics', message: 'this is the statistics round of a federation with federated standardisation, and I have no feature statistics to send' };
      return { kind: 'statistics', spec: statistics.spec };
    }
    // The page and the CLI read the published schema; the one they apply must be the ledger's.
    const published = (await this.http.getJson('/v1/federation', FederationInfoSchema)).standardization;
    if (published === null || !sameStandardization(published, statistics.standardize)) {
      return {
        code: 'client/standardization-mismatch',
        message:
          `the coordinator publishes the standardisation ${published === null ? '(none)' : `mean ${JSON.stringify(published.mean)}, std ${JSON.stringify(published.std)}`}, ` +
          `but the verified ledger's statistics entry gives mean ${JSON.stringify(statistics.standardize.mean)}, std ${JSON.stringify(statistics.standardize.std)}`,
      };
    }
    this.standardizationValue = statistics.standardize;
    return { kind: 'train', standardization: statistics.standardize };
  }

  /** Says, once each, that the federation's terms were amended (the ledger I verified records it), and what my ε would be. */
  private logAmendments(entries: readonly LedgerEntry[], epsilon: number): void {
    for (const e of entries) {
      if (e.kind !== 'amendment' || this.amendmentsSeen.has(e.hash)) continue;
      this.amendmentsSeen.add(e.hash);
      this.log(
        `the coordinator amended the federation from round ${e.fromRound}: ${describeChange('rounds', e.previous.rounds, e.amended.rounds)}, ` +
          `${describeChange('ε target', e.previous.epsilonBudget, e.amended.epsilonBudget)}${e.reason === null ? '' : ` (${e.reason})`}; ` +
          `my ε if I take part in the next round: ${epsilon}${this.opts.maxEpsilon === undefined ? ' (no limit of my own: set one to refuse rounds past it)' : `, my limit ${this.opts.maxEpsilon}`}`,
      );
    }
  }

  /** Stores the coordinator-signed head of my round's entry (a round aborted after unmask may have none). */
  private async keepReceipt(federationId: string, result: ParticipationResult, headBefore: { seq: number }): Promise<void> {
    try {
      const path = await this.ledger.receipt(federationId, result.round, headBefore);
      if (path !== null) this.log(`round ${result.round}: receipt ${path}`);
    } catch (e) {
      if (result.status === 'completed') this.log(`round ${result.round}: no receipt: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Pauses while the coordinator reports itself stopped; false once that has lasted longer than the retry policy allows. */
  private async awaitRestart(): Promise<boolean> {
    const now = Date.now();
    const limit = (this.opts.retry ?? DEFAULT_RETRY).giveUpAfterMs ?? Infinity;
    if (this.stoppedSince === null) {
      this.stoppedSince = now;
      this.log(`the coordinator at ${this.opts.coordinator} stopped; waiting for it to come back`);
    }
    if (now - this.stoppedSince >= limit || this.opts.signal?.aborted) return false;
    await new Promise((resolve) => setTimeout(resolve, 500 + 1000 * randomUnit(systemRandom)));
    return true;
  }

  private async getState(query: string): Promise<CoordinatorStateWire> {
    const wait = this.opts.longPollMs === undefined || query === '' ? '' : `&timeoutMs=${this.opts.longPollMs}`;
    return this.http.getJson(`/v1/round${query}${query === '' ? '' : wait}`, CoordinatorStateSchema);
  }

  /** The round config if I am in this round's cohort and it matches the federation; else null. */
  private roundConfig(state: CoordinatorStateWire, info: FederationInfo): RoundConfig | null {
    const config = this.decodeConfig(state.roundConfig);
    if (config === null) throw new FedveilError('client/bad-response', `round ${state.round}: malformed round config`);
    if (!config.participants.some((p) => bytesEqual(p, this.opts.identity.publicKey))) return null;
    // The coordinator may not change the privacy terms mid-federation: refuse a round whose DP
    // configuration or dimension differs from what the federation advertised when I joined.
    if (
      config.federationId !== info.federationId ||
      config.round !== state.round ||
      config.dim !== roundDim(info) ||
      config.mode !== info.mode ||
      (config.colluders ?? 0) !== info.colluders
    ) {
      throw new FedveilError('client/round-mismatch', `round ${state.round}: config does not match the federation`);
    }
    if (JSON.stringify(sortKeys(config.dp)) !== JSON.stringify(sortKeys(info.dp))) {
      throw new FedveilError('client/dp-changed', `round ${state.round}: the DP configuration differs from the federation's`);
    }
    return config;
  }

  /**
   * Runs the protocol for one round: training on the round's model (while keys are exchanged), my
   * feature moments in the statistics round, or an asynchronous group member's update trained
   * before the group formed, encoded with its staleness weight.
   */
  private async participate(state: CoordinatorStateWire, config: RoundConfig, info: FederationInfo, job: RoundJob): Promise<ParticipationResult> {
    const started = Date.now();
    const round = config.round;
    const index = config.participants.findIndex((p) => bytesEqual(p, this.opts.identity.publicKey));
    const dropAt = this.opts.dropout?.(round);
    let lastPhase: Phase | null = null;
    let examples = 0;
    const result = (status: ParticipationResult['status'], code?: string): ParticipationResult => ({
      round,
      status,
      ...(code === undefined ? {} : { code }),
      lastPhase,
      examples,
      durationMs: Date.now() - started,
    });

    // Training (or computing my moments) runs while keys are exchanged; its result is needed only at masked-input.
    let training: Promise<{ input: Float32Array; examples: number }>;
    const checked = (trained: TrainResult): TrainResult => {
      if (trained.update.length !== info.dim) throw new FedveilError('client/bad-update', `train returned ${trained.update.length} values, the model has ${info.dim}`);
      return trained;
    };
    if (job.kind === 'statistics') {
      const moments = this.opts.moments as NonNullable<ParticipantOptions['moments']>;
      training = Promise.resolve().then(async () => ({ input: statisticsInput(await moments(job.spec), info.dp.clipNorm, roundDim(info)), examples: 0 }));
    } else if (job.kind === 'pretrained') {
      training = Promise.resolve().then(() => ({ input: withNoiseProbe(weightedUpdate(checked(job.result).update, info.dp.clipNorm, job.weight), info.noiseProbe), examples: job.result.examples }));
    } else {
      const global = await this.fetchModel(state.modelVersion, info.dim);
      training = Promise.resolve().then(async () => {
        const trained = checked(await this.opts.train(global, { round, modelVersion: state.modelVersion, standardization: job.standardization }));
        return { input: withNoiseProbe(roundInput(trained, info, state.clipNorm), info.noiseProbe), examples: trained.examples };
      });
    }
    training.catch(() => {});
    let update: Float32Array | null = null;
    const client = new ClientRound(this.encodingPlan(config), {
      index,
      identitySecretKey: this.opts.identity.secretKey,
      input: () => {
        if (update === null) throw new FedveilError('client/no-update', 'training did not finish before masked-input');
        return update;
      },
      rng: this.random,
      provider: this.provider,
    });

    const phases = phasesOf(config.mode);
    if (dropAt === 'advertise-keys') return result('dropped');
    const first = client.start();
    if (first.kind !== 'send') return result('refused', first.kind === 'rejected' || first.kind === 'refused' ? first.code : undefined);
    try {
      await this.send(round, first.message);
    } catch (e) {
      return this.failed(e, result);
    }
    lastPhase = 'advertise-keys';
    this.opts.onPhase?.(round, lastPhase);

    for (const phase of phases.slice(1)) {
      const where = await this.waitForPhase(round, phase);
      if (where === 'ended') return this.roundEnd(round, result);
      if (where === 'passed') return result('excluded', 'client/phase-missed');
      let view;
      try {
        view = await this.fetchRequest(round, phase, config.federationId);
      } catch (e) {
        return this.failed(e, result);
      }
      if (phase === 'masked-input') {
        try {
          const trained = await training;
          update = trained.input;
          examples = trained.examples;
        } catch (e) {
          this.log(`round ${round}: training failed: ${e instanceof Error ? e.message : String(e)}`);
          return result('refused', 'client/training-failed');
        }
      }
      const step = client.receive(view);
      if (step.kind === 'aborted') return result('aborted', step.code);
      if (step.kind === 'refused') return result('refused', step.code);
      if (step.kind === 'rejected') return result('refused', step.code);
      if (dropAt === phase) return result('dropped');
      try {
        await this.send(round, step.message);
      } catch (e) {
        return this.failed(e, result);
      }
      lastPhase = phase;
      this.opts.onPhase?.(round, phase);
    }
    return this.roundEnd(round, result);
  }

  /** Waits until `round` reaches `phase`; null when the round ended (or moved on) before that. */
  private async waitForPhase(round: number, phase: Phase): Promise<'ready' | 'ended' | 'passed'> {
    for (;;) {
      const s = await this.getState(`?waitFor=${phase}&round=${round}`);
      if (s.round !== round || s.status !== 'running' || s.phase === null || s.phase === 'finalizing') return 'ended';
      if (s.phase === phase) return 'ready';
      if (PHASES.indexOf(s.phase) > PHASES.indexOf(phase)) return 'passed';
    }
  }

  /** Waits for the end of `round` and reports how it ended. */
  private async roundEnd(round: number, result: (s: ParticipationResult['status'], code?: string) => ParticipationResult): Promise<ParticipationResult> {
    for (;;) {
      let s: CoordinatorStateWire;
      try {
        s = await this.getState(`?waitFor=end&round=${round}`);
      } catch (e) {
        // My part is done; if the coordinator is gone (shut down after the last round) the
        // outcome is unknown to me, which is not an error of mine.
        if (e instanceof FedveilError && e.code === 'client/unreachable') return result('aborted', 'client/outcome-unknown');
        throw e;
      }
      if (s.lastRound !== null && s.lastRound.round === round) {
        return s.lastRound.status === 'completed' ? result('completed') : result('aborted', s.lastRound.code);
      }
      if (s.status !== 'running' || (s.round !== null && s.round > round)) return result('aborted', 'client/round-outcome-unknown');
    }
  }

  private failed(e: unknown, result: (s: ParticipationResult['status'], code?: string) => ParticipationResult): ParticipationResult {
    if (e instanceof CoordinatorRejection) {
      // wrong-phase / wrong-round / not-in-cohort: the round went on without me.
      if (e.rule.startsWith('round/') || e.rule === 'auth/not-in-cohort') return result('excluded', e.rule);
      return result('refused', e.rule);
    }
    if (e instanceof FedveilError) return result('refused', e.code);
    throw e;
  }

  private async send(round: number, message: ClientMessage): Promise<void> {
    const phase = message.header.phase;
    const wire = encodeClientMessage(message);
    let body: Uint8Array;
    let type: string;
    if (message.type === 'masked-input') {
      const json = new TextEncoder().encode(JSON.stringify(wire.json));
      body = new Uint8Array(4 + json.length + (wire.body as Uint8Array).length);
      new DataView(body.buffer).setUint32(0, json.length, false);
      body.set(json, 4);
      body.set(wire.body as Uint8Array, 4 + json.length);
      type = OCTET_STREAM;
    } else {
      body = new TextEncoder().encode(JSON.stringify(wire.json));
      type = 'application/json';
    }
    const target = { federationId: message.header.federationId, round, phase };
    try {
      await this.http.postJson(`/v1/rounds/${round}/${phase}`, body, type, SubmissionAckSchema, target);
    } catch (e) {
      // A retry after a lost answer finds its first attempt accepted: that is success.
      if (e instanceof CoordinatorRejection && e.rule === 'round/duplicate-submission') return;
      throw e;
    }
  }

  /** The announced round config, decoded (null when malformed); shared with the other participants of this process when they got the same JSON. */
  private decodeConfig(wire: unknown): RoundConfig | null {
    if (this.opts.roundPlans !== undefined) return this.opts.roundPlans.decodeConfig(wire);
    const parsed = z.safeDecode(RoundConfigSchema, wire as z.input<typeof RoundConfigSchema>);
    return parsed.success ? (parsed.data as RoundConfig) : null;
  }

  /** The coordinator's request of `phase` (validated; shared with the other participants of this process when they got the same text). */
  private async fetchRequest(round: number, phase: Phase, federationId: string): Promise<ServerMessage | CheckedServerMessage> {
    const path = `/v1/rounds/${round}/${phase}`;
    const target = { federationId, round, phase };
    const memo = this.opts.serverMessages;
    if (memo === undefined) return decodeServerMessage(await this.http.getJson(path, z.unknown(), target));
    const text = await this.http.getText(path, target);
    try {
      return memo.checked(text);
    } catch (e) {
      if (e instanceof SyntaxError) throw new FedveilError('client/bad-response', `${path}: the coordinator's answer is not JSON`);
      throw e;
    }
  }

  /** The round's plan, with an under-noising encoder when {@link ParticipantOptions.noiseScale} is set. */
  private encodingPlan(config: RoundConfig): RoundConfig | RoundPlan {
    const f = this.opts.noiseScale;
    if (f === undefined || f === 1) return this.opts.roundPlans?.plan(config) ?? config;
    const plan = this.opts.roundPlans?.plan(config) ?? planRound(config);
    const dp = { ...config.dp, noiseMultiplier: config.dp.noiseMultiplier * f };
    return { ...plan, encoder: createClientEncoder(dp, config.dim, config.roundSeed) };
  }

  /** Hands a model released since the last one handed to `onModel`; a failure is logged, not fatal. */
  private async newRelease(state: CoordinatorStateWire, dim: number): Promise<void> {
    if (this.opts.onModel === undefined || state.modelVersion < 1 || state.modelVersion <= this.releasedVersion) return;
    try {
      const { weights, hash } = await this.fetchModelWithHash(state.modelVersion, dim);
      await this.opts.onModel(weights, { version: state.modelVersion, hash });
      this.releasedVersion = state.modelVersion;
    } catch (e) {
      this.log(`model v${state.modelVersion}: not kept: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private async fetchModel(version: number, dim: number): Promise<Float32Array> {
    return (await this.fetchModelWithHash(version, dim)).weights;
  }

  private async fetchModelWithHash(version: number, dim: number): Promise<{ weights: Float32Array; hash: string }> {
    const { bytes, headers } = await this.http.getBytes(`/v1/model?version=${version}`);
    const hash = headers.get('x-fedveil-model-hash');
    if (bytes.length !== dim * 4) throw new FedveilError('client/bad-model', `model has ${bytes.length} bytes, expected ${dim * 4}`);
    if (hash === null || hash !== sha256Hex(bytes)) throw new FedveilError('client/bad-model', 'model bytes do not match their announced hash');
    return { weights: new Float32Array(bytes.slice().buffer), hash };
  }
}

/**
 * The vector I encode: my update (with adaptive clipping: clipped to the round's C_t, which my
 * ledger check verified, and scaled into its share of the encoding), then my evaluation counts
 * when the federation evaluates, then my clipping bit when it clips adaptively.
 */
function roundInput(trained: TrainResult, info: FederationInfo, clipNorm: number | null): Float32Array {
  const clip = roundClip(info, clipNorm);
  const clipped = clip === null ? null : clipForEncoding(trained.update, clip);
  const update = clipped === null ? trained.update : clipped.scaled;
  const withCounts = info.evaluation ? evaluationInput(update, trained.evaluation ?? null, info.evaluation, info.dp.clipNorm) : update;
  return clip === null || clipped === null ? withCounts : appendClipBit(withCounts, clipped.bit, clip);
}

/** The result of a round I refused to join (nothing was sent). */
function refusal(round: number, code: string): ParticipationResult {
  return { round, status: 'refused', code, lastPhase: null, examples: 0, durationMs: 0 };
}

function sortKeys(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
