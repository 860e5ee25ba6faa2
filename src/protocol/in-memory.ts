import type { CryptoProvider } from '../secagg/index.js';
import type { RandomSource } from '../secagg/util/random.js';
import { ClientRound } from './client/client-round.js';
import { planRound, type RoundConfig, type RoundPlan } from './config.js';
import { SERVER_MESSAGE_PHASE, type ClientMessage, type ServerMessage } from './messages.js';
import { PHASES, type Phase } from './phases.js';
import type { ClientStep, RoundOutcome, ServerStep } from './results.js';
import { ServerRound } from './server/server-round.js';

/** One participant of an in-memory round. */
export interface InMemoryParticipant {
  /** Long-term Ed25519 secret key (32-byte seed) of `config.participants[i]`. */
  identitySecretKey: Uint8Array;
  /** Its update, or a function producing it when the masked-input phase begins. */
  input: Float32Array | (() => Float32Array);
  /** Its extra coordinates. */
  extra?: readonly number[];
  /** Its random source. */
  rng: RandomSource;
}

/**
 * Dropout schedule: participant index → the first phase whose message it does not send (it stays
 * silent from then on). Participants not listed complete the round.
 */
export type DropoutSchedule = ReadonlyMap<number, Phase>;

/** What an instrumented call is doing. */
export interface InstrumentTarget {
  role: 'client' | 'server';
  phase: Phase;
  /** The client's index (clients only). */
  index?: number;
}

/** Options of {@link runRoundInMemory}. */
export interface InMemoryOptions {
  config: RoundConfig | RoundPlan;
  /** Participant i of the config; entries may be undefined for participants that never show up. */
  participants: readonly (InMemoryParticipant | undefined)[];
  /** Randomness of the server (central-DP noise at decode). */
  serverRng: RandomSource;
  dropouts?: DropoutSchedule;
  provider?: CryptoProvider;
  /** Delivery order of the client messages of one phase (a permutation of `senders`); default ascending. */
  order?: (phase: Phase, senders: readonly number[]) => readonly number[];
  /** Wraps every state-machine call, e.g. to measure CPU time per phase. */
  instrument?: <T>(target: InstrumentTarget, work: () => T) => T;
  /** Receives each client's DP encoding before masking. */
  observeEncoding?: (index: number, encoding: Uint32Array) => void;
  /** Called once with the server and clients before the round starts (e.g. to sample memory). */
  onStart?: (server: ServerRound, clients: readonly (ClientRound | undefined)[]) => void;
}

/** Shares the server received, by owner: which holders revealed which kind. */
export interface RevealedByOwner {
  selfMask: number[];
  maskKey: number[];
}

/** Result of {@link runRoundInMemory}. */
export interface InMemoryResult {
  outcome: RoundOutcome;
  server: ServerRound;
  clients: readonly (ClientRound | undefined)[];
  /** Every client step that was not a `send` (refusals, rejections, abort notices), in order. */
  clientEvents: { index: number; step: ClientStep }[];
  /** Every server step that was `rejected`. */
  serverRejections: { from: number; step: ServerStep }[];
  /** Shares delivered to the server, by the peer they belong to. */
  revealed: Map<number, RevealedByOwner>;
}

/**
 * Runs one round with all participants and the server in this process: clients and server talk
 * only through their messages, dropped participants stop sending at their scheduled phase, and a
 * phase whose expected senders did not all answer ends with the server's `deadline()`. Used by the
 * tests, the property harness and the benchmarks.
 */
export function runRoundInMemory(options: InMemoryOptions): InMemoryResult {
  const plan = 'encoder' in options.config ? options.config : planRound(options.config);
  const instrument = options.instrument ?? (<T>(_t: InstrumentTarget, work: () => T): T => work());
  const dropouts = options.dropouts ?? new Map<number, Phase>();
  const silentAt = (i: number, phase: Phase): boolean => {
    const d = dropouts.get(i);
    return d !== undefined && PHASES.indexOf(phase) >= PHASES.indexOf(d);
  };
  const server = new ServerRound(plan, { rng: options.serverRng, ...(options.provider ? { provider: options.provider } : {}) });
  const clients = options.participants.map((p, index) =>
    p === undefined
      ? undefined
      : new ClientRound(plan, {
          index,
          identitySecretKey: p.identitySecretKey,
          input: p.input,
          rng: p.rng,
          ...(p.extra ? { extra: p.extra } : {}),
          ...(options.provider ? { provider: options.provider } : {}),
          ...(options.observeEncoding ? { observeEncoding: (e: Uint32Array) => options.observeEncoding?.(index, e) } : {}),
        }),
  );
  options.onStart?.(server, clients);
  const clientEvents: InMemoryResult['clientEvents'] = [];
  const serverRejections: InMemoryResult['serverRejections'] = [];
  const revealed = new Map<number, RevealedByOwner>();

  let outbound = new Map<number, ClientMessage>();
  const collect = (index: number, step: ClientStep): void => {
    if (step.kind === 'send') outbound.set(index, step.message);
    else clientEvents.push({ index, step });
  };
  clients.forEach((c, i) => {
    if (c && !silentAt(i, 'advertise-keys')) collect(i, instrument({ role: 'client', phase: 'advertise-keys', index: i }, () => c.start()));
  });

  for (;;) {
    const phase = server.status;
    if (phase === 'done') break;
    const senders = [...outbound.keys()].sort((a, b) => a - b);
    const order = options.order ? options.order(phase, senders) : senders;
    let last: ServerStep | undefined;
    for (const i of order) {
      const msg = outbound.get(i) as ClientMessage;
      if (msg.type === 'unmask') recordRevealed(revealed, i, msg);
      const step = instrument({ role: 'server', phase }, () => server.receive(msg));
      if (step.kind === 'rejected') serverRejections.push({ from: i, step });
      else last = step;
    }
    outbound = new Map();
    if (server.status === phase) last = instrument({ role: 'server', phase }, () => server.deadline());
    if (!last || last.kind !== 'accepted') break;
    for (const { to, message } of last.outbox) deliver(to, message);
  }

  function deliver(to: number, message: ServerMessage): void {
    const c = clients[to];
    if (!c) return;
    if (message.type !== 'round-aborted') {
      const phase = SERVER_MESSAGE_PHASE[message.type];
      if (silentAt(to, phase)) return;
      collect(to, instrument({ role: 'client', phase, index: to }, () => c.receive(message)));
    } else {
      collect(to, c.receive(message));
    }
  }

  return { outcome: server.outcome as RoundOutcome, server, clients, clientEvents, serverRejections, revealed };
}

function recordRevealed(revealed: Map<number, RevealedByOwner>, holder: number, msg: Extract<ClientMessage, { type: 'unmask' }>): void {
  const get = (owner: number): RevealedByOwner => {
    let r = revealed.get(owner);
    if (!r) revealed.set(owner, (r = { selfMask: [], maskKey: [] }));
    return r;
  };
  for (const s of msg.selfMaskShares) get(s.peer).selfMask.push(holder);
  for (const s of msg.maskKeyShares) get(s.peer).maskKey.push(holder);
}
