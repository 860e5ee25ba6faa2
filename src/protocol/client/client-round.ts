import { defaultProvider, type CryptoProvider } from '../../secagg/index.js';
import { bytesEqual } from '../../secagg/util/bytes.js';
import { check, FedveilError } from '../../secagg/util/errors.js';
import type { RandomSource } from '../../secagg/util/random.js';
import { checkRoundHeader, checkServerIndices } from '../checks.js';
import { planRound, type RoundConfig, type RoundPlan } from '../config.js';
import { SERVER_MESSAGE_PHASE, type ClientMessage, type ServerMessage, type UnmaskRequestMessage } from '../messages.js';
import { nextPhase, type Phase } from '../phases.js';
import { describeError, rejection, type ClientStep } from '../results.js';
import { isCheckedServerMessage, validateServerMessage, type CheckedServerMessage } from '../wire/validate.js';
import { advertiseKeys } from './advertise-keys.js';
import { consistencyCheck } from './consistency-check.js';
import type { CheckedState, ClientContext, MaskedState, RoundKeys, SharedState } from './context.js';
import { maskedInput } from './masked-input.js';
import { shareKeys } from './share-keys.js';
import { unmask, type RevealedKind } from './unmask.js';

/** Options of a {@link ClientRound}. */
export interface ClientRoundOptions {
  /** My index in `config.participants`. */
  index: number;
  /** My long-term Ed25519 secret key (32-byte seed); its public key must be `participants[index]`. */
  identitySecretKey: Uint8Array;
  /**
   * My model update (length `config.dim`), or a function returning it; the function is called
   * only when the masked-input phase begins, so training may run while keys are exchanged.
   */
  input: Float32Array | (() => Float32Array);
  /** Extra coordinates (exactly `config.extraCoordinates` integers in [0, 2^bits)). Default: none. */
  extra?: readonly number[];
  /** Source of every secret this client draws. */
  rng: RandomSource;
  /** Crypto implementation; default {@link defaultProvider}. */
  provider?: CryptoProvider;
  /** Receives my DP encoding before masking (audits, tests). It never leaves the client. */
  observeEncoding?: (encoding: Uint32Array) => void;
}

/** Where a client stands: the phase it performs next, or the end of its round. */
export type ClientStatus = Phase | 'done' | 'aborted';

/**
 * One participant's side of one round: a pure state machine. `start()` yields the signed
 * advertise-keys message; each server message given to `receive()` yields the client's answer.
 *
 * - A message that is malformed, for another federation/round/version (a replay), for a phase
 *   other than the current one, or that arrives after the end, is `rejected` and changes nothing.
 * - A well-formed request for the current phase that breaks a protocol rule is `refused`: the
 *   client aborts the round and will reveal nothing more (codes in spec/protocol.md).
 * - Repeating the request the client answered last returns the same answer (safe retries); a
 *   different request for that phase is refused (`protocol/both-shares-requested` when it would
 *   reveal the other share of some peer, `protocol/key-list-changed` or `protocol/list-changed`).
 */
export class ClientRound {
  /** The round's derived parameters. */
  readonly plan: RoundPlan;
  private readonly ctx: ClientContext;
  private statusValue: ClientStatus = 'advertise-keys';
  private failureValue: { code: string; message: string } | undefined;
  private keys: RoundKeys | undefined;
  private shared: SharedState | undefined;
  private masked: MaskedState | CheckedState | undefined;
  private revealedValue: Map<number, RevealedKind> | undefined;
  /** The last request answered and its answer, for idempotent retries. */
  private last: { phase: Phase; json: string; message: ServerMessage; answer: ClientMessage } | undefined;
  private advertisement: ClientMessage | undefined;

  /** Throws FedveilError `protocol/bad-config`, `protocol/identity-mismatch` or `protocol/bad-extra` on bad options. */
  constructor(config: RoundConfig | RoundPlan, options: ClientRoundOptions) {
    this.plan = 'encoder' in config ? config : planRound(config);
    const { plan } = this;
    const provider = options.provider ?? defaultProvider;
    check(
      Number.isInteger(options.index) && options.index >= 0 && options.index < plan.n,
      'protocol/bad-index',
      () => `client index must be an integer in [0, ${plan.n}), got ${options.index}`,
    );
    check(
      options.identitySecretKey instanceof Uint8Array &&
        options.identitySecretKey.length === 32 &&
        bytesEqual(provider.ed25519PublicKey(options.identitySecretKey), plan.config.participants[options.index] as Uint8Array),
      'protocol/identity-mismatch',
      () => `identity key does not belong to participant ${options.index} of the round`,
    );
    const extra = options.extra ?? [];
    check(
      extra.length === plan.config.extraCoordinates && extra.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** plan.bits),
      'protocol/bad-extra',
      () => `extra coordinates must be ${plan.config.extraCoordinates} integers in [0, 2^${plan.bits}), got [${extra.join(',')}]`,
    );
    const input = options.input;
    this.ctx = {
      plan,
      index: options.index,
      identitySecretKey: options.identitySecretKey,
      provider,
      rng: options.rng,
      input: typeof input === 'function' ? input : () => input,
      extra: Uint32Array.from(extra),
      ...(options.observeEncoding ? { observeEncoding: options.observeEncoding } : {}),
    };
  }

  /** My index. */
  get index(): number {
    return this.ctx.index;
  }

  /** The phase I perform next, `done` after my unmask answer, or `aborted`. */
  get status(): ClientStatus {
    return this.statusValue;
  }

  /** Why I aborted (my refusal or the server's abort), if I did. */
  get failure(): { code: string; message: string } | undefined {
    return this.failureValue;
  }

  /** For each peer whose shares I revealed, which of its two secrets (tests and audits). */
  get revealed(): ReadonlyMap<number, RevealedKind> {
    return this.revealedValue ?? new Map();
  }

  /** Phase 0: my signed advertise-keys message. Calling it again returns the same message. */
  start(): ClientStep {
    if (this.advertisement) return { kind: 'send', message: this.advertisement };
    if (this.statusValue !== 'advertise-keys') return this.reject('protocol/wrong-phase', 'the round already started');
    try {
      const { keys, message } = advertiseKeys(this.ctx);
      this.keys = keys;
      this.advertisement = message;
      this.statusValue = 'share-keys';
      return { kind: 'send', message };
    } catch (e) {
      return rejection(e);
    }
  }

  /**
   * Feeds one server message; never throws. A message made by `checkServerMessage` (shared between
   * the clients of one process, see ServerMessageMemo) was validated there.
   */
  receive(input: ServerMessage | CheckedServerMessage): ClientStep {
    let message: ServerMessage;
    let json: string;
    try {
      if (isCheckedServerMessage(input)) ({ message, json } = input);
      else {
        message = input as ServerMessage;
        json = JSON.stringify(validateServerMessage(message));
      }
      checkRoundHeader(this.plan, message.header);
    } catch (e) {
      return rejection(e);
    }
    if (this.statusValue === 'aborted') return this.reject('protocol/round-finished', 'this client already left the round');
    if (message.type === 'round-aborted') {
      this.statusValue = 'aborted';
      this.failureValue = { code: message.code, message: message.reason };
      return { kind: 'aborted', code: message.code, reason: message.reason };
    }
    const phase = SERVER_MESSAGE_PHASE[message.type];
    if (message.header.phase !== phase) {
      return this.reject('protocol/wrong-phase', `a ${message.type} message must carry phase ${phase}, not ${message.header.phase}`);
    }
    if (this.last && this.last.phase === phase) return this.repeat(message, json);
    if (this.statusValue !== phase) {
      return this.reject('protocol/wrong-phase', `got a request for phase ${phase} while in ${this.statusValue}`);
    }
    try {
      const answer = this.handle(message);
      this.last = { phase, json, message, answer };
      this.statusValue = nextPhase(this.plan.config.mode, phase) ?? 'done';
      return { kind: 'send', message: answer };
    } catch (e) {
      return this.refuse(e);
    }
  }

  /** Runs the phase module for `message`; commits state only when it succeeds. */
  private handle(message: ServerMessage): ClientMessage {
    checkServerIndices(this.plan, message);
    switch (message.type) {
      case 'key-list': {
        const r = shareKeys(this.ctx, this.keys as RoundKeys, message);
        this.shared = r.state;
        return r.message;
      }
      case 'share-bundle': {
        const r = maskedInput(this.ctx, this.shared as SharedState, message);
        this.masked = r.state;
        return r.message;
      }
      case 'consistency-request': {
        const r = consistencyCheck(this.ctx, this.masked as MaskedState, message);
        this.masked = r.state;
        return r.message;
      }
      case 'unmask-request': {
        const r = unmask(this.ctx, this.masked as MaskedState, message);
        this.revealedValue = r.revealed;
        return r.message;
      }
      default:
        throw new FedveilError('protocol/internal-error', `unexpected ${message.type}`);
    }
  }

  /** A second request for the phase I answered last. */
  private repeat(message: ServerMessage, json: string): ClientStep {
    const last = this.last as NonNullable<ClientRound['last']>;
    if (json === last.json) return { kind: 'send', message: last.answer };
    try {
      checkServerIndices(this.plan, message);
    } catch (e) {
      return this.refuse(e);
    }
    if (message.type === 'unmask-request') {
      const flips = this.wouldFlip(message);
      if (flips.length > 0) {
        return this.refuse(
          new FedveilError(
            'protocol/both-shares-requested',
            `the server asks for the other share of participants [${flips.join(',')}] after I revealed one`,
          ),
        );
      }
    }
    const code = message.type === 'key-list' ? 'protocol/key-list-changed' : 'protocol/list-changed';
    return this.refuse(new FedveilError(code, `the server sent a different ${message.type} for a phase I already answered`));
  }

  /** Peers for which `request` would reveal the share kind I did not reveal before. */
  private wouldFlip(request: UnmaskRequestMessage): number[] {
    const revealed = this.revealedValue ?? new Map<number, RevealedKind>();
    const u3 = new Set(request.u3);
    const dropped = new Set(request.dropped);
    const out: number[] = [];
    for (const [peer, kind] of revealed) {
      if ((kind === 'self-mask' && dropped.has(peer)) || (kind === 'mask-key' && u3.has(peer))) out.push(peer);
    }
    return out.sort((a, b) => a - b);
  }

  private refuse(e: unknown): ClientStep {
    const { code, message } = describeError(e);
    this.statusValue = 'aborted';
    this.failureValue = { code, message };
    return { kind: 'refused', code, message };
  }

  private reject(code: string, message: string): ClientStep {
    return { kind: 'rejected', code, message };
  }
}
