import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/secagg/index.js';
import { crashCycles } from './crash-check.js';
import { loadRound } from './load.js';

describe('coordinator soak and load', () => {
  it('≥ 500 clients in one SecAgg+ round on loopback', async () => {
    const n = Number(process.env.FEDVEIL_LOAD_CLIENTS ?? 500);
    const r = await loadRound(n, Number(process.env.FEDVEIL_LOAD_DIM ?? 10_000));
    const { results, ...figures } = r;
    console.log(`load: ${JSON.stringify(figures)}`);
    expect(results).toHaveLength(n);
    expect(results.every((x) => x.status === 'completed')).toBe(true);
  });

  it('20 random SIGKILLs across 80 rounds', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'fedveil-crash-slow-')), 'coordinator.db');
    const { kills, epsilons, restartAborts } = await crashCycles(db, 80, 20, seededRandom('crash-slow'), 4000);
    console.log(`crash (slow): ${kills} kills (${restartAborts} interrupted a running round), ε after each: ${epsilons.map((e) => e.toFixed(3)).join(', ')}`);
  });
});
