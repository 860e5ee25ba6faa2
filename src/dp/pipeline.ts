import { check } from '../secagg/util/errors.js';
import type { RandomSource } from '../secagg/util/random.js';
import { integerNoiseParameters, parseDpConfig, type DpConfig } from './config.js';
import { clipL2InPlace } from './encoding/clip.js';
import { RandomizedHadamard } from './encoding/hadamard.js';
import { centreModulo, wrapModulo } from './encoding/modular.js';
import { conditionalRoundInPlace } from './encoding/rounding.js';
import { discreteGaussianNoiser } from './noise/discrete-gaussian.js';
import { addGaussianNoise } from './noise/gaussian.js';
import { skellamNoiser } from './noise/skellam.js';

/** A client's encoder for one round: clip → rotate → scale → round → noise → wrap. */
export interface ClientEncoder {
  /** Length of the updates it accepts. */
  readonly dim: number;
  /** Length of the encodings it produces (dim padded to a power of two when rotating). */
  readonly encodedLength: number;
  /** Encodes one update; values in [0, 2^bits). Every random draw comes from `rng`. */
  encode(update: Float32Array, rng: RandomSource): Uint32Array;
}

function checkDim(dim: number): void {
  check(Number.isSafeInteger(dim) && dim >= 1, 'dp/bad-dimension', `dimension must be a positive integer, got ${dim}`);
}

/**
 * Creates the encoder of `config` for updates of length `dim` in the round whose public seed
 * (>= 16 bytes; it fixes the rotation signs) is `roundSeed`. The config is validated here.
 */
export function createClientEncoder(config: DpConfig, dim: number, roundSeed: Uint8Array): ClientEncoder {
  const cfg = parseDpConfig(config);
  checkDim(dim);
  const rotation = cfg.rotation ? new RandomizedHadamard(roundSeed, dim) : undefined;
  const p = integerNoiseParameters(cfg, dim);
  // Sampler tables are built once per encoder (one round), not per update.
  const addNoise =
    cfg.mechanism === 'skellam' ? skellamNoiser(p.localSkellamMu) : cfg.mechanism === 'ddg' ? discreteGaussianNoiser(p.localDdgSigma) : undefined;
  return {
    dim,
    encodedLength: p.paddedDim,
    encode(update: Float32Array, rng: RandomSource): Uint32Array {
      check(update.length === dim, 'dp/bad-dimension', `update has length ${update.length}, expected ${dim}`);
      const x = new Float64Array(p.paddedDim);
      for (let i = 0; i < dim; i++) x[i] = update[i] as number;
      clipL2InPlace(x, cfg.clipNorm);
      rotation?.forwardInPlace(x);
      const inv = 1 / cfg.scale;
      for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) * inv;
      conditionalRoundInPlace(x, p.l2Bound, rng);
      addNoise?.(x, rng);
      return wrapModulo(x, cfg.bits);
    },
  };
}

/** Options of {@link decodeSum}. */
export interface DecodeOptions {
  /** Divide by this instead of the contributor count (a fixed denominator, e.g. the expected cohort). */
  denominator?: number;
}

/** The server's decoder for one round: the rotation signs are derived once, not per sum. */
export interface ServerDecoder {
  /** Length of the updates it produces. */
  readonly dim: number;
  /** Length of the sums it accepts. */
  readonly encodedLength: number;
  /** See {@link decodeSum}. */
  decode(sum: Uint32Array, contributors: number, rng: RandomSource, options?: DecodeOptions): Float32Array;
}

/** Creates the decoder matching createClientEncoder(config, dim, roundSeed). */
export function createServerDecoder(config: DpConfig, dim: number, roundSeed: Uint8Array): ServerDecoder {
  const cfg = parseDpConfig(config);
  checkDim(dim);
  const p = integerNoiseParameters(cfg, dim);
  const rotation = cfg.rotation ? new RandomizedHadamard(roundSeed, dim) : undefined;
  return {
    dim,
    encodedLength: p.paddedDim,
    decode(sum: Uint32Array, contributors: number, rng: RandomSource, options: DecodeOptions = {}): Float32Array {
      check(sum.length === p.paddedDim, 'dp/bad-dimension', `sum has length ${sum.length}, expected ${p.paddedDim}`);
      check(Number.isSafeInteger(contributors) && contributors >= 1, 'dp/bad-contributors', `contributors must be a positive integer, got ${contributors}`);
      const denominator = options.denominator ?? contributors;
      check(Number.isFinite(denominator) && denominator > 0, 'dp/bad-denominator', `denominator must be a finite number > 0, got ${denominator}`);
      const y = centreModulo(sum, cfg.bits);
      for (let i = 0; i < y.length; i++) y[i] = (y[i] as number) * cfg.scale;
      rotation?.inverseInPlace(y);
      const out = new Float64Array(y.buffer, 0, dim);
      if (cfg.mechanism === 'central') addGaussianNoise(out, cfg.noiseMultiplier * cfg.clipNorm, rng);
      const result = new Float32Array(dim);
      for (let i = 0; i < dim; i++) result[i] = (out[i] as number) / denominator;
      return result;
    },
  };
}

/**
 * Decodes the modular sum of `contributors` encodings into the mean update of length `dim`:
 * centre mod 2^bits → ×γ → inverse rotation → (central: + N(0, (zC)²) from `rng`) → ÷ contributors
 * (or `options.denominator`) → truncate to `dim`. For many sums in one round, create a
 * {@link createServerDecoder} once instead.
 */
export function decodeSum(
  config: DpConfig,
  dim: number,
  roundSeed: Uint8Array,
  sum: Uint32Array,
  contributors: number,
  rng: RandomSource,
  options: DecodeOptions = {},
): Float32Array {
  return createServerDecoder(config, dim, roundSeed).decode(sum, contributors, rng, options);
}
