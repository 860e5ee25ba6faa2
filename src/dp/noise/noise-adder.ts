import type { UniformStream } from './uniform-stream.js';

/**
 * Adds one independent noise draw to the integer `v` and returns the sum, drawing from `u`. The
 * mechanisms' per-coordinate step, shared by their in-place noisers and by the client encoder's
 * fused noise-and-wrap pass, so both make the same draws and the same additions.
 */
export type NoiseAdder = (v: number, u: UniformStream) => number;
