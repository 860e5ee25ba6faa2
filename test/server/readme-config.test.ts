import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseFederationConfig } from '../../src/server/config.js';
import { federationDpConfig } from '../../src/server/federation-plan.js';

describe('README', () => {
  it('shows a federation config that the coordinator accepts', () => {
    const readme = readFileSync('README.md', 'utf8');
    const block = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const keys = Array.from({ length: 20 }, (_, i) => (i + 1).toString(16).padStart(64, '0'));
    const doc = parse((block as string).replace('[<64-hex Ed25519 public key>, ...]', JSON.stringify(keys))) as Record<string, unknown>;
    const config = parseFederationConfig(doc);
    expect(config.dp).toMatchObject({ mechanism: 'skellam', targetEpsilon: 8, minContributors: 17 });
    expect(federationDpConfig(config).noiseMultiplier).toBeGreaterThan(0);
  });
});
