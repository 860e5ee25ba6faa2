import { check } from '../secagg/util/errors.js';
import type { RandomSource } from '../secagg/util/random.js';
import { integerNoiseParameters, parseDpConfig, type DpConfig } from './config.js';
import { clipFactor, updateL2Norm } from './encoding/clip.js';
import { RandomizedHadamard } from './encoding/hadamard.js';
import { addNoiseAndWrap, centreScaleDivide, wrapMask } from './encoding/modular.js';
import { conditionalRound, roundAttempt, roundAttemptWrapped } from './encoding/rounding.js';
import { discreteGaussianNoise } from './noise/discrete-gaussian.js';
import { addGaussianNoise } from './noise/gaussian.js';
import type { IntegerNoise } from './noise/integer-noise.js';
import { skellamNoise } from './noise/skellam.js';
import { UniformStream } from './noise/uniform-stream.js';

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
 *
 * The stages of spec/dp.md §2 are fused into as few passes over the vector as the data flow
 * allows, each coordinate getting the same floating-point operations in the same order and the
 * same random draws as running the stages one by one (test/dp/encoder-reference.test.ts pins
 * this against a stage-by-stage reference):
 *
 * - the norm for clipping is read off the update itself, and the clip factor is applied where
 *   the update is next read (by the rotation, or by the rounding loop);
 * - the Hadamard normalisation and 1/γ are multiplied in by the rounding loop;
 * - rounding recomputes its input on every attempt (from the update, or from the rotated vector),
 *   so a retry needs no saved copy;
 * - without noise, rounded integers go straight into the wrapped encoding; with noise, noise and
 *   wrap are one pass.
 */
export function createClientEncoder(config: DpConfig, dim: number, roundSeed: Uint8Array): ClientEncoder {
  const cfg = parseDpConfig(config);
  checkDim(dim);
  const rotation = cfg.rotation ? new RandomizedHadamard(roundSeed, dim) : undefined;
  const p = integerNoiseParameters(cfg, dim);
  // Sampler tables are built once per encoder (one round), not per update.
  const noise: IntegerNoise | undefined =
    cfg.mechanism === 'skellam' ? skellamNoise(p.localSkellamMu) : cfg.mechanism === 'ddg' ? discreteGaussianNoise(p.localDdgSigma) : undefined;
  const inv = 1 / cfg.scale;
  const mask = wrapMask(cfg.bits);
  return {
    dim,
    encodedLength: p.paddedDim,
    encode(update: Float32Array, rng: RandomSource): Uint32Array {
      check(update.length === dim, 'dp/bad-dimension', `update has length ${update.length}, expected ${dim}`);
      const factor = clipFactor(updateL2Norm(update), cfg.clipNorm);
      const out = new Uint32Array(p.paddedDim);
      const u = new UniformStream(rng);
      if (rotation === undefined) {
        if (noise === undefined) {
          // Rounded straight from the update into the encoding: one pass per attempt, no buffer.
          conditionalRound(() => roundAttemptWrapped(update, factor, inv, u, mask, out), p.l2Bound);
          return out;
        }
        const rounded = new Float64Array(p.paddedDim);
        conditionalRound(() => roundAttempt(update, factor, inv, u, rounded), p.l2Bound);
        addNoiseAndWrap(rounded, noise, rng, mask, out);
        return out;
      }
      const x = new Float64Array(p.paddedDim);
      const norm = rotation.forwardUnnormalisedFrom(update, factor, x);
      if (noise === undefined) {
        conditionalRound(() => roundAttemptWrapped(x, norm, inv, u, mask, out), p.l2Bound);
        return out;
      }
      // Rounded in place. A failed attempt (probability <= β, in practice far less) rebuilds the
      // rotated vector, which is deterministic, rather than every encode keeping a copy of it.
      conditionalRound(
        () => roundAttempt(x, norm, inv, u, x),
        p.l2Bound,
        () => rotation.forwardUnnormalisedFrom(update, factor, x),
      );
      addNoiseAndWrap(x, noise, rng, mask, out);
      return out;
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
      if (!rotation && cfg.mechanism !== 'central') return centreScaleDivide(sum, cfg.bits, cfg.scale, denominator, new Float32Array(dim));
      const y = centreScaleDivide(sum, cfg.bits, cfg.scale, 1, new Float64Array(sum.length));
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
