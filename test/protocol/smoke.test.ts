import { describe, expect, it } from 'vitest';
import { runRoundInMemory } from '../../src/protocol/in-memory.js';
import { testFederation } from '../../src/protocol/testing/fixtures.js';
import { seededRandom } from '../../src/secagg/util/random.js';

describe('smoke', () => {
  it('runs a round', () => {
    const fed = testFederation({ n: 5, threshold: 3, dim: 4, seed: 1, mode: 'malicious', extraCoordinates: 1 });
    const inputs = Array.from({ length: 5 }, (_, i) => Float32Array.from([i, 2 * i, -i, 1]));
    const r = runRoundInMemory({
      config: fed.config,
      participants: fed.participants(inputs, inputs.map((_, i) => [i + 10])),
      serverRng: seededRandom('s'),
      dropouts: new Map([[4, 'masked-input' as const]]),
    });
    console.log(r.outcome, r.clientEvents, r.serverRejections);
    expect(r.outcome.status).toBe('completed');
  });
});
