import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pldEpsilon, poissonGaussianEvent, type DpEvent } from '../../src/dp/index.js';

// dp_accounting's PLD accountant on the 1e-5 grid (provenance: test/data/PROVENANCE.md): the
// tight reference (minutes here, hence the slow suite; test/dp/pld-oracle.test.ts has the 1e-4 grid).
interface OracleCase {
  input: Record<string, number | string> & { id: string; mechanism: string };
  expected: Record<string, { eps?: number; value_discretization_interval?: number } | undefined>;
}
const oracle = JSON.parse(readFileSync(fileURLToPath(new URL('../data/dp_reference.json', import.meta.url)), 'utf8')) as { cases: OracleCase[] };
const cases = oracle.cases.filter((c) => c.expected.dp_accounting_pld_fine !== undefined);

function event(c: OracleCase): DpEvent {
  const { steps, sigma, q } = c.input as Record<string, number>;
  if (c.input.mechanism === 'gaussian') return { kind: 'self_composed', count: steps as number, event: { kind: 'gaussian', noiseMultiplier: sigma as number } };
  return poissonGaussianEvent(q as number, sigma as number, steps as number);
}

describe('PLD accountant against dp_accounting on the 1e-5 grid', () => {
  it('has the fine reference cases', () => expect(cases.length).toBeGreaterThanOrEqual(20));
  it.each(cases.map((c) => [c.input.id, c] as const))('%s: agrees to 1e-3 relative', (_id, c) => {
    const want = c.expected.dp_accounting_pld_fine as { eps: number; value_discretization_interval: number };
    expect(want.value_discretization_interval).toBe(1e-5);
    const got = pldEpsilon(event(c), c.input.delta as number, { valueDiscretization: 1e-5 });
    expect(Math.abs(got - want.eps) / want.eps).toBeLessThan(1e-3);
  });
});
