import { describe, expect, it } from 'vitest';
import { simulateOptionsFromFlags } from '../../src/cli/simulate.js';
import { simulatedIdentity, simulatedParticipantKeys, simulatedSession } from '../../src/cli/simulate/identities.js';
import { minContributorsOf, SimulateOptionsSchema } from '../../src/cli/simulate/options.js';
import { planSimulation } from '../../src/cli/simulate/plan.js';
import { toHex } from '../../src/secagg/util/bytes.js';

const DIM = 7850;

describe('a simulated population', () => {
  it('derives each participant from the seed and its index: keys and session need not be stored', () => {
    const keys = simulatedParticipantKeys({ clients: 3, auditCanaries: 0, seed: 5 });
    expect(toHex(simulatedIdentity(5, 2).publicKey)).toBe(keys[2]);
    expect(simulatedSession(5, 2)).toBe(simulatedSession(5, 2));
    expect(simulatedSession(5, 2)).not.toBe(simulatedSession(5, 1));
    expect(simulatedSession(5, 2)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('refuses a Poisson draw whose cohort is the whole population, naming --draw', () => {
    expect(() => simulateOptionsFromFlags({ clients: '10', cohort: '10', draw: 'poisson' })).toThrow(/--draw/);
    expect(() => simulateOptionsFromFlags({ clients: '100', cohort: '10', draw: 'poisson' })).not.toThrow();
  });

  it('a Poisson draw has a secret seed, and its varying size lowers the contributors the noise is split among', () => {
    const fixed = SimulateOptionsSchema.parse({ clients: 2000, cohort: 200 });
    const poisson = SimulateOptionsSchema.parse({ clients: 2000, cohort: 200, draw: 'poisson' });
    expect(minContributorsOf(poisson)).toBeLessThan(minContributorsOf(fixed));
    const plan = planSimulation(poisson, DIM, ':memory:', 1000);
    expect(plan.config.cohort).toEqual({ samplingRate: 0.1 });
    expect(plan.config.seed).toBeUndefined();
    expect(planSimulation(fixed, DIM, ':memory:', 1000).config.seed).toBe('simulation-1');
  });

  it('a model-observer target under a secret Poisson draw needs less noise than the same ledger-reader target', () => {
    const base = { clients: 2000, cohort: 200, draw: 'poisson' as const, epsilon: 4, rounds: 20 };
    const reader = planSimulation(SimulateOptionsSchema.parse(base), DIM, ':memory:', 1000);
    const observer = planSimulation(SimulateOptionsSchema.parse({ ...base, epsilonAgainst: 'model-observer' }), DIM, ':memory:', 1000);
    expect(observer.dp.noiseMultiplier).toBeLessThan(reader.dp.noiseMultiplier);
    // The config carries the noise calibrated here, not a ledger-reader target it would recalibrate.
    expect(observer.config.dp.targetEpsilon).toBeUndefined();
    expect(observer.config.dp.noiseMultiplier).toBe(observer.dp.noiseMultiplier);
  });

  it('calibrates with the PLD accountant on request: less noise for the same model-observer target, central noise only', () => {
    const base = { clients: 2000, cohort: 200, draw: 'poisson' as const, epsilon: 4, rounds: 5, dp: 'central' as const, epsilonAgainst: 'model-observer' as const };
    const rdp = planSimulation(SimulateOptionsSchema.parse(base), DIM, ':memory:', 1000);
    const pld = planSimulation(SimulateOptionsSchema.parse({ ...base, accountant: 'pld' }), DIM, ':memory:', 1000);
    expect(pld.dp.noiseMultiplier).toBeLessThan(0.97 * rdp.dp.noiseMultiplier);
    // A ledger-reader target stays in the config, calibrated there with the accountant named.
    const reader = planSimulation(SimulateOptionsSchema.parse({ ...base, epsilonAgainst: 'ledger-reader', accountant: 'pld' }), DIM, ':memory:', 1000);
    expect(reader.config.dp.accountant).toBe('pld');
    expect(() => simulateOptionsFromFlags({ accountant: 'pld' })).toThrow(/--accountant/);
    expect(() => simulateOptionsFromFlags({ accountant: 'pld', dp: 'central', noise: '1' })).toThrow(/--accountant/);
  });
});
