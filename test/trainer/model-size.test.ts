import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/trainer/backend.js';
import { builtinParamCount } from '../../src/trainer/model-size.js';
import { createModel, type ModelSpec } from '../../src/trainer/models.js';
import { countParams } from '../../src/trainer/weights.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

describe('builtinParamCount', () => {
  it('is the parameter count of the model tfjs builds, for every built-in shape', async () => {
    const specs: ModelSpec[] = [
      { kind: 'logreg', inputSize: 4, numClasses: 5 },
      { kind: 'logreg', inputSize: 784, numClasses: 10 },
      { kind: 'mlp' },
      { kind: 'mlp', inputSize: 7, hidden: [], numClasses: 3 },
      { kind: 'mlp', inputSize: 13, hidden: [9, 5, 4], numClasses: 2 },
      { kind: 'cnn' },
      { kind: 'cnn', inputShape: [9, 7, 2], numClasses: 3 },
      { kind: 'cnn', inputShape: [4, 5, 1], numClasses: 2 },
      { kind: 'cnn', filters: [8, 16], hidden: [], downsample: 'stride' },
      { kind: 'cnn', filters: [8, 16], hidden: [32], downsample: 'max-pool' },
      // Odd sizes: striding keeps ⌈h/2⌉, pooling ⌊h/2⌋.
      { kind: 'cnn', inputShape: [9, 7, 2], numClasses: 3, filters: [4, 3, 2], hidden: [5], downsample: 'stride' },
      { kind: 'cnn', inputShape: [9, 7, 2], numClasses: 3, filters: [6], hidden: [] },
    ];
    for (const spec of specs) {
      const model = await createModel(spec, 1);
      expect(builtinParamCount(spec), JSON.stringify(spec)).toBe(countParams(model));
      model.dispose();
    }
    expect(builtinParamCount({ kind: 'json', topology: {} })).toBeNull();
  });
});
