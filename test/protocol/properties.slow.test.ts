import fc from 'fast-check';
import { describe, it } from 'vitest';
import { inputsArb, roundCommandsArb, roundSpecArb, runRoundModel, structuralTestProvider } from '../../src/protocol/testing/index.js';
import { defaultProvider } from '../../src/secagg/index.js';
import { checkScenario, scenarioArb } from './scenario.js';

/** The core properties at larger scale (`npm run test:slow`). */
describe('round properties, long runs', () => {
  it('correctness, abort and never-both: 5000 rounds, n ≤ 16, d ≤ 64 (structural provider)', () => {
    fc.assert(
      fc.property(scenarioArb({ maxN: 16, maxDim: 64, maxExtra: 3, mechanisms: ['none', 'skellam', 'ddg'] }), (s) => {
        checkScenario(s, structuralTestProvider);
      }),
      { numRuns: 5000 },
    );
  });

  it('correctness, abort and never-both: 1000 rounds, n ≤ 8 (real X25519/Ed25519)', () => {
    fc.assert(
      fc.property(scenarioArb({ maxN: 8, maxDim: 16 }), (s) => {
        checkScenario(s, defaultProvider);
      }),
      { numRuns: 1000 },
    );
  });

  it('model-based: 3000 command sequences of up to 100 steps', () => {
    fc.assert(
      fc.property(
        roundSpecArb({ maxN: 10 }).chain((spec) => fc.tuple(fc.constant(spec), inputsArb(spec))),
        roundCommandsArb(100),
        ([spec, data], commands) => {
          runRoundModel(spec, data, commands, structuralTestProvider);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
