import { z } from 'zod';
import { FedveilError, check } from '../secagg/util/errors.js';
import { nextPowerOfTwo } from './encoding/hadamard.js';
import { DEFAULT_BETA, roundedL2NormBound } from './encoding/rounding.js';

/** Noise mechanism of a federation: distributed Skellam, distributed discrete Gaussian, central Gaussian, or none. */
export type DpMechanism = 'skellam' | 'ddg' | 'central' | 'none';

/** One validated configuration for the whole encoding pipeline (see spec/dp.md). */
export interface DpConfig {
  /** Noise mechanism. 'central' adds continuous Gaussian noise at the coordinator after unmasking. */
  mechanism: DpMechanism;
  /** L2 clip norm C (> 0), in update units. */
  clipNorm: number;
  /** The aggregate lives in Z_{2^bits}; 1..32. */
  bits: number;
  /** γ: one integer step equals γ update units (every mechanism encodes to integers for masking). */
  scale: number;
  /** Apply the randomized Hadamard rotation (pads to a power of two). */
  rotation: boolean;
  /** z: the total noise standard deviation is z·C in update units (0 for 'none'). */
  noiseMultiplier: number;
  /** t: each client adds 1/t of the integer noise variance, so any t contributors carry the full noise. */
  minContributors: number;
  /** Conditional rounding parameter β in [0, 1) (KLS 2021); default e^{-1/2}; 0 disables conditioning. */
  beta?: number;
}

/** zod schema of {@link DpConfig}; every field range-checked, with cross-field rules. */
export const DpConfigSchema: z.ZodType<DpConfig> = z
  .object({
    mechanism: z.enum(['skellam', 'ddg', 'central', 'none']),
    clipNorm: z.number().positive().finite(),
    bits: z.number().int().min(1).max(32),
    scale: z.number().positive().finite(),
    rotation: z.boolean(),
    noiseMultiplier: z.number().min(0).finite(),
    minContributors: z.number().int().min(1),
    beta: z.number().min(0).lt(1).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.mechanism === 'none' && c.noiseMultiplier !== 0) {
      ctx.addIssue({ code: 'custom', path: ['noiseMultiplier'], message: "must be 0 when mechanism is 'none'" });
    }
    if (c.mechanism !== 'none' && c.noiseMultiplier === 0) {
      ctx.addIssue({ code: 'custom', path: ['noiseMultiplier'], message: `must be > 0 for mechanism '${c.mechanism}'` });
    }
  });

/** Validates `input` as a {@link DpConfig}; throws FedveilError('dp/bad-config') naming each bad field. */
export function parseDpConfig(input: unknown): DpConfig {
  const r = DpConfigSchema.safeParse(input);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new FedveilError('dp/bad-config', `invalid DP config: ${msg}`);
  }
  return r.data;
}

/** β in effect for `config`. */
export function effectiveBeta(config: DpConfig): number {
  return config.beta ?? DEFAULT_BETA;
}

/** Length of the encoded vector: `dim`, padded to a power of two when rotating. */
export function encodedLength(config: DpConfig, dim: number): number {
  check(Number.isSafeInteger(dim) && dim >= 1, 'dp/bad-dimension', `dimension must be a positive integer, got ${dim}`);
  return config.rotation ? nextPowerOfTwo(dim) : dim;
}

/** Integer-domain quantities derived from a config, shared by the encoder, decoder, events and headroom check. */
export interface IntegerNoiseParameters {
  /** Encoded length (padded when rotating). */
  paddedDim: number;
  /** L2 bound of one client's rounded vector in integer units (KLS 2021 Thm 1). */
  l2Bound: number;
  /** Standard deviation of the full noise in integer units: z·C/γ. */
  centralStddev: number;
  /** Skellam: Poisson mean per side that each client adds, (z·C/γ)² / (2t). */
  localSkellamMu: number;
  /** Discrete Gaussian: standard deviation each client adds, (z·C/γ) / √t. */
  localDdgSigma: number;
}

/** Derives the integer-domain parameters of `config` for vectors of length `dim`. */
export function integerNoiseParameters(config: DpConfig, dim: number): IntegerNoiseParameters {
  const paddedDim = encodedLength(config, dim);
  const centralStddev = (config.noiseMultiplier * config.clipNorm) / config.scale;
  const t = config.minContributors;
  return {
    paddedDim,
    l2Bound: roundedL2NormBound(config.clipNorm / config.scale, effectiveBeta(config), paddedDim),
    centralStddev,
    localSkellamMu: config.mechanism === 'skellam' ? (centralStddev * centralStddev) / (2 * t) : 0,
    localDdgSigma: config.mechanism === 'ddg' ? centralStddev / Math.sqrt(t) : 0,
  };
}

/** log(1/p) of the wrap-around failure probability the headroom check allows per decoded vector: p = 2^-40. */
export const HEADROOM_LOG_FAILURE = 40 * Math.LN2;

/**
 * The largest absolute value the centred aggregate may reach with `contributors` clients, under the
 * bound documented in spec/dp.md:
 *
 *   signal: n·B, deterministic — each coordinate of a rounded vector is at most its L2 norm B.
 *   noise:  x with P(|noise| >= x) <= 2^-40 / d per coordinate (union bound over d coordinates).
 *     Skellam, total variance V = n·2μ_local: Bennett, P(|S| >= x) <= 2 exp(-x² / (2(V + x/3))),
 *       so x = L/3 + sqrt(L²/9 + 2LV) with L = ln(2d·2^40).
 *     Discrete Gaussian (σ²-subgaussian, CKS 2020), V = n·σ_local²: x = sqrt(2LV).
 *     Central/none: no integer noise in the aggregate.
 */
export function aggregateMagnitudeBound(config: DpConfig, dim: number, contributors: number): number {
  config = parseDpConfig(config);
  const p = integerNoiseParameters(config, dim);
  const signal = contributors * p.l2Bound;
  const L = Math.log(2 * p.paddedDim) + HEADROOM_LOG_FAILURE;
  let noise = 0;
  if (config.mechanism === 'skellam') {
    const V = contributors * 2 * p.localSkellamMu;
    noise = L / 3 + Math.sqrt((L * L) / 9 + 2 * L * V);
  } else if (config.mechanism === 'ddg') {
    const V = contributors * p.localDdgSigma * p.localDdgSigma;
    noise = Math.sqrt(2 * L * V);
  }
  return signal + noise;
}

/**
 * Refuses a configuration whose aggregate of up to `maxContributors` encodings could wrap
 * Z_{2^bits}: throws FedveilError('dp/modulus-overflow') unless
 * {@link aggregateMagnitudeBound} <= 2^(bits-1) - 1 (the centred decode range).
 */
export function checkModulusHeadroom(config: DpConfig, dim: number, maxContributors: number): void {
  check(
    Number.isSafeInteger(maxContributors) && maxContributors >= 1,
    'dp/bad-contributors',
    `maxContributors must be a positive integer, got ${maxContributors}`,
  );
  config = parseDpConfig(config);
  const bound = aggregateMagnitudeBound(config, dim, maxContributors);
  const limit = 2 ** (config.bits - 1) - 1;
  if (!(bound <= limit)) {
    const needed = Math.ceil(Math.log2(bound + 1)) + 1;
    throw new FedveilError(
      'dp/modulus-overflow',
      `aggregate of ${maxContributors} contributors could reach ${bound.toExponential(3)} in magnitude ` +
        `(n·B signal plus the 2^-40 noise tail), beyond the centred range ±${limit} of ${config.bits} bits; ` +
        `use at least ${needed} bits, a larger scale γ, or fewer contributors`,
    );
  }
}
