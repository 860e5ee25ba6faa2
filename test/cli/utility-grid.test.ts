import { describe, expect, it } from 'vitest';
import { accountable, AXES, commandOf, defaultRounds, utilityOptions } from '../../bench/utility/index.js';
import { SimulateOptionsSchema } from '../../src/cli/simulate/options.js';

describe('the privacy-utility grid', () => {
  it('every point it runs is a valid simulation with a secret Poisson draw; Skellam with PLD is no point', () => {
    let points = 0;
    for (const mechanism of AXES.mechanism) {
      for (const accountant of AXES.accountant) {
        if (!accountable(mechanism, accountant)) {
          expect(() => SimulateOptionsSchema.parse({ dp: mechanism, accountant, epsilon: 4 })).toThrow(/PLD/);
          continue;
        }
        for (const clipping of AXES.clipping) {
          for (const model of AXES.model) {
            for (const population of AXES.population) {
              const o = SimulateOptionsSchema.parse(utilityOptions(population, model, 4, { mechanism, accountant, clipping, rounds: defaultRounds(model) }));
              expect(o.draw).toBe('poisson');
              expect(o.epsilonAgainst).toBe('model-observer');
              expect(o.cohort).toBeLessThan(population);
              expect(o.adaptiveClip).toBe(clipping === 'adaptive');
              points++;
            }
          }
        }
      }
    }
    expect(points).toBe(3 * 2 * 2 * 3);
  });

  it('prints a point as the simulate command that reruns it', () => {
    const cmd = commandOf({ clients: 1000, adaptiveClip: true, dp: 'central', insecureBaseline: false });
    expect(cmd).toBe('fedveil simulate --clients 1000 --adaptive-clip --dp central');
  });
});
