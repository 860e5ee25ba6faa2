import { describe, expect, it } from 'vitest';
import { identities, smallConfig } from './harness.js';

// Features that change what a round's vector carries do not all compose; the config says which, by name.
describe('federation config: features that cannot be combined', () => {
  const people = identities(3);
  const data = { features: ['a', 'b'], label: 'y', classes: ['no', 'yes'], standardize: { federated: { lower: [0, 0], upper: [1, 1] } } };

  it('refuses adaptive clipping in an asynchronous federation', () => {
    expect(() => smallConfig(people, { async: {}, clipping: { adaptive: {} } })).toThrow(/clipping: adaptive clipping is not available in asynchronous federations/);
  });

  it('refuses adaptive clipping together with federated standardisation', () => {
    expect(() => smallConfig(people, { data, clipping: { adaptive: {} } })).toThrow(/clipping: adaptive clipping is not available together with federated standardisation/);
  });

  it('accepts each of them alone', () => {
    expect(smallConfig(people, { async: {} }).async).toBeDefined();
    expect(smallConfig(people, { clipping: { adaptive: {} } }).clipping?.adaptive).toBeDefined();
    expect(smallConfig(people, { data }).data?.standardize).toBeDefined();
  });
});
