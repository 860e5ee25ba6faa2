import { FedveilError } from '../../secagg/util/errors.js';
import type { RandomSource } from '../../secagg/util/random.js';
import type { IntegerNoise } from '../noise/integer-noise.js';
import { UniformStream } from '../noise/uniform-stream.js';

/**
 * Encode stage: reduces integer-valued `x` into [0, 2^bits) (two's-complement style wrap), the
 * group in which masks are added.
 */
export function wrapModulo(x: Float64Array, bits: number): Uint32Array {
  const m = 2 ** bits;
  const out = new Uint32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    out[i] = v - Math.floor(v / m) * m;
  }
  return out;
}

/**
 * The mask with which `v & mask` is v mod 2^bits for every integer-valued double v: `&` first
 * reduces v mod 2^32 exactly (ECMAScript ToInt32, for any finite v) and then keeps the low `bits`
 * bits; storing the int32 into a Uint32Array makes it unsigned. This equals {@link wrapModulo}
 * on integers, with one truncation instead of a division, a floor and a multiply-subtract.
 */
export function wrapMask(bits: number): number {
  return bits === 32 ? 0xffffffff : 2 ** bits - 1;
}

/**
 * Encode stages noise + wrap in one pass: out[i] = (x[i] + n_i) mod 2^bits (`mask` from
 * {@link wrapMask}), the noise drawn from a fresh {@link UniformStream} of `rng` in coordinate
 * order — the same draws, and the same additions, as adding the noise to `x` and then wrapping,
 * without a second pass over the vector.
 */
export function addNoiseAndWrap(x: Float64Array, noise: IntegerNoise, rng: RandomSource, mask: number, out: Uint32Array): void {
  noise.addAndWrap(x, new UniformStream(rng), mask, out);
}

/**
 * Decode stage: maps values of Z_{2^bits} to signed representatives in [-2^(bits-1), 2^(bits-1)).
 * Correct whenever the true integer sum lies in that range, which checkModulusHeadroom ensures
 * with overwhelming probability.
 */
export function centreModulo(sum: Uint32Array, bits: number): Float64Array {
  return centreScaleDivide(sum, bits, 1, 1, new Float64Array(sum.length));
}

/**
 * Decode stages centre → ×γ → ÷ denominator in one pass into `out`: the same double arithmetic
 * as running them one by one ((centred · γ) / denominator, rounded once to `out`'s precision)
 * without intermediate vectors. With γ = denominator = 1 it is {@link centreModulo} (both exact).
 */
export function centreScaleDivide<T extends Float64Array | Float32Array>(sum: Uint32Array, bits: number, scale: number, denominator: number, out: T): T {
  const m = 2 ** bits;
  const half = m / 2;
  for (let i = 0; i < sum.length; i++) {
    const v = sum[i] as number;
    if (v >= m) throw new FedveilError('dp/bad-sum', `sum coordinate ${i} is ${v}, outside Z_2^${bits}`);
    out[i] = ((v >= half ? v - m : v) * scale) / denominator;
  }
  return out;
}
