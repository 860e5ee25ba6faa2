import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadData } from '../../src/cli/client.js';
import { readDataSchema } from '../../src/cli/predict.js';
import { parseFederationConfig } from '../../src/server/config.js';

const dir = mkdtempSync(join(tmpdir(), 'fedveil-client-data-'));
const csv = join(dir, 'd.csv');
writeFileSync(csv, 'day,temp_max,wind,weather\n1,20,3,sun\n2,2,5,snow\n');
const schema = { features: ['temp_max', 'wind'], label: 'weather', classes: ['rain', 'snow', 'sun'], delimiter: ',' };

function refusal(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error('accepted');
}

describe("a client's local data", () => {
  it('is read through the federation schema', () => {
    const ds = loadData(csv, { federationId: 'f', data: schema }, 'flat');
    expect(Array.from(ds.labels)).toEqual([2, 1]);
    expect(ds.numClasses).toBe(3);
  });

  it('is refused, before any round, when it cannot mean what the federation means', () => {
    expect(refusal(() => loadData(csv, { federationId: 'f', data: null }, 'flat'))).toMatchObject({
      code: 'cli/no-data-schema',
      message: expect.stringContaining("federation 'f' publishes no data schema, so CSV data cannot be used"),
    });
    expect(refusal(() => loadData(csv, { federationId: 'f', data: schema }, 'flat', 'outcome'))).toMatchObject({
      code: 'cli/bad-data',
      message: expect.stringContaining("--label outcome contradicts the federation's data schema, whose label column is weather"),
    });
    expect(refusal(() => loadData('mnist:0-10', { federationId: 'f', data: schema }, 'flat'))).toMatchObject({ code: 'cli/bad-data', message: expect.stringContaining('not on MNIST') });
    expect(refusal(() => loadData(csv, { federationId: 'f', data: { ...schema, features: ['temp_max', 'humidity'] } }, 'flat'))).toMatchObject({
      code: 'trainer/csv-unknown-column',
      message: expect.stringContaining(`${csv} does not fit the data schema of federation 'f': feature column "humidity" not found`),
    });
  });
});

describe('predict --schema', () => {
  it('reads a data-schema.json or the data section of a federation config, naming bad fields', () => {
    const file = join(dir, 'data-schema.json');
    writeFileSync(file, JSON.stringify(schema));
    expect(readDataSchema(file)).toEqual(schema);
    const config = join(dir, 'federation.yaml');
    const fed = { federationId: 'f', participants: ['a'.repeat(64), 'b'.repeat(64)], rounds: 1, cohort: { size: 2 }, threshold: 2, dp: { mechanism: 'none', clipNorm: 1, bits: 16, scale: 0.1 }, data: schema, model: { name: 'logreg' }, storage: { path: ':memory:' } };
    expect(parseFederationConfig(fed).dim).toBe(9);
    writeFileSync(config, JSON.stringify(fed));
    expect(readDataSchema(config).classes).toEqual(['rain', 'snow', 'sun']);
    writeFileSync(file, JSON.stringify({ ...schema, classes: ['sun'] }));
    expect(refusal(() => readDataSchema(file))).toMatchObject({ code: 'cli/bad-schema', message: expect.stringContaining('classes:') });
  });
});
