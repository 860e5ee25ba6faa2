import { describe, expect, it } from 'vitest';
import { ledgerReaderEvent } from '../../src/dp/index.js';
import { nextRoundBudget } from '../../src/server/budget-guard.js';
import { federationDpConfig } from '../../src/server/federation-plan.js';
import { verifyLedger } from '../../src/server/ledger-verify.js';
import { buildPrivacyReport } from '../../src/server/report.js';
import { toHex } from '../../src/secagg/index.js';
import { coordinator, fixtureConfig, fixtureLedger } from './fixtures.js';
import { identities, smallConfig } from './harness.js';

describe('nextRoundBudget (no round starts that could take the federation past its ε target)', () => {
  const people = identities(5, 'budget');
  for (const [rounds, colluders] of [[1, 0], [3, 0], [10, 0], [3, 1]] as const) {
    it(`lets every one of ${rounds} calibrated rounds run, and not one more (c = ${colluders})`, () => {
      const config = smallConfig(people, { rounds, threshold: 3, colluders, dp: { mechanism: 'skellam', clipNorm: 1, bits: 20, scale: 0.01, rotation: false, minContributors: 3, targetEpsilon: 4 } });
      const mechanism = federationDpConfig(config);
      const worst = ledgerReaderEvent(mechanism, 3, colluders, config.dim);
      const check = (charged: number) =>
        nextRoundBudget({ charged: Array(charged).fill(worst), mechanism, target: 4, delta: config.dp.delta, colluders, dim: config.dim, accountant: 'rdp' });
      for (let k = 0; k < rounds; k++) expect(check(k)?.within).toBe(true);
      const over = check(rounds);
      expect(over?.within).toBe(false);
      expect(over?.projected).toBeGreaterThan(4);
      // rounds with more contributors than the minimum cost less: they never stop a planned round either
      const lighter = ledgerReaderEvent(mechanism, 5, colluders, config.dim);
      expect(nextRoundBudget({ charged: Array(rounds - 1).fill(lighter), mechanism, target: 4, delta: config.dp.delta, colluders, dim: config.dim, accountant: 'rdp' })?.within).toBe(true);
    });
  }

  it('has nothing to check without a target or without noise', () => {
    const config = smallConfig(people, { rounds: 2, threshold: 3, dp: { mechanism: 'skellam', clipNorm: 1, bits: 20, scale: 0.01, rotation: false, minContributors: 3, noiseMultiplier: 1 } });
    const mechanism = federationDpConfig(config);
    expect(nextRoundBudget({ charged: [], mechanism, target: null, delta: 1e-5, colluders: 0, dim: config.dim, accountant: 'rdp' })).toBeNull();
    expect(nextRoundBudget({ charged: [], mechanism: { ...mechanism, mechanism: 'none', noiseMultiplier: 0 }, target: 4, delta: 1e-5, colluders: 0, dim: config.dim, accountant: 'rdp' })).toBeNull();
  });

  it('verifyLedger refuses a ledger whose charged rounds spend more than its ε target (ledger/over-target)', () => {
    const three = identities(3, 'over-target-ledger');
    const config = fixtureConfig(three, { rounds: 2, dp: { mechanism: 'skellam', clipNorm: 1, bits: 20, scale: 0.01, rotation: false, minContributors: 2, targetEpsilon: 3 } });
    const key = toHex(coordinator.publicKey);
    const allowed = config.participants;
    const honest = fixtureLedger(three, 2, { config }).entries;
    expect(verifyLedger(honest, key, allowed)).toEqual([]);
    expect(buildPrivacyReport(honest).epsilon).toBeLessThanOrEqual(3);
    // a coordinator that ran a third round on noise calibrated for two
    const over = fixtureLedger(three, 3, { config }).entries;
    expect(buildPrivacyReport(over).epsilon).toBeGreaterThan(3);
    const problems = verifyLedger(over, key, allowed);
    expect(problems.map((p) => p.code)).toContain('ledger/over-target');
    expect(problems.find((p) => p.code === 'ledger/over-target')?.message).toMatch(/above the ε target 3/);
  });
});
