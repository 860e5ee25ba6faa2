import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFederationConfig, parseFederationConfig } from '../../src/server/config.js';
import type { FedveilError } from '../../src/secagg/util/errors.js';

const keys = ['a', 'b', 'c'].map((c) => c.repeat(64));
const base = {
  federationId: 'fed-1',
  participants: keys,
  rounds: 2,
  cohort: { size: 3 },
  threshold: 2,
  dp: { mechanism: 'skellam', clipNorm: 1, bits: 20, scale: 0.001, noiseMultiplier: 1 },
  model: { name: 'mlp' },
  dim: 10,
  storage: { path: ':memory:' },
};

function errorOf(value: unknown): FedveilError {
  try {
    parseFederationConfig(value);
  } catch (err) {
    return err as FedveilError;
  }
  throw new Error('config was accepted');
}

describe('federation config', () => {
  it('fills defaults: loopback ephemeral listener, complete graph, semi-honest, deadlines', () => {
    const cfg = parseFederationConfig(base);
    expect(cfg.listen).toEqual({ host: '127.0.0.1', port: 0 });
    expect(cfg.neighbours).toEqual({ mode: 'complete' });
    expect(cfg.mode).toBe('semi-honest');
    expect(cfg.deadlines['masked-input']).toBe(120_000);
    expect(cfg.dp.delta).toBe(1e-5);
    expect(cfg.colluders).toBe(0);
  });

  it('refuses a threshold at or below the assumed colluders (t > c), naming the field', () => {
    const err = errorOf({ ...base, colluders: 2 });
    expect(err.code).toBe('config/invalid');
    expect(err.message).toContain('colluders: threshold 2 must exceed colluders 2 (t > c)');
    expect(parseFederationConfig({ ...base, threshold: 3, colluders: 2 }).colluders).toBe(2);
    expect(errorOf({ ...base, colluders: -1 }).message).toContain('colluders');
  });

  it('names the field path and the rule of every problem', () => {
    const err = errorOf({ ...base, participants: [keys[0], 'xyz'], dp: { ...base.dp, clipNorm: -1 }, threshold: 1 });
    expect(err.code).toBe('config/invalid');
    expect(err.message).toContain('participants[1]: must be a 32-byte Ed25519 public key');
    expect(err.message).toContain('dp.clipNorm:');
    expect(err.message).toContain('(too_small)');
    expect(err.message).toContain('threshold:');
  });

  it('rejects unknown fields, duplicate keys, a cohort below threshold and ambiguous DP', () => {
    expect(errorOf({ ...base, extra: 1 }).message).toContain('unrecognized_keys');
    expect(errorOf({ ...base, participants: [keys[0], keys[0]] }).message).toContain('participants[1]: duplicate participant key');
    expect(errorOf({ ...base, cohort: { size: 2 }, threshold: 3 }).message).toContain('cohort.size: cohort size 2 is below threshold 3');
    expect(errorOf({ ...base, dp: { ...base.dp, targetEpsilon: 3 } }).message).toContain('dp.noiseMultiplier: mechanism');
    expect(errorOf({ ...base, cohort: { samplingRate: 1.5 } }).message).toContain('cohort');
    expect(errorOf({ ...base, neighbours: { mode: 'secagg+', dropoutFraction: 1.2, corruptionFraction: 0 } }).message).toContain(
      'neighbours.dropoutFraction',
    );
  });

  it('loads YAML and JSON files and reports unreadable ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedveil-config-'));
    const json = join(dir, 'fed.json');
    writeFileSync(json, JSON.stringify(base));
    expect(loadFederationConfig(json).federationId).toBe('fed-1');
    const yaml = join(dir, 'fed.yaml');
    writeFileSync(
      yaml,
      `federationId: fed-2\nparticipants:\n${keys.map((k) => `  - "${k}"`).join('\n')}\nrounds: 1\ncohort: { samplingRate: 0.5 }\nthreshold: 2\n` +
        `dp: { mechanism: none, clipNorm: 1, bits: 16, scale: 0.01 }\nmodel: { name: mlp }\ndim: 4\nstorage: { path: x.db }\nlisten: { port: 8080 }\n`,
    );
    const cfg = loadFederationConfig(yaml);
    expect(cfg.federationId).toBe('fed-2');
    expect(cfg.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    writeFileSync(join(dir, 'bad.yaml'), 'a: [');
    expect(() => loadFederationConfig(join(dir, 'bad.yaml'))).toThrow(expect.objectContaining({ code: 'config/unreadable' }));
    expect(() => loadFederationConfig(join(dir, 'missing.json'))).toThrow(expect.objectContaining({ code: 'config/unreadable' }));
  });
});
