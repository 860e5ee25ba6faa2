import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { nodeProvider, seededRandom, toHex } from '../../src/secagg/index.js';
import { localMoments, standardizationOf, type UnitMoments } from '../../src/server/federated-statistics.js';
import { generateIdentity, writeIdentityFile } from '../../src/server/identity.js';
import type { LedgerEntry, StatisticsEntry } from '../../src/server/ledger-entry.js';
import { parseTabular } from '../../src/trainer/data/csv.js';
import { freePort } from './harness.js';
import { WEATHER_CLASSES, WEATHER_FEATURES, weatherCsv } from './weather.js';

/**
 * Federated standardisation with the real commands, in separate processes: serve and three
 * clients on CSV files, a statistics round before round 0, training with the standardisation the
 * ledger records, the exported model's schema carrying it, verify-report and predict.
 */

const repo = process.cwd();
const fedveil = [process.execPath, '--import', pathToFileURL(join(repo, 'node_modules/tsx/dist/loader.mjs')).href, join(repo, 'src/cli/main.ts')] as const;

function run(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(fedveil[0], [...fedveil.slice(1), ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

const LOWER = [0, -10, -15, 0];
const UPPER = [60, 40, 25, 10];

describe('federated standardisation from serve to predict (separate processes)', () => {
  it('estimates the standardisation before round 0, trains with it, exports it with the model, and verifies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedveil-stats-'));
    const names = ['alice', 'bob', 'carol'];
    const ids = names.map((n) => generateIdentity(nodeProvider, seededRandom(`stats-${n}`)));
    names.forEach((n, i) => {
      writeIdentityFile(join(dir, `${n}.key.json`), ids[i]!);
      writeFileSync(join(dir, `${n}.csv`), weatherCsv(`stats-${n}`, 60 + 40 * i));
    });
    writeFileSync(join(dir, 'test.csv'), weatherCsv('stats-test', 200));
    const port = await freePort();
    const config = {
      federationId: 'weather-stats',
      participants: ids.map((id) => toHex(id.publicKey)),
      rounds: 3,
      cohort: { size: 3 },
      threshold: 2,
      minJoined: 3,
      data: { features: [...WEATHER_FEATURES], label: 'weather', classes: [...WEATHER_CLASSES], standardize: { federated: { lower: LOWER, upper: UPPER } } },
      model: { name: 'logreg' },
      dp: { mechanism: 'none', clipNorm: 100, bits: 32, scale: 1.0e-5, rotation: false },
      storage: { path: 'state/coordinator.db' },
      listen: { host: '127.0.0.1', port },
    };
    writeFileSync(join(dir, 'federation.json'), JSON.stringify(config));
    const url = `http://127.0.0.1:${port}/`;
    const clients = names.map((n) =>
      run(['client', '--coordinator', url, '--identity', join(dir, `${n}.key.json`), '--data', join(dir, `${n}.csv`), '--epochs', '5', '--lr', '0.5', '--give-up-after', '2m'], dir),
    );
    const served = await run(['serve', '--config', join(dir, 'federation.json'), '--test-data', 'test.csv'], dir);
    const outs = await Promise.all(clients);
    expect(served.code, served.stderr).toBe(0);
    expect(served.stderr).toMatch(/round \d+: statistics round \(feature means and spreads for the federated standardisation\) started with 3 participants/);
    expect(served.stderr).toMatch(/statistics released by 3 contributors; every participant standardises with precipitation mean [\d.]+ std [\d.]+, temp_max/);
    expect(served.stderr).toContain('federation finished: 3 of 3 rounds released');
    for (const o of outs) {
      expect(o.code, o.stderr).toBe(0);
      expect(o.stderr).toContain('the federation estimates its feature standardisation before round 0');
      expect((JSON.parse(o.stdout) as { completed: number }).completed).toBe(4);
    }

    // the ledger: the statistics entry, without noise the pooled per-participant moments
    const audit = join(dir, 'state', 'audit');
    const ledger = readFileSync(join(audit, 'ledger.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LedgerEntry);
    expect(ledger.map((e) => e.kind)).toEqual(['genesis', 'statistics', 'round', 'round', 'round']);
    const stats = ledger[1] as StatisticsEntry;
    const spec = { lower: LOWER, upper: UPPER, stdFloor: 0.01 };
    const local = names.map((n) => localMoments(parseTabular(readFileSync(join(dir, `${n}.csv`), 'utf8'), config.data), spec));
    const pooled: UnitMoments = {
      mean: LOWER.map((_, j) => local.reduce((s, m) => s + m.mean[j]!, 0) / 3),
      meanSquare: LOWER.map((_, j) => local.reduce((s, m) => s + m.meanSquare[j]!, 0) / 3),
    };
    const expected = standardizationOf(pooled, spec);
    stats.statistics.standardize.mean.forEach((m, j) => expect(m).toBeCloseTo(expected.mean[j]!, 2));
    stats.statistics.standardize.std.forEach((s, j) => expect(s).toBeCloseTo(expected.std[j]!, 2));

    // the exported model's schema carries the estimated standardisation; predict applies it
    const schema = JSON.parse(readFileSync(join(audit, 'model', 'data-schema.json'), 'utf8')) as { standardize: unknown };
    expect(schema.standardize).toEqual(stats.statistics.standardize);
    const key = (JSON.parse(readFileSync(join(audit, 'coordinator-key.json'), 'utf8')) as { publicKey: string }).publicKey;
    const [verified, scored] = await Promise.all([
      run(['verify-report', join(audit, 'report.json'), '--ledger', join(audit, 'ledger.jsonl'), '--coordinator-key', key], dir),
      run(['predict', '--model', join(audit, 'model'), '--data', join(dir, 'test.csv'), '--json'], dir),
    ]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(scored.code, scored.stderr).toBe(0);
    // trained on standardised features, the model does well above the commonest class
    expect((JSON.parse(scored.stdout) as { accuracy: number }).accuracy).toBeGreaterThan(0.6);
    expect(existsSync(join(audit, 'model', 'weights.bin'))).toBe(true);
  }, 180_000);
});
