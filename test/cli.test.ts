import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
const cli = ['--import', 'tsx', 'src/cli/main.ts'];

describe('fedveil command', () => {
  it('prints the package version', () => {
    const out = execFileSync('node', [...cli, '--version'], { encoding: 'utf8' });
    expect(out.trim()).toBe(version);
  });

  it('prints help naming the tool', () => {
    const out = execFileSync('node', [...cli, '--help'], { encoding: 'utf8' });
    expect(out).toContain('Usage: fedveil');
  });

  it('exits 2 on an unknown option', () => {
    const res = spawnSync('node', [...cli, '--no-such-flag'], { encoding: 'utf8' });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain("unknown option '--no-such-flag'");
  });
});
