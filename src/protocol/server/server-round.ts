import { defaultProvider, type CryptoProvider } from '../../secagg/index.js';
import { decodeSum } from '../../dp/index.js';
import { check, FedveilError } from '../../secagg/util/errors.js';
import type { RandomSource } from '../../secagg/util/random.js';
import { verifyMessage } from '../canonical.js';
import { checkClientHeader, checkNoIsolatedSurvivor } from '../checks.js';
import { planRound, roundBinding, type RoundConfig, type RoundPlan } from '../config.js';
import {
  CLIENT_MESSAGE_PHASE,
  type AdvertiseKeysMessage,
  type ClientMessage,
  type ConsistencySignature,
  type ServerMessage,
} from '../messages.js';
import type { Phase } from '../phases.js';
import {
  describeError,
  rejection,
  type AbortedOutcome,
  type CompletedOutcome,
  type DropoutsByPhase,
  type Outgoing,
  type RoundOutcome,
  type RoundParameters,
  type ServerStep,
  type WrongShare,
} from '../results.js';
import { difference } from '../sets.js';
import { validateClientMessage } from '../wire/validate.js';
import { AdvertiseKeysCollector } from './advertise-keys.js';
import type { PhaseCollector } from './collector.js';
import { ConsistencyCheckCollector } from './consistency-check.js';
import { serverHeader } from './header.js';
import { MaskedInputCollector } from './masked-input.js';
import { ShareKeysCollector } from './share-keys.js';
import { ShareFaultError, UnmaskCollector } from './unmask.js';

/** Options of a {@link ServerRound}. */
export interface ServerRoundOptions {
  /** Randomness for the decode step (central-DP noise). */
  rng: RandomSource;
  /** Crypto implementation; default {@link defaultProvider}. */
  provider?: CryptoProvider;
}

/** Where the server stands: the phase it collects, or the end of the round. */
export type ServerStatus = Phase | 'done';

/**
 * The coordinator's side of one round: a pure state machine fed client messages and deadline
 * events. A phase ends as soon as every expected participant submitted, or at `deadline()`; then
 * the quorum is checked (fewer than `minSurvivors` aborts the round) and the next phase's requests
 * come out in the step's outbox, one message per recipient.
 *
 * `receive` never throws: a malformed, replayed (other federation/round/version), out-of-phase,
 * duplicate, unsigned or inconsistent message comes back `rejected` with its code and the state is
 * exactly as before.
 */
export class ServerRound {
  /** The round's derived parameters. */
  readonly plan: RoundPlan;
  private readonly provider: CryptoProvider;
  private readonly rng: RandomSource;
  private collector: PhaseCollector;
  private outcomeValue: RoundOutcome | undefined;
  private readonly latest = new Map<number, ServerMessage>();
  private readonly dropouts: DropoutsByPhase = {
    'advertise-keys': [],
    'share-keys': [],
    'masked-input': [],
    'consistency-check': [],
    unmask: [],
  };
  private advertisements = new Map<number, AdvertiseKeysMessage>();
  private u1: number[] = [];
  private u2: number[] = [];
  private u3: number[] = [];
  private signatures: ConsistencySignature[] = [];
  private accumulator: Uint32Array | undefined;

  /** Throws FedveilError `protocol/bad-config` when the config is not a valid round. */
  constructor(config: RoundConfig | RoundPlan, options: ServerRoundOptions) {
    this.plan = 'encoder' in config ? config : planRound(config);
    this.provider = options.provider ?? defaultProvider;
    this.rng = options.rng;
    this.collector = new AdvertiseKeysCollector(this.plan, this.provider);
  }

  /** The phase being collected, or `done`. */
  get status(): ServerStatus {
    return this.outcomeValue ? 'done' : this.collector.phase;
  }

  /** The final outcome, once the round ended. */
  get outcome(): RoundOutcome | undefined {
    return this.outcomeValue;
  }

  /** The participant sets fixed so far (empty until their phase ended). */
  get sets(): { u1: readonly number[]; u2: readonly number[]; u3: readonly number[] } {
    return { u1: this.u1, u2: this.u2, u3: this.u3 };
  }

  /** Who may submit in the current phase. */
  get expected(): readonly number[] {
    return this.outcomeValue ? [] : this.collector.expected;
  }

  /** Who has submitted in the current phase, sorted. */
  get submitted(): number[] {
    return this.outcomeValue ? [] : [...this.collector.submitted].sort((a, b) => a - b);
  }

  /**
   * The latest message addressed to participant `index` (what an HTTP GET for its current
   * request returns), or undefined when there is none yet.
   */
  messageFor(index: number): ServerMessage | undefined {
    return this.latest.get(index);
  }

  /**
   * Bytes the server retains for the round: the accumulator (O(d)) plus routed ciphertexts and
   * revealed shares (O(n·k)). Messages already handed out are counted by the caller's transport.
   */
  retainedBytes(): number {
    let total = (this.accumulator?.byteLength ?? 0) + (this.collector instanceof MaskedInputCollector ? this.collector.accumulator.byteLength : 0);
    if (this.collector instanceof ShareKeysCollector || this.collector instanceof UnmaskCollector) total += this.collector.retainedBytes();
    return total;
  }

  /** Feeds one client message. Never throws. */
  receive(message: ClientMessage): ServerStep {
    let commit: () => void;
    try {
      validateClientMessage(message);
      check(!this.outcomeValue, 'protocol/round-finished', 'the round has ended');
      const c = this.collector;
      const phase = CLIENT_MESSAGE_PHASE[message.type];
      checkClientHeader(this.plan, message.header, phase);
      const sender = message.header.sender;
      check(phase === c.phase, 'protocol/wrong-phase', () => `a ${message.type} message arrived during phase ${c.phase}`);
      check(
        c.expected.includes(sender),
        'protocol/unexpected-sender',
        () => `participant ${sender} is not in the set that may submit in phase ${c.phase}`,
      );
      check(!c.submitted.has(sender), 'protocol/duplicate-submission', () => `participant ${sender} already submitted in phase ${c.phase}`);
      check(
        verifyMessage(this.provider, this.plan.config.participants[sender] as Uint8Array, message, roundBinding(this.plan.config)),
        'protocol/bad-signature',
        () => `${message.type} from participant ${sender} is not signed by its long-term key`,
      );
      commit = c.prepare(message as never);
    } catch (e) {
      return rejection(e);
    }
    commit();
    if (this.collector.submitted.size === this.collector.expected.length) return this.endPhase();
    return { kind: 'accepted', outbox: [] };
  }

  /** The current phase's deadline passed: end it with whoever submitted. Never throws. */
  deadline(): ServerStep {
    if (this.outcomeValue) return { kind: 'rejected', code: 'protocol/round-finished', message: 'the round has ended' };
    return this.endPhase();
  }

  /** Ends the current phase: quorum check, then the next phase's requests (or the outcome). */
  private endPhase(): ServerStep {
    const c = this.collector;
    const submitted = [...c.submitted].sort((a, b) => a - b);
    this.dropouts[c.phase] = difference(c.expected, submitted);
    if (submitted.length < this.plan.minSurvivors) {
      return this.abort(
        c.phase,
        'protocol/quorum-not-met',
        `phase ${c.phase} ended with ${submitted.length} submissions, fewer than the quorum ${this.plan.minSurvivors}`,
      );
    }
    try {
      return this.advance();
    } catch (e) {
      const { code, message } = describeError(e);
      return this.abort(c.phase, code, message, e instanceof ShareFaultError ? e.suspects : undefined);
    }
  }

  private advance(): ServerStep {
    const c = this.collector;
    const outbox: Outgoing[] = [];
    const send = (to: number, message: ServerMessage): void => {
      outbox.push({ to, message });
      this.latest.set(to, message);
    };
    if (c instanceof AdvertiseKeysCollector) {
      const { u1, keyLists } = c.finish();
      this.u1 = u1;
      this.advertisements = c.advertisements;
      for (const [to, m] of keyLists) send(to, m);
      this.collector = new ShareKeysCollector(this.plan, u1);
    } else if (c instanceof ShareKeysCollector) {
      const { u2, bundles } = c.finish();
      this.u2 = u2;
      for (const [to, m] of bundles) send(to, m);
      this.collector = new MaskedInputCollector(this.plan, u2);
    } else if (c instanceof MaskedInputCollector) {
      this.u3 = c.finish().u3;
      this.accumulator = c.accumulator;
      checkNoIsolatedSurvivor(this.plan, this.u3);
      if (this.plan.config.mode === 'malicious') {
        const m: ServerMessage = { type: 'consistency-request', header: serverHeader(this.plan, 'consistency-check'), u3: this.u3 };
        for (const to of this.u3) send(to, m);
        this.collector = new ConsistencyCheckCollector(this.u3);
      } else {
        this.requestUnmask(this.u3, send);
      }
    } else if (c instanceof ConsistencyCheckCollector) {
      const { signers, signatures } = c.finish();
      this.signatures = signatures;
      this.requestUnmask(signers, send);
    } else if (c instanceof UnmaskCollector) {
      const acc = this.accumulator as Uint32Array;
      const { u4, wrongShares } = c.unmask(acc, this.advertisements, this.provider);
      const outcome = this.complete(acc, u4, wrongShares);
      this.outcomeValue = outcome;
      this.accumulator = undefined;
      return { kind: 'accepted', outbox, outcome };
    } else {
      throw new FedveilError('protocol/internal-error', 'unknown phase collector');
    }
    return { kind: 'accepted', outbox };
  }

  private requestUnmask(recipients: readonly number[], send: (to: number, m: ServerMessage) => void): void {
    const dropped = difference(this.u2, this.u3);
    const m: ServerMessage = {
      type: 'unmask-request',
      header: serverHeader(this.plan, 'unmask'),
      u3: this.u3,
      dropped,
      // A quorum of signatures is the proof a client needs; sending all n would make this
      // request O(n) per client (O(n²) in all). The outcome keeps every signature.
      signatures: this.signatures.slice(0, this.plan.minSurvivors),
    };
    for (const to of recipients) send(to, m);
    this.collector = new UnmaskCollector(this.plan, recipients, this.u3, dropped);
  }

  private complete(acc: Uint32Array, u4: number[], wrongShares: WrongShare[]): CompletedOutcome {
    const { plan } = this;
    // Views, not copies: the round gives the accumulator up here.
    const sum = acc.subarray(0, plan.encodedLength);
    const extraSums = acc.subarray(plan.encodedLength);
    const aggregate = decodeSum(plan.config.dp, plan.config.dim, plan.config.roundSeed, sum, this.u3.length, this.rng);
    return {
      status: 'completed',
      aggregate,
      sum,
      extraSums,
      u1: this.u1,
      u2: this.u2,
      u3: this.u3,
      u4,
      dropouts: { ...this.dropouts },
      consistencySignatures: this.signatures,
      wrongShares,
      parameters: this.parameters(),
    };
  }

  /** Public parameters recorded in the outcome. */
  parameters(): RoundParameters {
    const { plan } = this;
    const c = plan.config;
    return {
      federationId: c.federationId,
      round: c.round,
      n: plan.n,
      threshold: plan.threshold,
      minSurvivors: plan.minSurvivors,
      neighbourhoodSize: c.graph.kind === 'complete' ? plan.n : c.graph.degree + 1,
      graph: c.graph,
      mode: c.mode,
      dim: c.dim,
      extraCoordinates: c.extraCoordinates,
      vectorLength: plan.vectorLength,
      bits: plan.bits,
      dp: c.dp,
    };
  }

  private abort(phase: Phase, code: string, reason: string, suspects?: number[]): ServerStep {
    const outcome: AbortedOutcome = { status: 'aborted', phase, code, reason, ...(suspects ? { suspects } : {}) };
    this.outcomeValue = outcome;
    this.accumulator = undefined;
    const header = serverHeader(this.plan, phase);
    const notice: ServerMessage = { type: 'round-aborted', header, code, reason: reason.slice(0, 1000) };
    const outbox: Outgoing[] = [];
    for (const to of this.collector.expected) {
      outbox.push({ to, message: notice });
      this.latest.set(to, notice);
    }
    return { kind: 'accepted', outbox, outcome };
  }
}
