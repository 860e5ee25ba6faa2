import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { simulateOptionsFromFlags } from '../../src/cli/simulate.js';
import type { SimulationSummary } from '../../src/cli/simulate/run.js';
import type { DashboardSnapshot } from '../../src/server/dashboard/snapshot.js';

const cli = ['--import', 'tsx', 'src/cli/main.ts'];
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('fedveil simulate --dashboard', () => {
  it('prints the URL, shows each round with its test-set accuracy, and with --keep-open serves until Ctrl-C', async () => {
    const out = mkdtempSync(join(tmpdir(), 'fedveil-sim-dash-'));
    dirs.push(out);
    const child = spawn(
      'node',
      [...cli, 'simulate', '--clients', '4', '--rounds', '2', '--examples', '50', '--test-examples', '100', '--workers', '1', '--dropout', '0', '--dashboard', '--keep-open', '--json', '--out', out],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const waitFor = async (re: RegExp): Promise<RegExpExecArray> => {
      for (let t = 0; ; t++) {
        const m = re.exec(stderr);
        if (m !== null) return m;
        if (t > 2400 || child.exitCode !== null) throw new Error(`never printed ${re}:\n${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const url = (await waitFor(/^dashboard: (http:\/\/127\.0\.0\.1:\d+\/)$/m))[1] as string;
    await waitFor(/the dashboard stays open at /);
    // The run is over and its files are written, yet the dashboard still answers.
    expect(existsSync(join(out, 'report.json')) && existsSync(join(out, 'model', 'model.json'))).toBe(true);
    const snap = (await (await fetch(`${url}v1/dashboard`)).json()) as DashboardSnapshot;
    expect(stdout).toBe('');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const summary = JSON.parse(stdout) as SimulationSummary;
    expect(summary.interrupted).toBe(false);
    expect(snap.status).toBe('finished');
    expect(snap.rounds.map((r) => [r.round, r.status, r.evaluation?.source, r.evaluation?.accuracy, r.evaluation?.loss])).toEqual(
      summary.rounds.map((r) => [r.round, r.status, 'test-set', r.accuracy, r.loss]),
    );
  }, 180_000);

  it('takes a port or none, and refuses --keep-open alone', () => {
    expect(simulateOptionsFromFlags({ dashboard: true }).dashboard).toBe(0);
    expect(simulateOptionsFromFlags({ dashboard: '8089', keepOpen: true })).toMatchObject({ dashboard: 8089, keepOpen: true });
    expect(simulateOptionsFromFlags({}).dashboard).toBeUndefined();
    expect(() => simulateOptionsFromFlags({ dashboard: 'eighty' })).toThrow("--dashboard takes a port number, got 'eighty'");
    expect(() => simulateOptionsFromFlags({ dashboard: '70000' })).toThrow(/--dashboard/);
    expect(() => simulateOptionsFromFlags({ keepOpen: true })).toThrow('--keep-open: keeps the dashboard open: give --dashboard too');
    expect(() => simulateOptionsFromFlags({ dashboard: true, insecureBaseline: true })).toThrow(/--dashboard: the insecure baseline runs no coordinator/);
  });
});
