import { z } from 'zod';
import { completeGraph, secaggPlusGraph, roundContext, type NeighbourGraph } from '../secagg/index.js';
import { checkModulusHeadroom, createClientEncoder, DpConfigSchema, type ClientEncoder, type DpConfig } from '../dp/index.js';
import { check } from '../secagg/util/errors.js';
import { toHex, utf8 } from '../secagg/util/bytes.js';
import type { RoundMode } from './phases.js';
import { bytesCodec } from './wire/codecs.js';

/**
 * Public configuration of one round, identical at the server and at every client. Participants
 * are identified by their long-term Ed25519 public keys; inside the round participant i is the
 * i-th key of {@link RoundConfig.participants} and its Shamir x-coordinate is i + 1.
 */
export interface RoundConfig {
  /** Federation this round belongs to: 1..255 UTF-8 bytes. */
  federationId: string;
  /** Round number, an integer in [0, 2^32 − 1]. */
  round: number;
  /** Long-term Ed25519 public keys (32 bytes each, distinct) of the n ≥ 2 participants. */
  participants: readonly Uint8Array[];
  /** Shamir threshold t: shares needed to rebuild a secret; 2 ≤ t ≤ k (neighbourhood size incl. self). */
  threshold: number;
  /**
   * Quorum: fewer survivors than this at any phase aborts the round. At least `threshold`, and at
   * least `dp.minContributors` when the mechanism adds distributed noise (so the sum of the
   * survivors always carries the full noise). Defaults to the larger of the two.
   */
  minSurvivors?: number;
  /** Neighbour graph: classic SecAgg (complete) or SecAgg+ (a k-regular Harary graph, Bell et al. 2020). */
  graph: GraphSpec;
  /** `malicious` adds the consistency-check phase (clients sign U3). */
  mode: RoundMode;
  /**
   * c: how many participants the federation assumes may collude with the coordinator (default 0).
   * The Shamir threshold must exceed it (t > c), and in malicious mode the quorum must satisfy
   * 2q > n + c, so that no two disjoint groups of honest participants, each helped by the c
   * colluders who can sign both, reach the quorum on different views of U3 (split-view attack).
   */
  colluders?: number;
  /** Length of the model update each client contributes. */
  dim: number;
  /**
   * Number of integer coordinates appended to the masked vector (e.g. the example count for
   * weighted averaging); the server learns only their sum mod 2^bits.
   */
  extraCoordinates: number;
  /** The DP encoding pipeline, including the modulus 2^bits of the masked vectors. */
  dp: DpConfig;
  /** 32 public random bytes of this round: seeds the SecAgg+ graph and the DP rotation. */
  roundSeed: Uint8Array;
  /**
   * 32 bytes the coordinator binds the round to (the ledger layer's hash of this config, the cohort
   * draw, the federation's genesis and the ledger head). Every message a participant signs covers
   * it, so a participant's signatures attest what the round was bound to. The protocol treats it
   * as opaque data; a round without one signs an empty binding.
   */
  binding?: Uint8Array;
}

/** The binding every signature of the round covers: `config.binding`, or empty when the round has none. */
export function roundBinding(config: RoundConfig): Uint8Array {
  return config.binding ?? new Uint8Array(0);
}

/** `complete`: every pair are neighbours. `secagg-plus`: each participant has `degree` neighbours. */
export type GraphSpec = { kind: 'complete' } | { kind: 'secagg-plus'; degree: number };

/** Largest number of participants in one round. */
export const MAX_PARTICIPANTS = 65_536;
/** Largest model dimension accepted. */
export const MAX_DIM = 1 << 28;
/** Largest number of extra coordinates. */
export const MAX_EXTRA_COORDINATES = 64;

const GraphSpecSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('complete') }).strict(),
  z.object({ kind: z.literal('secagg-plus'), degree: z.number().int().min(1).max(MAX_PARTICIPANTS - 1) }).strict(),
]);

/**
 * JSON form of {@link RoundConfig}: keys and the round seed as lower-case hex. Decode with
 * `z.decode(RoundConfigSchema, json)` (then {@link planRound} checks the cross-field rules),
 * encode with `z.encode(RoundConfigSchema, config)`.
 */
export const RoundConfigSchema = z
  .object({
    federationId: z
      .string()
      .min(1)
      .refine((s) => utf8(s).length <= 255, 'federationId must be at most 255 UTF-8 bytes'),
    round: z.number().int().min(0).max(0xffffffff),
    participants: z.array(bytesCodec(32)).min(2).max(MAX_PARTICIPANTS),
    threshold: z.number().int().min(2),
    minSurvivors: z.number().int().min(2).optional(),
    graph: GraphSpecSchema,
    mode: z.enum(['semi-honest', 'malicious']),
    colluders: z.number().int().min(0).max(MAX_PARTICIPANTS).optional(),
    dim: z.number().int().min(1).max(MAX_DIM),
    extraCoordinates: z.number().int().min(0).max(MAX_EXTRA_COORDINATES),
    dp: DpConfigSchema,
    roundSeed: bytesCodec(32),
    binding: bytesCodec(32).optional(),
  })
  .strict();

/**
 * Everything a round derives from its config, computed once and shared (read-only) by the phase
 * modules of the server and of the clients.
 */
export interface RoundPlan {
  readonly config: RoundConfig;
  /** Number of participants. */
  readonly n: number;
  /** Shamir threshold t. */
  readonly threshold: number;
  /** Quorum at every phase. */
  readonly minSurvivors: number;
  /** c, the number of participants assumed to collude with the coordinator. */
  readonly colluders: number;
  /** Bits per masked coordinate (= dp.bits). */
  readonly bits: number;
  /** Length of the DP encoding of one update (before extra coordinates). */
  readonly encodedLength: number;
  /** Length of the masked vector: encodedLength + extraCoordinates. */
  readonly vectorLength: number;
  /** The neighbour graph. */
  readonly graph: NeighbourGraph;
  /** KDF context of this round: roundContext(federationId, round). */
  readonly kdfContext: Uint8Array;
  /** The client-side DP encoder (public parameters only; randomness is injected per call). */
  readonly encoder: ClientEncoder;
  /** Sorted [i, ...neighbours(i)]: who holds shares of i's secrets (before dropouts). */
  neighbourhood(i: number): readonly number[];
}

/**
 * Validates the cross-field rules of `config` and derives its {@link RoundPlan}. Throws
 * FedveilError `protocol/bad-config` naming the rule that fails, `dp/bad-config` for a bad DP
 * config, or `dp/modulus-overflow` when n contributions could wrap the modulus.
 */
export function planRound(config: RoundConfig): RoundPlan {
  const parsed = RoundConfigSchema.safeParse(toWireConfig(config));
  check(parsed.success, 'protocol/bad-config', () => `round config: ${z.prettifyError(parsed.error!)}`);
  const n = config.participants.length;
  const seen = new Set<string>();
  for (const pk of config.participants) {
    const h = toHex(pk);
    check(!seen.has(h), 'protocol/bad-config', () => `round config: participant key ${h} is listed twice`);
    seen.add(h);
  }
  let graph: NeighbourGraph;
  if (config.graph.kind === 'complete') {
    graph = completeGraph(n);
  } else {
    const degree = config.graph.degree;
    check(degree < n, 'protocol/bad-config', () => `round config: graph degree ${degree} must be below n = ${n}`);
    graph = secaggPlusGraph(n, degree, config.roundSeed);
  }
  const k = config.graph.kind === 'complete' ? n : config.graph.degree + 1;
  check(
    config.threshold <= k,
    'protocol/bad-config',
    () => `round config: threshold ${config.threshold} exceeds the neighbourhood size k = ${k} (neighbours + self)`,
  );
  const colluders = config.colluders ?? 0;
  check(
    config.threshold > colluders,
    'protocol/bad-config',
    () => `round config: threshold ${config.threshold} must exceed the ${colluders} assumed colluders (t > c): c Shamir shares must reveal nothing`,
  );
  const floor = quorumOf({ threshold: config.threshold, dp: config.dp, mode: config.mode, n, colluders });
  // t > c ≤ n − 1 makes q = n always satisfy 2q > n + c, so the floor exceeds n only through dp.minContributors.
  const minSurvivors = config.minSurvivors ?? floor;
  check(
    minSurvivors >= floor && minSurvivors <= n,
    'protocol/bad-config',
    () =>
      config.mode === 'malicious' && 2 * minSurvivors <= n + colluders
        ? `round config: minSurvivors ${minSurvivors} breaks the malicious-mode quorum rule 2q > n + c (n = ${n}, c = ${colluders}): two disjoint views of U3 could each reach the quorum`
        : `round config: minSurvivors ${minSurvivors} must lie in [max(threshold, dp.minContributors, malicious-mode floor) = ${floor}, n = ${n}]`,
  );
  const encoder = createClientEncoder(config.dp, config.dim, config.roundSeed);
  // The sum of up to n encodings (plus noise) must not wrap Z_2^bits: dp/modulus-overflow otherwise.
  checkModulusHeadroom(config.dp, config.dim, n);
  const neighbourhoods = new Map<number, readonly number[]>();
  return {
    config,
    n,
    threshold: config.threshold,
    minSurvivors,
    colluders,
    bits: config.dp.bits,
    encodedLength: encoder.encodedLength,
    vectorLength: encoder.encodedLength + config.extraCoordinates,
    graph,
    kdfContext: roundContext(config.federationId, config.round),
    encoder,
    neighbourhood(i: number): readonly number[] {
      let h = neighbourhoods.get(i);
      if (h === undefined) {
        h = [...graph.neighbours(i), i].sort((a, b) => a - b);
        neighbourhoods.set(i, h);
      }
      return h;
    },
  };
}

/**
 * Smallest quorum the mode allows for n participants and c colluders: in malicious mode
 * ⌊(n + c) / 2⌋ + 1, the least q with 2q > n + c (otherwise two disjoint groups of honest
 * participants, each joined by the colluders, could both reach q on different U3); 0 otherwise.
 */
export function quorumFloor(mode: RoundMode, n: number, colluders: number): number {
  return mode === 'malicious' ? Math.floor((n + colluders) / 2) + 1 : 0;
}

/**
 * The quorum of a round of `n` participants (the fewest survivors any phase may end with, unless
 * the config raises it with `minSurvivors`): its Shamir threshold, the contributors its distributed
 * noise needs, and the malicious-mode floor ({@link quorumFloor}). What a participant that has not
 * yet seen a round's config assumes it may be released with (an asynchronous group of K = n).
 */
export function quorumOf(o: { threshold: number; dp: DpConfig; mode: RoundMode; n: number; colluders: number }): number {
  const noisy = o.dp.mechanism === 'skellam' || o.dp.mechanism === 'ddg';
  return Math.max(o.threshold, noisy ? o.dp.minContributors : 0, quorumFloor(o.mode, o.n, o.colluders));
}

/** The JSON form of a config (hex for bytes). */
export function toWireConfig(config: RoundConfig): unknown {
  const { participants, roundSeed, binding, ...rest } = config;
  return {
    ...rest,
    participants: Array.isArray(participants)
      ? participants.map((p) => (p instanceof Uint8Array ? toHex(p) : p))
      : participants,
    roundSeed: roundSeed instanceof Uint8Array ? toHex(roundSeed) : roundSeed,
    ...(binding === undefined ? {} : { binding: binding instanceof Uint8Array ? toHex(binding) : binding }),
  };
}
