import { describe, expect, it } from 'vitest';
import { simulateOptionsFromFlags } from '../../src/cli/simulate.js';
import { serverOptimizerOf } from '../../src/cli/simulate/run.js';

describe('simulate --server-lr-decay-from', () => {
  it('gives the server optimiser a cosine decay from that round to the final factor at the last round', () => {
    const o = simulateOptionsFromFlags({ clients: '4', rounds: '80', serverOptimizer: 'fedavgm', serverLr: '8', serverLrDecayFrom: '40', serverLrFinal: '0.2' });
    expect(serverOptimizerOf(o).config).toMatchObject({ kind: 'fedavgm', lr: 8, schedule: { kind: 'cosine', from: 40, to: 80, final: 0.2 } });
    const byDefault = simulateOptionsFromFlags({ clients: '4', rounds: '10', serverOptimizer: 'fedavgm', serverLrDecayFrom: '5' });
    expect(serverOptimizerOf(byDefault).config).toMatchObject({ lr: 1, schedule: { kind: 'cosine', from: 5, to: 10, final: 0.1 } });
  });

  it('keeps a constant server lr without it', () => {
    const o = simulateOptionsFromFlags({ clients: '4', rounds: '10', serverOptimizer: 'fedavg', serverLr: '2' });
    expect(serverOptimizerOf(o).config).toMatchObject({ lr: 2, schedule: { kind: 'constant' } });
  });

  it('refuses a final factor without a decay, a decay that starts at or after the last round, and factors outside [0, 1]', () => {
    expect(() => simulateOptionsFromFlags({ clients: '4', rounds: '10', serverLrFinal: '0.5' })).toThrow(/--server-lr-final needs --server-lr-decay-from/);
    expect(() => simulateOptionsFromFlags({ clients: '4', rounds: '10', serverLrDecayFrom: '10' })).toThrow(/--server-lr-decay-from 10 must be below --rounds 10/);
    expect(() => simulateOptionsFromFlags({ clients: '4', rounds: '10', serverLrDecayFrom: '2.5' })).toThrow(/--server-lr-decay-from/);
    for (const bad of ['-0.1', '1.5']) expect(() => simulateOptionsFromFlags({ clients: '4', rounds: '10', serverLrDecayFrom: '2', serverLrFinal: bad })).toThrow(/--server-lr-final/);
  });
});
