import { describe, expect, it } from 'vitest';
import { simulateOptionsFromFlags } from '../../src/cli/simulate.js';
import { clippingOf } from '../../src/cli/simulate/options.js';

describe('fedveil simulate --adaptive-clip flags', () => {
  it('takes the rule from its flags and refuses them without --adaptive-clip', () => {
    const o = simulateOptionsFromFlags({ adaptiveClip: true, clipQuantile: '0.3', clipShare: '0.1' });
    expect(clippingOf(o)).toEqual({ adaptive: { targetQuantile: 0.3, normShare: 0.1 } });
    expect(clippingOf(simulateOptionsFromFlags({}))).toBeUndefined();
    expect(() => simulateOptionsFromFlags({ clipLr: '0.5' })).toThrow(/--clip-lr: sets adaptive clipping: give --adaptive-clip too/);
    expect(() => simulateOptionsFromFlags({ adaptiveClip: true, insecureBaseline: true })).toThrow(/--adaptive-clip/);
  });
});
