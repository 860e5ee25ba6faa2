import { describe, expect, it } from 'vitest';
import { logErfc, logGamma, logSumExp } from '../../src/dp/index.js';

// Known answers from scipy 1.17 (`special.gammaln`, `log(2) + special.log_ndtr(-x*sqrt(2))`).
const GAMMALN: [number, number][] = [
  [0.1, 2.252712651734206],
  [0.5, 0.5723649429247],
  [1.5, -0.12078223763524526],
  [7.3, 7.147892523022249],
  [25.5, 56.38916764371994],
  [1000.5, 5908.674175848678],
  [-0.5, 1.2655121234846454],
  [-2.5, -0.05624371649767401],
  [-997.5, -5893.715936656032],
];
const LOG_ERFC: [number, number][] = [
  [-3, 0.6931361352504468],
  [-0.5, 0.4190391477755596],
  [0.3, -0.39843005144008525],
  [1.9, -4.93234586278027],
  [2.1, -5.816010968867557],
  [5, -27.200889545537446],
  [30, -903.9741171106442],
  [200, -40005.8706948091],
];

describe('special functions', () => {
  it.each(GAMMALN)('logGamma(%d) matches scipy gammaln', (x, want) => {
    expect(Math.abs(logGamma(x) - want)).toBeLessThan(1e-12 * Math.max(1, Math.abs(want)));
  });

  it('logGamma has poles at the non-positive integers', () => {
    expect(logGamma(0)).toBe(Infinity);
    expect(logGamma(-3)).toBe(Infinity);
  });

  it.each(LOG_ERFC)('logErfc(%d) matches scipy, including the far tail', (x, want) => {
    expect(Math.abs(logErfc(x) - want)).toBeLessThan(1e-12 * Math.max(1, Math.abs(want)));
  });

  it('logErfc(0) is 0 and is continuous across the series/fraction switch at 2', () => {
    expect(logErfc(0) === 0).toBe(true);
    expect(Math.abs(logErfc(2 - 1e-12) - logErfc(2))).toBeLessThan(1e-10);
  });

  it('logSumExp with weights equals the direct sum', () => {
    expect(logSumExp([0, Math.log(2)], [3, 0.5])).toBeCloseTo(Math.log(4), 14);
    expect(logSumExp([1000, 1000])).toBeCloseTo(1000 + Math.LN2, 10);
    expect(logSumExp([-Infinity])).toBe(-Infinity);
  });
});
