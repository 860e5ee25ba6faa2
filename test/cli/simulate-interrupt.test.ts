import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const cli = ['--import', 'tsx', 'src/cli/main.ts'];
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function outDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'fedveil-sim-int-'));
  dirs.push(d);
  return d;
}

describe('fedveil simulate keeps its results', () => {
  it('on Ctrl-C stops the federation, writes the report and ledger of the released rounds, and exits 130', async () => {
    const out = outDir();
    const child = spawn(
      'node',
      [...cli, 'simulate', '--clients', '4', '--rounds', '500', '--examples', '50', '--test-examples', '100', '--model', 'logreg', '--workers', '1', '--dropout', '0', '--out', out],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let t = 0; !/^round 1: accuracy/m.test(stdout); t++) {
      if (t > 2400 || child.exitCode !== null) throw new Error(`no second round:\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('interrupted: stopping the federation');
    const released = (stdout.match(/^round \d+: accuracy/gm) ?? []).length;
    expect(released).toBeGreaterThanOrEqual(2);
    expect(stdout).toMatch(/interrupted: \d+ rounds were released before the stop/);
    const ledger = readFileSync(join(out, 'ledger.jsonl'), 'utf8').trim().split('\n');
    expect(ledger.length).toBeGreaterThanOrEqual(2);
    expect(ledger.length).toBeLessThan(500);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { rounds: unknown[] };
    // The ledger opens with its genesis; every later entry is a charged round of the report.
    expect((JSON.parse(ledger[0] as string) as { kind: string }).kind).toBe('genesis');
    expect(report.rounds).toHaveLength(ledger.length - 1);
    expect(existsSync(join(out, 'model', 'model.json'))).toBe(true);
    const verified = spawnSync('node', [...cli, 'verify-report', join(out, 'report.json'), '--ledger', join(out, 'ledger.jsonl')], { encoding: 'utf8' });
    expect(verified.status, verified.stdout).toBe(0);
  }, 120_000);

  it('refuses a non-empty --out without --force, naming what it holds', () => {
    const out = outDir();
    writeFileSync(join(out, 'report.json'), '{}');
    const res = spawnSync('node', [...cli, 'simulate', '--out', out], { encoding: 'utf8' });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain(`--out ${out} already holds report.json: this run would replace them. Pass --force to overwrite`);
    expect(readFileSync(join(out, 'report.json'), 'utf8')).toBe('{}');
  });
});
