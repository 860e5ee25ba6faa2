import { FedveilError } from '../../secagg/util/errors.js';

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
 * Decode stage: maps values of Z_{2^bits} to signed representatives in [-2^(bits-1), 2^(bits-1)).
 * Correct whenever the true integer sum lies in that range, which checkModulusHeadroom ensures
 * with overwhelming probability.
 */
export function centreModulo(sum: Uint32Array, bits: number): Float64Array {
  const m = 2 ** bits;
  const half = m / 2;
  const out = new Float64Array(sum.length);
  for (let i = 0; i < sum.length; i++) {
    const v = sum[i] as number;
    if (v >= m) throw new FedveilError('dp/bad-sum', `sum coordinate ${i} is ${v}, outside Z_2^${bits}`);
    out[i] = v >= half ? v - m : v;
  }
  return out;
}
