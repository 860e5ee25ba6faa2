import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SimulationSummary } from '../../src/cli/simulate/run.js';
import { simulateOptionsFromFlags } from '../../src/cli/simulate.js';
import { modelSpecOf } from '../../src/cli/simulate/options.js';
import { planSimulation } from '../../src/cli/simulate/plan.js';
import { resolveFederationModel } from '../../src/server/federation-model.js';
import { builtinParamCount } from '../../src/trainer/model-size.js';

describe('simulate --hidden', () => {
  it('gives the MLP its hidden widths, in the trainer and in the federation config participants build from', () => {
    const o = simulateOptionsFromFlags({ model: 'mlp', hidden: '64, 32', clients: '4', dp: 'none' });
    expect(o.hidden).toEqual([64, 32]);
    const dim = 784 * 64 + 64 + 64 * 32 + 32 + 32 * 10 + 10;
    expect(builtinParamCount(modelSpecOf(o))).toBe(dim);
    const plan = planSimulation(o, dim, ':memory:', 1000);
    expect(plan.config.model).toEqual({ name: 'mlp', options: { inputSize: 784, hidden: [64, 32], numClasses: 10 } });
    const resolved = resolveFederationModel(plan.config.model, undefined, undefined);
    expect('dim' in resolved && resolved.dim).toBe(dim);
  });

  it('keeps the default MLP without it', () => {
    const o = simulateOptionsFromFlags({ model: 'mlp', clients: '4', dp: 'none' });
    expect(o.hidden).toBeUndefined();
    expect(builtinParamCount(modelSpecOf(o))).toBe(784 * 200 + 200 + 200 * 200 + 200 + 200 * 10 + 10);
  });

  it('refuses widths that are not positive integers, and models without hidden layers', () => {
    for (const bad of ['', '0', '32,', '-8', '1.5', 'wide']) {
      expect(() => simulateOptionsFromFlags({ model: 'mlp', hidden: bad })).toThrow(/--hidden takes comma-separated layer widths/);
    }
    expect(() => simulateOptionsFromFlags({ model: 'logreg', hidden: '32' })).toThrow(/--hidden: hidden layer widths apply to --model mlp or cnn, not logreg/);
    expect(() => simulateOptionsFromFlags({ model: 'mlp', hidden: 'none' })).toThrow(/--hidden none applies to --model cnn/);
    expect(() => simulateOptionsFromFlags({ model: 'mlp', hidden: '5000' })).toThrow(/--hidden/);
  });
});

describe('simulate --model cnn --filters --downsample --hidden', () => {
  it('gives the CNN its convolutions, dense layers and downsampling, in the trainer and in the federation config', () => {
    const o = simulateOptionsFromFlags({ model: 'cnn', filters: '8,16', hidden: 'none', downsample: 'stride', clients: '4', dp: 'none' });
    expect(o).toMatchObject({ filters: [8, 16], hidden: [], downsample: 'stride' });
    const spec = modelSpecOf(o);
    expect(spec).toEqual({ kind: 'cnn', filters: [8, 16], hidden: [], downsample: 'stride' });
    // 5×5×1×8 + 8, 5×5×8×16 + 16, then a softmax over the 7×7×16 image.
    const dim = 208 + 3216 + (7 * 7 * 16 + 1) * 10;
    expect(builtinParamCount(spec)).toBe(dim);
    const plan = planSimulation(o, dim, ':memory:', 1000);
    expect(plan.config.model).toEqual({ name: 'cnn', options: { inputShape: [28, 28, 1], numClasses: 10, filters: [8, 16], hidden: [], downsample: 'stride' } });
    const resolved = resolveFederationModel(plan.config.model, undefined, undefined);
    expect('dim' in resolved && resolved.dim).toBe(dim);
  });

  it('keeps McMahan et al.\'s CNN without them, and refuses them for other models', () => {
    const o = simulateOptionsFromFlags({ model: 'cnn', clients: '4', dp: 'none' });
    expect(modelSpecOf(o)).toEqual({ kind: 'cnn' });
    expect(builtinParamCount(modelSpecOf(o))).toBe(1_663_370);
    expect(() => simulateOptionsFromFlags({ model: 'mlp', filters: '8' })).toThrow(/--filters and --downsample apply to --model cnn, not mlp/);
    expect(() => simulateOptionsFromFlags({ model: 'logreg', downsample: 'stride' })).toThrow(/--filters and --downsample apply to --model cnn, not logreg/);
    for (const bad of ['', '0', '8,', 'x']) expect(() => simulateOptionsFromFlags({ model: 'cnn', filters: bad })).toThrow(/--filters takes comma-separated channel counts/);
  });
});

describe('simulate --model-average', () => {
  const out = mkdtempSync(join(tmpdir(), 'fedveil-avg-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('evaluates and saves the moving average of the released models beside the last release, at the same ε', () => {
    const stdout = execFileSync(
      'node',
      ['--import', 'tsx', 'src/cli/main.ts', 'simulate', '--clients', '4', '--rounds', '3', '--examples', '60', '--test-examples', '500', '--model', 'mlp', '--hidden', '8',
        '--model-average', '0.5', '--dropout', '0', '--epsilon', '6', '--workers', '2', '--seed', '3', '--out', out, '--json'],
      { encoding: 'utf8', maxBuffer: 1 << 24 },
    );
    const s = JSON.parse(stdout) as SimulationSummary;
    expect(s.rounds).toHaveLength(3);
    // The first release is averaged from itself alone: same model, same score.
    expect(s.rounds[0]!.averaged).toEqual({ accuracy: s.rounds[0]!.accuracy, loss: s.rounds[0]!.loss });
    for (const r of s.rounds) expect(r.averaged).toBeDefined();
    expect(s.final.averaged).toMatchObject({ decay: 0.5, versions: 3, accuracy: s.rounds[2]!.averaged!.accuracy, loss: s.rounds[2]!.averaged!.loss });
    // The final accuracy is still the last released model's, and both models are written, different.
    expect(s.final.accuracy).toBe(s.rounds[2]!.accuracy);
    const averagedJson = s.final.averaged!.model;
    expect(averagedJson).toBe(join(out, 'model-averaged', 'model.json'));
    expect(existsSync(averagedJson) && existsSync(s.model)).toBe(true);
    const weightsOf = (json: string) => readFileSync(join(json, '..', 'weights.bin'));
    expect(weightsOf(averagedJson).length).toBe(4 * (784 * 8 + 8 + 8 * 10 + 10));
    expect(weightsOf(averagedJson).equals(weightsOf(s.model))).toBe(false);
  }, 120_000);
});
