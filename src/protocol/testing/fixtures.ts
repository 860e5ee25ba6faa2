import { defaultProvider, type CryptoProvider, type KeyPair } from '../../secagg/index.js';
import { seededRandom } from '../../secagg/util/random.js';
import type { DpConfig } from '../../dp/index.js';
import type { GraphSpec, RoundConfig } from '../config.js';
import type { InMemoryParticipant } from '../in-memory.js';
import type { RoundMode } from '../phases.js';

/** Options of {@link testFederation}. */
export interface TestFederationOptions {
  n: number;
  threshold: number;
  minSurvivors?: number;
  graph?: GraphSpec;
  mode?: RoundMode;
  /** c, the participants assumed to collude with the coordinator (default 0). */
  colluders?: number;
  dim: number;
  extraCoordinates?: number;
  /** DP config; default: no noise, no rotation, γ = 1, C = 1e6, 32 bits. */
  dp?: Partial<DpConfig>;
  federationId?: string;
  round?: number;
  /** Everything (identities, round seed, client randomness) is derived from this seed. */
  seed: string | number;
  provider?: CryptoProvider;
}

/** A reproducible federation for tests and benchmarks. NOT for deployments: its keys derive from a public seed. */
export interface TestFederation {
  config: RoundConfig;
  identities: KeyPair[];
  /** In-memory participants with the given inputs (and extra coordinates) and seeded randomness. */
  participants(inputs: readonly (Float32Array | (() => Float32Array))[], extra?: readonly (readonly number[])[]): InMemoryParticipant[];
}

/** The DP config used by {@link testFederation} unless overridden: exact integer encoding, no noise. */
export const EXACT_DP: DpConfig = {
  mechanism: 'none',
  clipNorm: 1e6,
  bits: 32,
  scale: 1,
  rotation: false,
  noiseMultiplier: 0,
  minContributors: 1,
};

/** Builds a federation whose every key and random draw derives from `opts.seed`. */
export function testFederation(opts: TestFederationOptions): TestFederation {
  const provider = opts.provider ?? defaultProvider;
  const identities = Array.from({ length: opts.n }, (_, i) => provider.ed25519Keygen(seededRandom(`${opts.seed}/identity/${i}`)));
  const config: RoundConfig = {
    federationId: opts.federationId ?? 'test-federation',
    round: opts.round ?? 1,
    participants: identities.map((k) => k.publicKey),
    threshold: opts.threshold,
    ...(opts.minSurvivors !== undefined ? { minSurvivors: opts.minSurvivors } : {}),
    graph: opts.graph ?? { kind: 'complete' },
    mode: opts.mode ?? 'semi-honest',
    ...(opts.colluders !== undefined ? { colluders: opts.colluders } : {}),
    dim: opts.dim,
    extraCoordinates: opts.extraCoordinates ?? 0,
    dp: { ...EXACT_DP, ...opts.dp },
    roundSeed: seededRandom(`${opts.seed}/round-seed`).fill(new Uint8Array(32)),
  };
  return {
    config,
    identities,
    participants(inputs, extra) {
      return identities.map((id, i) => ({
        identitySecretKey: id.secretKey,
        input: inputs[i] as Float32Array | (() => Float32Array),
        ...(extra ? { extra: extra[i] as readonly number[] } : {}),
        rng: seededRandom(`${opts.seed}/client/${i}`),
      }));
    },
  };
}
