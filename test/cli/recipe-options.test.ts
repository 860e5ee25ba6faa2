import { describe, expect, it } from 'vitest';
import { recipeRunOf } from '../../bench/recipe/index.js';
import { calibrateNoiseMultiplier } from '../../src/dp/index.js';

describe('the recipe exploration bench', () => {
  it('calibrates z as simulate does for a secret Poisson draw (PLD, ε against model observers)', () => {
    const r = recipeRunOf({ population: '10000', cohort: '1000', rounds: '100', epsilon: '4' });
    expect(r.noiseMultiplier).toBe(calibrateNoiseMultiplier({ epsilon: 4, delta: 1e-5, samplingRate: 0.1, steps: 100, accountant: 'pld' }));
    // The 100-round utility run at this population recorded z = 1.386.
    expect(r.noiseMultiplier).toBeCloseTo(1.386, 3);
    expect(r.adaptive).toBeNull();
  });

  it('takes a given noise multiplier, zero included, and the adaptive rule with its bounds', () => {
    expect(recipeRunOf({ 'noise-multiplier': '0' }).noiseMultiplier).toBe(0);
    const r = recipeRunOf({ clip: '0.25', 'adaptive-clip': 'true', 'clip-lr': '1', 'clip-max': '0.25' });
    expect(r.adaptive).toEqual({ quantile: 0.5, lr: 1, share: 0.2, max: 0.25 });
    expect(recipeRunOf({ rounds: '80', 'server-lr-decay-from': '40', 'noise-multiplier': '1' }).serverLrSchedule).toEqual({ kind: 'cosine', from: 40, to: 80, final: 0.1 });
    expect(recipeRunOf({ 'noise-multiplier': '1' }).serverLrSchedule).toEqual({ kind: 'constant' });
    expect(recipeRunOf({ 'noise-multiplier': '1' })).toMatchObject({ model: 'mlp', hidden: [128], filters: undefined });
    expect(recipeRunOf({ model: 'cnn', filters: '8,16', hidden: 'none', downsample: 'stride', 'noise-multiplier': '1' })).toMatchObject({ model: 'cnn', filters: [8, 16], hidden: [], downsample: 'stride' });
  });

  it('refuses what it cannot run, naming it', () => {
    expect(() => recipeRunOf({ cohrt: '5' })).toThrow(/unknown option\(s\) --cohrt/);
    expect(() => recipeRunOf({ population: '100', cohort: '200' })).toThrow(/0 < cohort ≤ population/);
    expect(() => recipeRunOf({ rounds: '2.5' })).toThrow(/--rounds must be a positive integer/);
    expect(() => recipeRunOf({ 'noise-multiplier': '-1' })).toThrow(/--noise-multiplier must be ≥ 0/);
    expect(() => recipeRunOf({ hidden: 'wide', 'noise-multiplier': '1' })).toThrow(/--hidden/);
    expect(() => recipeRunOf({ clip: '0', 'noise-multiplier': '1' })).toThrow(/--clip must be > 0/);
    expect(() => recipeRunOf({ 'adaptive-clip': 'true', 'clip-max': '0.1', 'noise-multiplier': '1' })).toThrow(/min ≤ initial ≤ max/);
    expect(() => recipeRunOf({ 'adaptive-clip': 'true', 'clip-share': '1', 'noise-multiplier': '1' })).toThrow(/--clip-share must be in \(0, 1\)/);
    expect(() => recipeRunOf({ model: 'logreg', 'noise-multiplier': '1' })).toThrow(/--model must be mlp or cnn/);
    expect(() => recipeRunOf({ filters: '8,16', 'noise-multiplier': '1' })).toThrow(/--filters and --downsample apply to --model cnn, not mlp/);
    expect(() => recipeRunOf({ model: 'cnn', filters: '8,,16', 'noise-multiplier': '1' })).toThrow(/--filters takes comma-separated channel counts/);
    expect(() => recipeRunOf({ model: 'cnn', downsample: 'avg', 'noise-multiplier': '1' })).toThrow(/downsample/);
    expect(() => recipeRunOf({ 'server-lr-final': '0.5', 'noise-multiplier': '1' })).toThrow(/--server-lr-final needs --server-lr-decay-from/);
    expect(() => recipeRunOf({ rounds: '40', 'server-lr-decay-from': '40', 'noise-multiplier': '1' })).toThrow(/--server-lr-decay-from 40 must be below --rounds 40/);
    expect(() => recipeRunOf({ 'server-lr-decay-from': '10', 'server-lr-final': '2', 'noise-multiplier': '1' })).toThrow(/--server-lr-final: Too big/);
  });
});
