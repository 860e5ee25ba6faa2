import { describe, expect, it } from 'vitest';
import { equalUpToRounding } from '../../src/server/canonical-json.js';
import type { GenesisBody } from '../../src/server/ledger-entry.js';
import { drawSeedCommitment, genesisProblems, genesisRecord, publicDrawSeed } from '../../src/server/ledger-genesis.js';
import { identities, smallConfig } from './harness.js';

/**
 * A browser participant recalibrates the genesis's noise with its own engine's Math.exp/log/pow,
 * which round differently from Node's in the last bits (Chromium 156 against Node 20: noise
 * multipliers 0.36817003179599717 and 0.36817003179599705). The genesis must still hold for it,
 * and still fail for any real change of the mechanism.
 */
describe('a recalibrated mechanism is compared up to rounding', () => {
  const people = identities(4, 'rounding');
  const config = smallConfig(people, { dp: { mechanism: 'skellam', clipNorm: 1, bits: 24, scale: 0.01, rotation: false, targetEpsilon: 8, delta: 1e-5 } });
  const genesis = genesisRecord(config, { coordinatorPublicKey: '00'.repeat(32), drawSeedCommitment: drawSeedCommitment(publicDrawSeed(config.seed) as Uint8Array), timestamp: '2026-12-06T00:00:00.000Z', model: { version: 0, hash: '22'.repeat(32) } }) as GenesisBody;
  const withMechanism = (change: (m: Record<string, unknown>) => void): GenesisBody => {
    const g = structuredClone(genesis);
    change(g.mechanism as unknown as Record<string, unknown>);
    return g;
  };
  const z = (genesis.mechanism as unknown as { noiseMultiplier: number }).noiseMultiplier;

  it('the genesis as calibrated holds, and so does one whose noise multiplier differs in the last bits', () => {
    expect(Number.isInteger(z)).toBe(false);
    expect(genesisProblems(genesis)).toEqual([]);
    expect(genesisProblems(withMechanism((m) => (m['noiseMultiplier'] = z * (1 + 3e-16))))).toEqual([]);
    expect(genesisProblems(withMechanism((m) => (m['noiseMultiplier'] = z * (1 - 1e-12))))).toEqual([]);
  });

  it('less noise than calibrated by more than rounding, or another integer field, does not', () => {
    expect(genesisProblems(withMechanism((m) => (m['noiseMultiplier'] = z * (1 - 1e-6))))).toEqual([expect.stringContaining('mechanism')]);
    expect(genesisProblems(withMechanism((m) => (m['bits'] = 25)))).toEqual([expect.stringContaining('mechanism')]);
    expect(genesisProblems(withMechanism((m) => (m['rotation'] = true)))).toEqual([expect.stringContaining('mechanism')]);
  });

  it('equalUpToRounding: shape, keys, strings and integers exactly; other numbers to 1e-9 relative', () => {
    expect(equalUpToRounding({ a: 0.1, b: [1, 'x'] }, { b: [1, 'x'], a: 0.1 * (1 + 1e-12) })).toBe(true);
    expect(equalUpToRounding({ a: 0.1 }, { a: 0.1 * (1 + 1e-8) })).toBe(false);
    expect(equalUpToRounding({ a: 3 }, { a: 3 + 1e-12 })).toBe(false);
    expect(equalUpToRounding({ a: 0.1 }, { a: 0.1, b: null })).toBe(false);
    expect(equalUpToRounding([0.1, 0.2], [0.1])).toBe(false);
    expect(equalUpToRounding({ a: '0.1' }, { a: 0.1 })).toBe(false);
    expect(equalUpToRounding(null, {})).toBe(false);
    expect(equalUpToRounding([], {})).toBe(false);
  });
});
