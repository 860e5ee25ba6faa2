import fc from 'fast-check';
import type { CryptoProvider } from '../../secagg/index.js';
import { seededRandom } from '../../secagg/util/random.js';
import { ClientRound } from '../client/client-round.js';
import { planRound, type RoundPlan } from '../config.js';
import type { ClientMessage, ServerMessage } from '../messages.js';
import { nextPhase, type Phase } from '../phases.js';
import type { ClientStep, RoundOutcome, ServerStep } from '../results.js';
import { ServerRound } from '../server/server-round.js';
import {
  clientMessageMutationArb,
  federationOf,
  mutateClientMessage,
  mutateServerMessage,
  serverMessageMutationArb,
  type ClientMessageMutation,
  type RoundSpec,
  type ServerMessageMutation,
} from './arbitraries.js';

/**
 * Model-based testing of one round (fast-check `fc.commands` / `fc.modelRun`). The model is an
 * independent, set-level statement of the protocol rules: who may submit in each phase, when a
 * phase ends, which clients refuse for lack of share holders, when the round aborts. The real
 * system is a {@link ServerRound} and its {@link ClientRound}s wired by hand. Commands deliver,
 * drop, time out, replay and corrupt messages; after every command the server must agree with the
 * model, and a completed round must have summed exactly the contributors' encodings.
 */

/** The abstract state. */
export interface RoundModel {
  readonly plan: RoundPlan;
  phase: Phase | 'done';
  /** Who may submit in the current phase. */
  expected: number[];
  /** Who has submitted in the current phase. */
  submitted: Set<number>;
  /** Clients that have an answer waiting to be delivered. */
  pending: Set<number>;
  /** Clients that went silent. */
  dropped: Set<number>;
  /** Final sets. */
  sets: { u1?: number[]; u2?: number[]; u3?: number[]; u4?: number[] };
  outcome?: 'completed' | 'aborted';
}

/** The system under test. */
export interface RoundReal {
  readonly plan: RoundPlan;
  readonly server: ServerRound;
  readonly clients: ClientRound[];
  /** Answers produced by clients, not yet delivered to the server. */
  readonly pending: Map<number, ClientMessage>;
  /** Every client message delivered so far (for replays). */
  readonly delivered: ClientMessage[];
  /** Every server message sent so far (for client-side replays). */
  readonly sent: { to: number; message: ServerMessage }[];
  /** Each client's DP encoding. */
  readonly encodings: Map<number, Uint32Array>;
  /** Each client's extra coordinates. */
  readonly extra: number[][];
  readonly dropped: Set<number>;
}

type RoundCommand = fc.Command<RoundModel, RoundReal>;

function fail(message: string): never {
  throw new Error(message);
}

function sorted(xs: Iterable<number>): number[] {
  return [...xs].sort((a, b) => a - b);
}

/** Delivers a server step's outbox to live clients and records their answers. */
function route(real: RoundReal, step: ServerStep): void {
  if (step.kind !== 'accepted') return;
  for (const { to, message } of step.outbox) {
    real.sent.push({ to, message });
    if (real.dropped.has(to)) continue;
    const answer: ClientStep = (real.clients[to] as ClientRound).receive(message);
    if (answer.kind === 'send') real.pending.set(to, answer.message);
  }
}

/** The model's phase transition: an independent statement of the protocol's rules. */
function advanceModel(m: RoundModel): void {
  const { plan } = m;
  const sub = sorted(m.submitted);
  const phase = m.phase as Phase;
  const live = (xs: number[]) => xs.filter((i) => !m.dropped.has(i));
  const holdersIn = (u: number, set: readonly number[]) => plan.neighbourhood(u).filter((v) => set.includes(v)).length;
  m.pending.clear();
  if (sub.length < plan.minSurvivors) {
    m.phase = 'done';
    m.outcome = 'aborted';
    return;
  }
  const next = nextPhase(plan.config.mode, phase);
  switch (phase) {
    case 'advertise-keys':
      m.sets.u1 = sub;
      // A client with fewer than t share holders in U1 refuses to share.
      for (const u of live(sub)) if (holdersIn(u, sub) >= plan.threshold) m.pending.add(u);
      break;
    case 'share-keys':
      m.sets.u2 = sub;
      for (const u of live(sub)) if (holdersIn(u, sub) >= plan.threshold) m.pending.add(u);
      break;
    case 'masked-input':
    case 'consistency-check':
      if (phase === 'masked-input') {
        m.sets.u3 = sub;
        // A survivor with no surviving neighbour would be unmasked alone: the server aborts.
        if (sub.some((u) => !plan.graph.neighbours(u).some((v) => sub.includes(v)))) {
          m.phase = 'done';
          m.outcome = 'aborted';
          return;
        }
      }
      for (const u of live(sub)) m.pending.add(u);
      break;
    case 'unmask': {
      m.sets.u4 = sub;
      const u2 = m.sets.u2 as number[];
      const recoverable = u2.every((v) => holdersIn(v, sub) >= plan.threshold);
      m.phase = 'done';
      m.outcome = recoverable ? 'completed' : 'aborted';
      return;
    }
  }
  m.phase = next as Phase;
  m.expected = sub;
  m.submitted = new Set();
}

/** Checks the real system against the model; throws with a description on any difference. */
export function checkAgainstModel(m: RoundModel, r: RoundReal): void {
  const status = r.server.status;
  if (status !== m.phase) fail(`server is in ${status}, model in ${m.phase}`);
  if (m.phase !== 'done') {
    const sub = r.server.submitted.join(',');
    if (sub !== sorted(m.submitted).join(',')) fail(`server has submissions [${sub}], model [${sorted(m.submitted).join(',')}]`);
    const exp = r.server.expected.join(',');
    if (exp !== m.expected.join(',')) fail(`server expects [${exp}], model [${m.expected.join(',')}]`);
    const pend = sorted(r.pending.keys()).join(',');
    if (pend !== sorted(m.pending).join(',')) fail(`pending answers from [${pend}], model predicts [${sorted(m.pending).join(',')}]`);
    return;
  }
  const outcome = r.server.outcome as RoundOutcome;
  if (outcome.status !== m.outcome) fail(`round ${outcome.status} (${outcome.status === 'aborted' ? outcome.code : ''}), model says ${m.outcome}`);
  if (outcome.status === 'completed') checkCompleted(outcome, m, r);
}

function checkCompleted(outcome: Extract<RoundOutcome, { status: 'completed' }>, m: RoundModel, r: RoundReal): void {
  for (const k of ['u1', 'u2', 'u3', 'u4'] as const) {
    if (outcome[k].join(',') !== (m.sets[k] ?? []).join(',')) fail(`${k} = [${outcome[k].join(',')}], model [${(m.sets[k] ?? []).join(',')}]`);
  }
  const { plan } = r;
  const mod = 2 ** plan.bits;
  const expected = new Array<number>(plan.encodedLength).fill(0);
  const extra = new Array<number>(plan.config.extraCoordinates).fill(0);
  for (const u of outcome.u3) {
    const e = r.encodings.get(u) ?? fail(`no encoding recorded for contributor ${u}`);
    e.forEach((x, i) => (expected[i] = ((expected[i] as number) + x) % mod));
    (r.extra[u] ?? []).forEach((x, i) => (extra[i] = ((extra[i] as number) + x) % mod));
  }
  if (Array.from(outcome.sum).join(',') !== expected.join(',')) fail('unmasked sum differs from the sum of the contributors’ encodings');
  if (Array.from(outcome.extraSums).join(',') !== extra.join(',')) fail('extra-coordinate sums differ from the contributors’ sum');
}

/** Delivers one pending answer (the `pick`-th, cyclically) to the server. */
class SubmitCommand implements RoundCommand {
  constructor(readonly pick: number) {}
  check(m: Readonly<RoundModel>): boolean {
    return m.phase !== 'done' && m.pending.size > 0;
  }
  run(m: RoundModel, r: RoundReal): void {
    const who = sorted(m.pending)[this.pick % m.pending.size] as number;
    const msg = r.pending.get(who) ?? fail(`model expects an answer from ${who}, the client has none`);
    r.pending.delete(who);
    const step = r.server.receive(msg);
    if (step.kind !== 'accepted') fail(`server rejected ${msg.type} of ${who}: ${step.code} ${step.message}`);
    r.delivered.push(msg);
    m.pending.delete(who);
    m.submitted.add(who);
    if (m.submitted.size === m.expected.length) advanceModel(m);
    route(r, step);
    checkAgainstModel(m, r);
  }
  toString(): string {
    return `submit(${this.pick})`;
  }
}

/** A client goes silent. */
class DropCommand implements RoundCommand {
  constructor(readonly pick: number) {}
  check(m: Readonly<RoundModel>): boolean {
    return m.phase !== 'done' && m.dropped.size < m.plan.n;
  }
  run(m: RoundModel, r: RoundReal): void {
    const alive = Array.from({ length: m.plan.n }, (_, i) => i).filter((i) => !m.dropped.has(i));
    const who = alive[this.pick % alive.length] as number;
    m.dropped.add(who);
    m.pending.delete(who);
    r.dropped.add(who);
    r.pending.delete(who);
    checkAgainstModel(m, r);
  }
  toString(): string {
    return `drop(${this.pick})`;
  }
}

/** The current phase's deadline passes. */
class DeadlineCommand implements RoundCommand {
  check(m: Readonly<RoundModel>): boolean {
    return m.phase !== 'done';
  }
  run(m: RoundModel, r: RoundReal): void {
    // Answers not delivered by the deadline are lost: the server never sees them.
    r.pending.clear();
    const step = r.server.deadline();
    if (step.kind !== 'accepted') fail(`deadline rejected: ${step.code}`);
    advanceModel(m);
    route(r, step);
    checkAgainstModel(m, r);
  }
  toString(): string {
    return 'deadline';
  }
}

/** A corrupted copy of a pending or delivered client message reaches the server. */
class CorruptToServerCommand implements RoundCommand {
  constructor(
    readonly pick: number,
    readonly mutation: ClientMessageMutation,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: RoundModel, r: RoundReal): void {
    const pool = [...r.pending.values(), ...r.delivered];
    if (pool.length === 0) return;
    const base = pool[this.pick % pool.length] as ClientMessage;
    const step = r.server.receive(mutateClientMessage(base, this.mutation, m.plan.n) as ClientMessage);
    if (step.kind !== 'rejected') fail(`server accepted a corrupted ${base.type} (${this.mutation.kind})`);
    checkAgainstModel(m, r);
  }
  toString(): string {
    return `corruptToServer(${this.pick}, ${JSON.stringify(this.mutation.kind)})`;
  }
}

/** An already delivered client message is delivered again. */
class ReplayToServerCommand implements RoundCommand {
  constructor(readonly pick: number) {}
  check(): boolean {
    return true;
  }
  run(m: RoundModel, r: RoundReal): void {
    if (r.delivered.length === 0) return;
    const msg = r.delivered[this.pick % r.delivered.length] as ClientMessage;
    const step = r.server.receive(msg);
    if (step.kind !== 'rejected') fail(`server accepted a replayed ${msg.type} of ${msg.header.sender}`);
    checkAgainstModel(m, r);
  }
  toString(): string {
    return `replayToServer(${this.pick})`;
  }
}

/** A corrupted copy of a server message reaches a client; the client must ignore it. */
class CorruptToClientCommand implements RoundCommand {
  constructor(
    readonly pick: number,
    readonly mutation: ServerMessageMutation,
  ) {}
  check(): boolean {
    return true;
  }
  run(m: RoundModel, r: RoundReal): void {
    if (r.sent.length === 0) return;
    const { to, message } = r.sent[this.pick % r.sent.length] as { to: number; message: ServerMessage };
    const client = r.clients[to] as ClientRound;
    const before = `${client.status}/${client.failure?.code ?? ''}/${client.revealed.size}`;
    const step = client.receive(mutateServerMessage(message, this.mutation) as ServerMessage);
    if (step.kind !== 'rejected') fail(`client ${to} did not reject a corrupted ${message.type} (${this.mutation.kind}): ${step.kind}`);
    const after = `${client.status}/${client.failure?.code ?? ''}/${client.revealed.size}`;
    if (before !== after) fail(`client ${to} changed state on a rejected message: ${before} → ${after}`);
    checkAgainstModel(m, r);
  }
  toString(): string {
    return `corruptToClient(${this.pick}, ${JSON.stringify(this.mutation.kind)})`;
  }
}

/** The commands the harness draws from. */
export function roundCommandsArb(maxCommands = 60): fc.Arbitrary<Iterable<RoundCommand>> {
  return fc.commands(
    [
      fc.nat().map((p) => new SubmitCommand(p)),
      fc.nat().map((p) => new SubmitCommand(p)),
      fc.nat().map((p) => new SubmitCommand(p)),
      fc.nat().map((p) => new DropCommand(p)),
      fc.constant(new DeadlineCommand()),
      fc.tuple(fc.nat(), clientMessageMutationArb()).map(([p, mu]) => new CorruptToServerCommand(p, mu)),
      fc.nat().map((p) => new ReplayToServerCommand(p)),
      fc.tuple(fc.nat(), serverMessageMutationArb()).map(([p, mu]) => new CorruptToClientCommand(p, mu)),
    ],
    { maxCommands },
  );
}

/** Inputs of one harness run. */
export interface HarnessData {
  inputs: Float32Array[];
  extra: number[][];
}

/** Builds the model and the real system for `spec` (clients already advertised their keys). */
export function setupRound(spec: RoundSpec, data: HarnessData, provider?: CryptoProvider): { model: RoundModel; real: RoundReal } {
  const fed = federationOf(spec, provider);
  const plan = planRound(fed.config);
  const encodings = new Map<number, Uint32Array>();
  const server = new ServerRound(plan, { rng: seededRandom(`${spec.seed}/server`), ...(provider ? { provider } : {}) });
  const clients = fed.identities.map(
    (id, index) =>
      new ClientRound(plan, {
        index,
        identitySecretKey: id.secretKey,
        input: data.inputs[index] as Float32Array,
        extra: data.extra[index] ?? [],
        rng: seededRandom(`${spec.seed}/client/${index}`),
        observeEncoding: (e) => encodings.set(index, Uint32Array.from(e)),
        ...(provider ? { provider } : {}),
      }),
  );
  const pending = new Map<number, ClientMessage>();
  clients.forEach((c, i) => {
    const s = c.start();
    if (s.kind === 'send') pending.set(i, s.message);
  });
  const all = Array.from({ length: plan.n }, (_, i) => i);
  const model: RoundModel = {
    plan,
    phase: 'advertise-keys',
    expected: all,
    submitted: new Set(),
    pending: new Set(all),
    dropped: new Set(),
    sets: {},
  };
  const real: RoundReal = { plan, server, clients, pending, delivered: [], sent: [], encodings, extra: data.extra, dropped: new Set() };
  return { model, real };
}

/**
 * Runs `commands` against a fresh round, then drives the round to its end (every pending answer
 * delivered, deadlines as needed), checking the server against the model after every step.
 * Throws on the first disagreement.
 */
export function runRoundModel(spec: RoundSpec, data: HarnessData, commands: Iterable<RoundCommand>, provider?: CryptoProvider): RoundOutcome {
  const setup = () => setupRound(spec, data, provider);
  let last: { model: RoundModel; real: RoundReal } | undefined;
  fc.modelRun(() => (last = setup()), commands);
  const { model, real } = last as { model: RoundModel; real: RoundReal };
  for (let guard = 0; model.phase !== 'done'; guard++) {
    if (guard > 10 * (model.plan.n + 5)) fail('round did not finish');
    if (model.pending.size > 0) new SubmitCommand(0).run(model, real);
    else new DeadlineCommand().run(model, real);
  }
  return real.server.outcome as RoundOutcome;
}
