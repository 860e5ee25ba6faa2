import { z } from 'zod';
import { ClientRound } from '../protocol/client/client-round.js';
import { planRound, RoundConfigSchema, type RoundConfig, type RoundPlan } from '../protocol/config.js';
import { createClientEncoder } from '../dp/index.js';
import type { ClientMessage } from '../protocol/messages.js';
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
import { evaluationInput, roundDim, type EvaluationCounts } from './federated-evaluation.js';
import { withNoiseProbe } from './noise-probe.js';
import { describeChange } from './ledger-amendment.js';
import type { LedgerEntry } from './ledger-entry.js';
import { ParticipantLedger, type ReceiptKeeper } from './participant-ledger.js';
import type { OwnPrivacy } from './participant-ledger-check.js';
import type { SharedLedger } from './ledger-memo.js';
import { joinFederation, newSessionToken } from './join-client.js';
import { CoordinatorStateSchema, FederationInfoSchema, OCTET_STREAM, SubmissionAckSchema, type CoordinatorStateWire, type FederationInfo, type JoinAck } from './wire.js';

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

/** Local training, supplied by the caller (the CLI wires src/trainer into it). */
export type TrainFn = (globalWeights: Float32Array, info: { round: number; modelVersion: number }) => Promise<TrainResult> | TrainResult;

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
}

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
          });
          const result = check.ok ? await this.participate(state, config, info) : refusal(config.round, check.code);
          if (!check.ok) this.log(`round ${config.round}: refusing to contribute: ${check.message}`);
          else this.logAmendments(check.entries, check.epsilonIfContributing);
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
    const parsed = z.safeDecode(RoundConfigSchema, state.roundConfig as z.input<typeof RoundConfigSchema>);
    if (!parsed.success) throw new FedveilError('client/bad-response', `round ${state.round}: malformed round config`);
    const config = parsed.data as RoundConfig;
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

  private async participate(state: CoordinatorStateWire, config: RoundConfig, info: FederationInfo): Promise<ParticipationResult> {
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

    const global = await this.fetchModel(state.modelVersion, info.dim);
    // Training runs while keys are exchanged; its result is needed only at masked-input.
    const training = Promise.resolve().then(() => this.opts.train(global, { round, modelVersion: state.modelVersion }));
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
        view = decodeServerMessage(await this.http.getJson(`/v1/rounds/${round}/${phase}`, z.unknown(), { federationId: config.federationId, round, phase }));
      } catch (e) {
        return this.failed(e, result);
      }
      if (phase === 'masked-input') {
        try {
          const trained = await training;
          if (trained.update.length !== info.dim) {
            throw new FedveilError('client/bad-update', `train returned ${trained.update.length} values, the model has ${info.dim}`);
          }
          update = info.evaluation ? evaluationInput(trained.update, trained.evaluation ?? null, info.evaluation, info.dp.clipNorm) : trained.update;
          update = withNoiseProbe(update, info.noiseProbe);
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

  /** The round's plan, with an under-noising encoder when {@link ParticipantOptions.noiseScale} is set. */
  private encodingPlan(config: RoundConfig): RoundConfig | RoundPlan {
    const f = this.opts.noiseScale;
    if (f === undefined || f === 1) return config;
    const plan = planRound(config);
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

/** The result of a round I refused to join (nothing was sent). */
function refusal(round: number, code: string): ParticipationResult {
  return { round, status: 'refused', code, lastPhase: null, examples: 0, durationMs: 0 };
}

function sortKeys(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
