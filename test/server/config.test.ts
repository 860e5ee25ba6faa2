import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFederationConfig, parseFederationConfig } from '../../src/server/config.js';
import { federationDpConfig } from '../../src/server/federation-plan.js';
import { genesisRecord } from '../../src/server/ledger-genesis.js';
import { calibrateConfigNoise } from '../../src/dp/index.js';
import type { FedveilError } from '../../src/secagg/util/errors.js';

const keys = ['a', 'b', 'c'].map((c) => c.repeat(64));
const base = {
  federationId: 'fed-1',
  participants: keys,
  rounds: 2,
  cohort: { size: 3 },
  threshold: 2,
  dp: { mechanism: 'skellam', clipNorm: 1, bits: 20, scale: 0.001, noiseMultiplier: 1 },
  model: { name: 'mlp', options: { inputSize: 2, hidden: [], numClasses: 2 } },
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

  it('calibrates central noise with the accountant dp.accountant names, and refuses it where it cannot hold', () => {
    const central = { ...base, rounds: 10, dp: { mechanism: 'central', clipNorm: 1, bits: 32, scale: 1 / 4096, targetEpsilon: 4 } };
    const rdp = federationDpConfig(parseFederationConfig(central)).noiseMultiplier;
    const pldCfg = parseFederationConfig({ ...central, dp: { ...central.dp, accountant: 'pld' } });
    const pld = federationDpConfig(pldCfg).noiseMultiplier;
    // The tighter accountant needs less noise for the same ε; absent means RDP (and leaves the config as it was).
    expect(pld).toBeLessThan(rdp);
    expect(federationDpConfig(parseFederationConfig({ ...central, dp: { ...central.dp, accountant: 'rdp' } })).noiseMultiplier).toBe(rdp);
    expect(parseFederationConfig(central).dp).not.toHaveProperty('accountant');
    const { noiseMultiplier: _z, ...dpBase } = federationDpConfig(pldCfg);
    expect(pld).toBe(calibrateConfigNoise({ config: { ...dpBase, noiseMultiplier: 1 }, epsilon: 4, delta: 1e-5, rounds: 10, contributors: 2, dim: pldCfg.dim as number, accountant: 'pld' }));
    // The genesis binds the choice through the recorded config and the mechanism it implies.
    const g = genesisRecord(pldCfg, { coordinatorPublicKey: 'ab'.repeat(32), drawSeedCommitment: 'cd'.repeat(32), timestamp: '2026-01-01T00:00:00.000Z', model: { version: 1, hash: 'ef'.repeat(32) } });
    expect((g as unknown as { config: { dp: { accountant?: string } } }).config.dp.accountant).toBe('pld');
    expect(errorOf({ ...base, dp: { ...base.dp, noiseMultiplier: undefined, targetEpsilon: 4, accountant: 'pld' } }).message).toContain("dp.accountant: the PLD accountant calibrates central noise only; 'skellam'");
    expect(errorOf({ ...base, dp: { ...base.dp, accountant: 'rdp' } }).message).toContain('dp.accountant: accountant picks how targetEpsilon is calibrated');
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
        `dp: { mechanism: none, clipNorm: 1, bits: 16, scale: 0.01 }\nmodel: { name: logreg, options: { inputSize: 1, numClasses: 2 } }\nstorage: { path: x.db }\nlisten: { port: 8080 }\n`,
    );
    const cfg = loadFederationConfig(yaml);
    expect(cfg.federationId).toBe('fed-2');
    expect(cfg.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    writeFileSync(join(dir, 'bad.yaml'), 'a: [');
    expect(() => loadFederationConfig(join(dir, 'bad.yaml'))).toThrow(expect.objectContaining({ code: 'config/unreadable' }));
    expect(() => loadFederationConfig(join(dir, 'missing.json'))).toThrow(expect.objectContaining({ code: 'config/unreadable' }));
  });
});

describe('the data schema and the model it determines', () => {
  const data = { features: ['precipitation', 'temp_max', 'temp_min', 'wind'], label: 'weather', classes: ['drizzle', 'fog', 'rain', 'snow', 'sun'] };

  it('derives the model input size, class count and dim from the schema', () => {
    const cfg = parseFederationConfig({ ...base, data, model: { name: 'logreg' } });
    expect(cfg.model.options).toEqual({ inputSize: 4, numClasses: 5 });
    expect(cfg.dim).toBe((4 + 1) * 5);
    expect(cfg.data).toEqual({ ...data, delimiter: ',' });
    const mlp = parseFederationConfig({ ...base, data, model: { name: 'mlp', options: { hidden: [8] } } });
    expect(mlp.model.options).toEqual({ inputSize: 4, hidden: [8], numClasses: 5 });
    expect(mlp.dim).toBe(5 * 8 + 9 * 5);
    // an explicit dim is accepted only when it matches
    expect(parseFederationConfig({ ...base, data, model: { name: 'logreg' }, dim: 25 }).dim).toBe(25);
  });

  it('refuses a typed dim or option that contradicts the schema, naming the field', () => {
    expect(errorOf({ ...base, data, model: { name: 'logreg' }, dim: 199210 }).message).toContain(
      "dim: 199210 does not match the 25 parameters of model 'logreg' (inputSize 4, numClasses 5); leave dim out: it is derived",
    );
    expect(errorOf({ ...base, data, model: { name: 'logreg', options: { numClasses: 4 } } }).message).toContain(
      'model.options.numClasses: 4 does not match the 5 classes of data.classes',
    );
    expect(errorOf({ ...base, data, model: { name: 'mlp', options: { inputSize: 3 } } }).message).toContain('model.options.inputSize: 3 does not match the 4 feature columns');
    expect(errorOf({ ...base, data, model: { name: 'cnn' } }).message).toContain('model.options.inputShape: the default [28, 28, 1] holds 784 values but data.features lists 4 columns');
  });

  it('checks model.options per model and names the field of each problem', () => {
    expect(errorOf({ ...base, model: { name: 'mlp', options: { hidden: [8, -1] } } }).message).toContain('model.options.hidden[1]:');
    expect(errorOf({ ...base, model: { name: 'mlp', options: { hiden: [8] } } }).message).toMatch(/model\.options: .*hiden/);
    expect(errorOf({ ...base, model: { name: 'logreg' } }).message).toContain("model.options.inputSize: required for model 'logreg'");
    expect(errorOf({ ...base, model: { name: 'json', options: { topology: {} } } }).message).toContain("dim: required: a 'json' model's size is known only once it is built");
    expect(errorOf({ ...base, model: { name: 'custom' } }).message).toContain("dim: required: 'custom' is not a built-in model");
    expect(parseFederationConfig({ ...base, model: { name: 'custom' }, dim: 7 }).dim).toBe(7);
    expect(errorOf({ ...base, model: { name: 'cnn', options: { downsample: 'avg-pool' } } }).message).toContain('model.options.downsample:');
    expect(errorOf({ ...base, model: { name: 'cnn', options: { filters: [] } } }).message).toContain('model.options.filters:');
    expect(errorOf({ ...base, model: { name: 'cnn', options: { filters: [4, 4, 4, 4, 4] } } }).message).toContain(
      "model.options.filters: 5 convolutions, each followed by 2×2 max pooling, leave nothing of a 28×28 image: use fewer, or downsample 'stride'",
    );
  });

  it('resolves McMahan et al.\'s CNN as before, and a small CNN with its architecture and derived dim', () => {
    const mcmahan = parseFederationConfig({ ...base, model: { name: 'cnn' } });
    expect(mcmahan.model.options).toEqual({ inputShape: [28, 28, 1], numClasses: 10 });
    expect(mcmahan.dim).toBe(1_663_370);
    const small = parseFederationConfig({ ...base, model: { name: 'cnn', options: { filters: [8, 16], hidden: [], downsample: 'stride' } } });
    expect(small.model.options).toEqual({ inputShape: [28, 28, 1], numClasses: 10, filters: [8, 16], hidden: [], downsample: 'stride' });
    expect(small.dim).toBe(11_274);
    expect(parseFederationConfig({ ...base, model: { name: 'cnn', options: { filters: [4, 4, 4, 4, 4], downsample: 'stride' } } }).dim).toBeGreaterThan(0);
  });

  it('refuses a schema whose classes, columns or standardisation do not add up', () => {
    expect(errorOf({ ...base, data: { ...data, classes: ['sun', 'rain', 'sun'] }, model: { name: 'logreg' } }).message).toContain('data.classes[2]: class "sun" is listed twice');
    expect(errorOf({ ...base, data: { ...data, features: [...data.features, 'weather'] }, model: { name: 'logreg' } }).message).toContain(
      'data.label: the label column "weather" cannot also be a feature',
    );
    expect(errorOf({ ...base, data: { ...data, standardize: { mean: [0, 0, 0, 0], std: [1, 1, 1] } }, model: { name: 'logreg' } }).message).toContain(
      'data.standardize.std: has 3 values; it needs one per feature column (4)',
    );
    expect(errorOf({ ...base, data: { ...data, standardize: { mean: [0, 0, 0, 0], std: [1, 0, 1, 1] } }, model: { name: 'logreg' } }).message).toContain('data.standardize.std[1]');
    expect(errorOf({ ...base, data: { ...data, delimiter: '"' }, model: { name: 'logreg' } }).message).toContain('data.delimiter: must not be a quote');
  });

  it('waits by default for as many joined participants as a round needs', () => {
    expect(parseFederationConfig(base).minJoined).toBe(2);
    expect(parseFederationConfig({ ...base, dp: { ...base.dp, minContributors: 3 } }).minJoined).toBe(3);
    expect(errorOf({ ...base, minJoined: 4 }).message).toContain('minJoined: minJoined 4 exceeds the 3 allowed participants');
  });
});

describe('paths in a config file', () => {
  it('are relative to the config file, not to the working directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedveil-config-paths-'));
    const file = join(dir, 'fed.json');
    writeFileSync(file, JSON.stringify({ ...base, storage: { path: 'state/coordinator.db' }, identity: 'coordinator.key.json', listen: { tls: { cert: 'tls/cert.pem', key: '/etc/k.pem' } } }));
    const cfg = loadFederationConfig(file);
    expect(cfg.storage.path).toBe(join(dir, 'state/coordinator.db'));
    expect(cfg.identity).toBe(join(dir, 'coordinator.key.json'));
    expect(cfg.listen.tls).toEqual({ cert: join(dir, 'tls/cert.pem'), key: '/etc/k.pem' });
    writeFileSync(file, JSON.stringify(base));
    expect(loadFederationConfig(file).storage.path).toBe(':memory:');
  });
});

describe('storage on PostgreSQL', () => {
  const pgUrl = 'postgres://fedveil:secret@db.internal:5432/fedveil';
  it('takes a postgres URL, an optional schema and a shared identity; paths stay untouched', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fedveil-config-pg-'));
    const file = join(dir, 'fed.json');
    writeFileSync(file, JSON.stringify({ ...base, storage: { postgres: pgUrl, schema: 'fed_a' }, identity: 'key.json' }));
    const cfg = loadFederationConfig(file);
    expect(cfg.storage).toEqual({ postgres: pgUrl, schema: 'fed_a' });
    expect(cfg.identity).toBe(join(dir, 'key.json'));
  });

  it('refuses both or neither store, a schema without postgres, a bad schema and a postgres store without an identity', () => {
    expect(errorOf({ ...base, storage: { path: 'x.db', postgres: pgUrl }, identity: 'k.json' }).message).toMatch(/storage: give exactly one/);
    expect(errorOf({ ...base, storage: {} }).message).toMatch(/storage: give exactly one/);
    expect(errorOf({ ...base, storage: { path: 'x.db', schema: 's' } }).message).toMatch(/storage.schema applies only/);
    expect(errorOf({ ...base, storage: { postgres: pgUrl, schema: 'a-b' }, identity: 'k.json' }).message).toMatch(/storage.schema: letters, digits/);
    expect(errorOf({ ...base, storage: { postgres: 'mysql://x' }, identity: 'k.json' }).message).toMatch(/storage.postgres: must be a postgres/);
    const noKey = errorOf({ ...base, storage: { postgres: pgUrl } });
    expect(noKey.code).toBe('config/invalid');
    expect(noKey.message).toMatch(/identity: storage.postgres needs an identity file/);
  });
});
