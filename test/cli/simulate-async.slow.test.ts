import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SimulationSummary } from '../../src/cli/simulate/run.js';
import { verifyLedger } from '../../src/server/ledger-verify.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('fedveil simulate --async', () => {
  it('runs groups of the first K ready on the real masked protocol; a group with a dropout releases; the ledger verifies', () => {
    const out = mkdtempSync(join(tmpdir(), 'fedveil-sim-async-'));
    dirs.push(out);
    const stdout = execFileSync(
      'node',
      ['--import', 'tsx', 'src/cli/main.ts', 'simulate', '--async', '--clients', '12', '--cohort', '4', '--rounds', '3', '--examples', '100', '--test-examples', '500', '--workers', '1', '--dropout', '0.1', '--out', out, '--json'],
      { encoding: 'utf8', maxBuffer: 1 << 24 },
    );
    const s = JSON.parse(stdout) as SimulationSummary;
    expect(s.async).toEqual({ groupSize: 4, maxStaleness: 10, stalenessExponent: 0.5 });
    const released = s.rounds.filter((r) => r.status === 'completed');
    expect(released).toHaveLength(3);
    // Dropouts inside a group recover as in a synchronous round: the survivors' sum is released.
    expect(released.some((r) => r.dropouts > 0)).toBe(true);
    expect(s.rounds.some((r) => r.staleness?.some((t) => t > 0))).toBe(true);
    const at = s.rounds.map((r) => r.simulatedSeconds);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    expect(s.final.simulatedSeconds).toBe(at.at(-1));
    expect(s.final.epsilon).toBeGreaterThan(0);
    const ledger = readFileSync(s.ledger as string, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(verifyLedger(ledger, null, null)).toEqual([]);
  });
});
