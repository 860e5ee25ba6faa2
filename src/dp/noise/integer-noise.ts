import type { UniformStream } from './uniform-stream.js';

/**
 * A mechanism's integer noise with its sampler set up once (one encoder, one round): one
 * independent draw added to each coordinate of a vector, in coordinate order. Both methods make
 * the same draws in the same order, so noising in place and then wrapping gives the same words as
 * {@link addAndWrap}, which is what lets the client encoder fuse the two stages.
 */
export interface IntegerNoise {
  /** x[i] ← x[i] + n_i. */
  addInPlace(x: Float64Array, u: UniformStream): void;
  /** out[i] ← (x[i] + n_i) & mask: noise and the wrap mod 2^bits (mask from `wrapMask`) in one pass. */
  addAndWrap(x: Float64Array, u: UniformStream, mask: number, out: Uint32Array): void;
}

/** {@link IntegerNoise} from a one-draw sampler, called once per coordinate. */
export function perCoordinateNoise(draw: (u: UniformStream) => number): IntegerNoise {
  return {
    addInPlace(x, u) {
      for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) + draw(u);
    },
    addAndWrap(x, u, mask, out) {
      for (let i = 0; i < x.length; i++) out[i] = ((x[i] as number) + draw(u)) & mask;
    },
  };
}
