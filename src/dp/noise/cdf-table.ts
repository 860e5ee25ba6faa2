import type { UniformStream } from './uniform-stream.js';

/**
 * Inversion sampler for an integer distribution given by unnormalised masses `pmf[i]` of the
 * values `lo + i`: normalises, builds the CDF and a guide table (Chen & Asau 1974) of as many
 * entries as the support, then draws with one 53-bit uniform and ~1–2 comparisons. Exact up to
 * the rounding of the table (relative ~1e-13 for the tables built here); mass outside the table
 * must be negligible (callers truncate where it is below e^-700).
 */
export function cdfTableSampler(lo: number, pmf: Float64Array): (u: UniformStream) => number {
  const n = pmf.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += pmf[i] as number;
  const cdf = new Float64Array(n);
  let acc = 0;
  for (let i = 0; i < n; i++) {
    acc += pmf[i] as number;
    cdf[i] = acc / total;
  }
  cdf[n - 1] = Infinity; // every uniform in [0, 1) stops here at the latest
  const guide = new Uint32Array(n);
  for (let g = 0, i = 0; g < n; g++) {
    while ((cdf[i] as number) <= g / n) i++;
    guide[g] = i;
  }
  return (u) => {
    const x = u.unit();
    let i = guide[Math.min(n - 1, Math.floor(x * n))] as number;
    while ((cdf[i] as number) <= x) i++;
    return lo + i;
  };
}
