import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/trainer/backend.js';
import { createMlp } from '../../src/trainer/models.js';
import { countParams, getFlatWeights, setFlatWeights, weightShapes } from '../../src/trainer/weights.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

describe('flat weights', () => {
  it('round-trip bit for bit, including -0, subnormals and extremes', () => {
    const model = createMlp(1, 5, [4], 3);
    const n = countParams(model);
    expect(n).toBe(5 * 4 + 4 + 4 * 3 + 3);
    expect(weightShapes(model).map((w) => w.shape)).toEqual([[5, 4], [4], [4, 3], [3]]);
    fc.assert(
      fc.property(fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n }), (values) => {
        const flat = Float32Array.from(values);
        setFlatWeights(model, flat);
        const back = getFlatWeights(model);
        expect(new Uint32Array(back.buffer)).toEqual(new Uint32Array(flat.buffer));
      }),
      { numRuns: 30 },
    );
    const special = new Float32Array(n);
    special[0] = -0;
    special[1] = 1.4e-45;
    special[2] = 3.4028234663852886e38;
    setFlatWeights(model, special);
    expect(new Uint32Array(getFlatWeights(model).buffer)).toEqual(new Uint32Array(special.buffer));
    model.dispose();
  });

  it('does not alias the caller buffer and leaks no tensors', () => {
    const model = createMlp(1, 5, [4], 3);
    const flat = new Float32Array(countParams(model)).fill(0.5);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) setFlatWeights(model, flat);
    expect(tf.memory().numTensors).toBe(before);
    flat[0] = 9;
    expect(getFlatWeights(model)[0]).toBe(0.5);
    model.dispose();
  });

  it('rejects a vector of the wrong length or type before writing anything', () => {
    const model = createMlp(1, 5, [4], 3);
    const original = getFlatWeights(model);
    expect(() => setFlatWeights(model, new Float32Array(original.length - 1))).toThrow(
      expect.objectContaining({ code: 'trainer/weights-length-mismatch', message: expect.stringContaining(`${original.length} parameters`) }),
    );
    expect(() => setFlatWeights(model, new Float64Array(original.length) as never)).toThrow(expect.objectContaining({ code: 'trainer/weights-type' }));
    expect(getFlatWeights(model)).toEqual(original);
    model.dispose();
  });
});
