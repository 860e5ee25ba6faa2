import fc from 'fast-check';
import { checkModulusHeadroom, type DpConfig } from '../../dp/index.js';
import type { CryptoProvider } from '../../secagg/index.js';
import { quorumFloor, type GraphSpec } from '../config.js';
import type { DropoutSchedule } from '../in-memory.js';
import type { ClientMessage, ServerMessage } from '../messages.js';
import { phasesOf, PHASES, type Phase, type RoundMode } from '../phases.js';
import { testFederation, type TestFederation } from './fixtures.js';

/** A round's shape, before keys are made: what the arbitraries draw. */
export interface RoundSpec {
  n: number;
  threshold: number;
  minSurvivors: number;
  graph: GraphSpec;
  mode: RoundMode;
  /** c, participants assumed to collude with the coordinator: 0 ≤ c < threshold. */
  colluders: number;
  dim: number;
  extraCoordinates: number;
  dp: DpConfig;
  seed: number;
}

/** Bounds of {@link roundSpecArb}. */
export interface RoundSpecBounds {
  minN?: number;
  maxN?: number;
  maxDim?: number;
  maxExtra?: number;
  modes?: readonly RoundMode[];
  /** Allow SecAgg+ sparse graphs (default true). */
  sparse?: boolean;
  /** DP mechanisms to draw from (default none and skellam). */
  mechanisms?: readonly ('none' | 'skellam' | 'ddg')[];
  /** Smallest modulus bit width (default 12: below that no n ≥ 3 sum fits the headroom check). */
  minBits?: number;
}

/**
 * The smallest γ = 2^j (j ≥ −30) for which `dp` passes the modulus-headroom check with n
 * contributors of dimension `dim`, so every drawn config is one the protocol accepts.
 */
export function fitScale(dp: Omit<DpConfig, 'scale'>, dim: number, n: number): DpConfig {
  for (let j = -30; j <= 60; j++) {
    const candidate = { ...dp, scale: 2 ** j } as DpConfig;
    try {
      checkModulusHeadroom(candidate, dim, n);
      return candidate;
    } catch {
      // too fine a scale for this modulus: try a coarser one
    }
  }
  throw new Error(`no scale fits ${dp.bits} bits for n = ${n}, dim = ${dim}`);
}

/** Neighbour graphs valid for n participants: complete, or SecAgg+ with an allowed degree. */
export function graphArb(n: number, sparse = true): fc.Arbitrary<GraphSpec> {
  const complete = fc.constant<GraphSpec>({ kind: 'complete' });
  // A Harary graph needs an even degree when n is odd; degree n − 1 is the complete graph.
  const degrees = Array.from({ length: Math.max(0, n - 3) }, (_, i) => i + 2).filter((k) => n % 2 === 0 || k % 2 === 0);
  if (!sparse || degrees.length === 0) return complete;
  return fc.oneof(complete, fc.constantFrom(...degrees).map((degree): GraphSpec => ({ kind: 'secagg-plus', degree })));
}

/** Round shapes: n participants, threshold, quorum, graph, mode, dimensions and a DP config that fits. */
export function roundSpecArb(bounds: RoundSpecBounds = {}): fc.Arbitrary<RoundSpec> {
  const minN = bounds.minN ?? 3;
  const maxN = bounds.maxN ?? 8;
  const mechanisms = bounds.mechanisms ?? ['none', 'skellam'];
  return fc.integer({ min: minN, max: maxN }).chain((n) =>
    graphArb(n, bounds.sparse ?? true).chain((graph) => {
      const k = graph.kind === 'complete' ? n : graph.degree + 1;
      return fc
        .record({
          threshold: fc.integer({ min: 2, max: k }),
          extraQuorum: fc.nat(n),
          colluderDraw: fc.nat(),
          mode: fc.constantFrom(...(bounds.modes ?? (['semi-honest', 'malicious'] as const))),
          dim: fc.integer({ min: 1, max: bounds.maxDim ?? 16 }),
          extraCoordinates: fc.integer({ min: 0, max: bounds.maxExtra ?? 2 }),
          bits: fc.integer({ min: bounds.minBits ?? 12, max: 32 }),
          mechanism: fc.constantFrom(...mechanisms),
          rotation: fc.boolean(),
          noiseMultiplier: fc.double({ min: 0.3, max: 2, noNaN: true }),
          seed: fc.nat(),
        })
        .filter(({ threshold, colluderDraw, mode }) => quorumFloor(mode, n, colluderDraw % threshold) <= n)
        .map(({ threshold, extraQuorum, colluderDraw, mode, dim, extraCoordinates, bits, mechanism, rotation, noiseMultiplier, seed }) => {
          const colluders = colluderDraw % threshold;
          // The least quorum the protocol accepts (2q > n + c in malicious mode), then anything up to n.
          const floor = Math.max(threshold, quorumFloor(mode, n, colluders));
          const minSurvivors = floor + (extraQuorum % (n - floor + 1));
          const dp = fitScale(
            {
              mechanism,
              clipNorm: 1,
              bits,
              rotation,
              noiseMultiplier: mechanism === 'none' ? 0 : noiseMultiplier,
              minContributors: mechanism === 'none' ? 1 : threshold,
            },
            dim,
            n,
          );
          return { n, threshold, minSurvivors, graph, mode, colluders, dim, extraCoordinates, dp, seed };
        });
    }),
  );
}

/** The federation (keys, config) of a spec. */
export function federationOf(spec: RoundSpec, provider?: CryptoProvider): TestFederation {
  return testFederation({
    n: spec.n,
    threshold: spec.threshold,
    minSurvivors: spec.minSurvivors,
    graph: spec.graph,
    mode: spec.mode,
    colluders: spec.colluders,
    dim: spec.dim,
    extraCoordinates: spec.extraCoordinates,
    dp: spec.dp,
    seed: spec.seed,
    ...(provider ? { provider } : {}),
  });
}

/** One participant's update (length `dim`, finite values in [−2, 2]). */
export function inputArb(dim: number): fc.Arbitrary<Float32Array> {
  return fc.float32Array({ minLength: dim, maxLength: dim, min: -2, max: 2, noNaN: true, noDefaultInfinity: true });
}

/** Updates and extra coordinates for all participants of `spec`. */
export function inputsArb(spec: RoundSpec): fc.Arbitrary<{ inputs: Float32Array[]; extra: number[][] }> {
  return fc.record({
    inputs: fc.array(inputArb(spec.dim), { minLength: spec.n, maxLength: spec.n }),
    extra: fc.array(
      fc.array(fc.integer({ min: 0, max: 2 ** spec.dp.bits - 1 }), { minLength: spec.extraCoordinates, maxLength: spec.extraCoordinates }),
      { minLength: spec.n, maxLength: spec.n },
    ),
  });
}

/**
 * Dropout schedules: each participant independently completes the round or stops before one of
 * the phases of `mode` (weighted towards completing, so that most schedules keep a quorum).
 */
export function dropoutScheduleArb(n: number, mode: RoundMode): fc.Arbitrary<DropoutSchedule> {
  const phases = phasesOf(mode);
  const one = fc.oneof(
    { arbitrary: fc.constant<Phase | undefined>(undefined), weight: 3 },
    { arbitrary: fc.constantFrom<Phase | undefined>(...phases), weight: 1 },
  );
  return fc.array(one, { minLength: n, maxLength: n }).map((xs) => {
    const m = new Map<number, Phase>();
    xs.forEach((p, i) => {
      if (p !== undefined) m.set(i, p);
    });
    return m;
  });
}

/** Delivery orders: per phase, an arbitrary permutation of that phase's senders. */
export function messageOrderArb(): fc.Arbitrary<(phase: Phase, senders: readonly number[]) => readonly number[]> {
  return fc.array(fc.nat(), { minLength: 8, maxLength: 64 }).map((keys) => {
    const order = (phase: Phase, senders: readonly number[]): readonly number[] => {
      const p = PHASES.indexOf(phase);
      const key = (i: number): number => keys[(i * 7 + p * 13) % keys.length] as number;
      return [...senders].sort((a, b) => key(a) - key(b) || a - b);
    };
    order.toString = () => `order(keys=[${keys.join(',')}])`;
    return order;
  });
}

/**
 * Who is alive at each phase under `schedule`, and whether the schedule keeps the round
 * recoverable: every phase keeps the quorum, and every participant that shared its secrets keeps
 * at least t share holders alive until the end. Under such a schedule an honest round completes.
 */
export function scheduleOutlook(
  spec: Pick<RoundSpec, 'n' | 'threshold' | 'minSurvivors' | 'mode'>,
  neighbourhood: (i: number) => readonly number[],
  schedule: DropoutSchedule,
): { alive: Map<Phase, number[]>; keepsQuorum: boolean; firstShortPhase: Phase | undefined; recoverable: boolean } {
  const phases = phasesOf(spec.mode);
  const alive = new Map<Phase, number[]>();
  for (const p of phases) {
    alive.set(
      p,
      Array.from({ length: spec.n }, (_, i) => i).filter((i) => {
        const d = schedule.get(i);
        return d === undefined || PHASES.indexOf(p) < PHASES.indexOf(d);
      }),
    );
  }
  const firstShortPhase = phases.find((p) => (alive.get(p) as number[]).length < spec.minSurvivors);
  const last = new Set(alive.get(phases[phases.length - 1] as Phase));
  const sharers = alive.get('share-keys') as number[];
  const recoverable =
    firstShortPhase === undefined && sharers.every((u) => neighbourhood(u).filter((v) => last.has(v)).length >= spec.threshold);
  return { alive, keepsQuorum: firstShortPhase === undefined, firstShortPhase, recoverable };
}

/** Ways to spoil a client message so that the server must reject it. */
export type ClientMessageMutation =
  | { kind: 'junk'; value: unknown }
  | { kind: 'version' | 'federation' | 'round' | 'phase-label' | 'sender' | 'signature' | 'extra-field' | 'truncate-signature' }
  | { kind: 'vector-bit'; bit: number };

/** Arbitrary {@link ClientMessageMutation}s. */
export function clientMessageMutationArb(): fc.Arbitrary<ClientMessageMutation> {
  return fc.oneof(
    fc.anything().map((value): ClientMessageMutation => ({ kind: 'junk', value })),
    fc.constantFrom<ClientMessageMutation>(
      { kind: 'version' },
      { kind: 'federation' },
      { kind: 'round' },
      { kind: 'phase-label' },
      { kind: 'sender' },
      { kind: 'signature' },
      { kind: 'extra-field' },
      { kind: 'truncate-signature' },
    ),
    fc.nat(1 << 20).map((bit): ClientMessageMutation => ({ kind: 'vector-bit', bit })),
  );
}

function otherPhase(p: Phase): Phase {
  return PHASES[(PHASES.indexOf(p) + 1) % PHASES.length] as Phase;
}

/** `msg` spoiled by `m` (a new object; `msg` is not modified). */
export function mutateClientMessage(msg: ClientMessage, m: ClientMessageMutation, n: number): unknown {
  const header = { ...msg.header };
  const flip = (b: Uint8Array, bit = 0): Uint8Array => {
    const c = Uint8Array.from(b);
    if (c.length > 0) c[(bit >> 3) % c.length] = ((c[(bit >> 3) % c.length] as number) ^ (1 << (bit & 7))) & 0xff;
    return c;
  };
  switch (m.kind) {
    case 'junk':
      return m.value;
    case 'version':
      return { ...msg, header: { ...header, version: header.version + 1 } };
    case 'federation':
      return { ...msg, header: { ...header, federationId: header.federationId + '-other' } };
    case 'round':
      return { ...msg, header: { ...header, round: header.round === 0 ? 1 : header.round - 1 } };
    case 'phase-label':
      return { ...msg, header: { ...header, phase: otherPhase(header.phase) } };
    case 'sender':
      return { ...msg, header: { ...header, sender: (header.sender + 1) % n } };
    case 'signature':
      return { ...msg, signature: flip(msg.signature) };
    case 'extra-field':
      return { ...msg, unexpected: true };
    case 'truncate-signature':
      return { ...msg, signature: msg.signature.subarray(0, 63) };
    case 'vector-bit':
      return msg.type === 'masked-input' ? { ...msg, vector: flip(msg.vector, m.bit) } : { ...msg, signature: flip(msg.signature, m.bit) };
  }
}

/** Ways to spoil a server message so that a client must reject it without changing state. */
export type ServerMessageMutation =
  | { kind: 'junk'; value: unknown }
  | { kind: 'version' | 'federation' | 'round' | 'phase-label' | 'extra-field' | 'unsorted-list' | 'index-overflow' };

/** Arbitrary {@link ServerMessageMutation}s. */
export function serverMessageMutationArb(): fc.Arbitrary<ServerMessageMutation> {
  return fc.oneof(
    fc.anything().map((value): ServerMessageMutation => ({ kind: 'junk', value })),
    fc.constantFrom<ServerMessageMutation>(
      { kind: 'version' },
      { kind: 'federation' },
      { kind: 'round' },
      { kind: 'phase-label' },
      { kind: 'extra-field' },
      { kind: 'unsorted-list' },
      { kind: 'index-overflow' },
    ),
  );
}

/** `msg` spoiled by `m` so that it fails the schema or the header checks (a new object). */
export function mutateServerMessage(msg: ServerMessage, m: ServerMessageMutation): unknown {
  const header = { ...msg.header };
  const listKey = (['u1', 'u2', 'u3'] as const).find((k) => k in msg) as 'u1' | 'u2' | 'u3' | undefined;
  switch (m.kind) {
    case 'junk':
      return m.value;
    case 'version':
      return { ...msg, header: { ...header, version: header.version + 1 } };
    case 'federation':
      return { ...msg, header: { ...header, federationId: header.federationId + '-other' } };
    case 'round':
      return { ...msg, header: { ...header, round: header.round + 1 } };
    case 'phase-label':
      // A round-aborted notice may name any phase, so only an unknown one spoils it.
      return { ...msg, header: { ...header, phase: msg.type === 'round-aborted' ? 'bogus' : otherPhase(header.phase) } };
    case 'extra-field':
      return { ...msg, unexpected: 1 };
    case 'unsorted-list': {
      if (!listKey) return { ...msg, header: { ...header, round: -1 } };
      const list = (msg as unknown as Record<string, number[]>)[listKey] as number[];
      return { ...msg, [listKey]: list.length === 0 ? [1, 0] : [...list, list[0]] };
    }
    case 'index-overflow': {
      if (!listKey) return { ...msg, header: { ...header, round: 2 ** 33 } };
      return { ...msg, [listKey]: [70_000] };
    }
  }
}
