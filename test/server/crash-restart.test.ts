import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/secagg/index.js';
import { crashCycles } from './crash-check.js';

describe('coordinator killed with SIGKILL and restarted on the same SQLite file', () => {
  it('keeps a verifying ledger, never loses a released round or ε, never releases a round twice', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'fedveil-crash-')), 'coordinator.db');
    const { kills, epsilons, restartAborts } = await crashCycles(db, 8, 1, seededRandom('crash-fast'), 1500);
    console.log(`crash test: ${kills} kills (${restartAborts} interrupted a running round), ε after each: ${epsilons.map((e) => e.toFixed(3)).join(', ')}`);
    expect(epsilons.at(-1)).toBeGreaterThan(0);
  });
});
