import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/trainer/backend.js';
import { createCnn, createLogisticRegression, createMlp, createModel, modelFromJson } from '../../src/trainer/models.js';
import { countParams, getFlatWeights } from '../../src/trainer/weights.js';

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
});

describe('built-in models', () => {
  it('have the published parameter counts', () => {
    const models = [createLogisticRegression(784, 10, 1), createMlp(1), createCnn(1)];
    // 2NN: 784·200+200 + 200·200+200 + 200·10+10; CNN (McMahan 2017, 'same' padding): 1,663,370.
    expect(models.map(countParams)).toEqual([7850, 199210, 1663370]);
    for (const m of models) m.dispose();
  });

  it('initialise reproducibly from the seed', () => {
    const a = createMlp(11, 20, [8], 3);
    const b = createMlp(11, 20, [8], 3);
    const c = createMlp(12, 20, [8], 3);
    expect(getFlatWeights(a)).toEqual(getFlatWeights(b));
    expect(getFlatWeights(a)).not.toEqual(getFlatWeights(c));
    for (const m of [a, b, c]) m.dispose();
  });

  it('rejects bad shape parameters', async () => {
    expect(() => createMlp(1, 0)).toThrow(expect.objectContaining({ code: 'trainer/bad-model-spec' }));
    expect(() => createLogisticRegression(4, 1.5, 1)).toThrow(expect.objectContaining({ code: 'trainer/bad-model-spec' }));
    await expect(createModel({ kind: 'resnet' } as never, 1)).rejects.toMatchObject({ code: 'trainer/bad-model-spec' });
  });
});

describe('user models from JSON topology', () => {
  const userTopology = (): object => {
    const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [6], units: 4, activation: 'relu' }), tf.layers.dense({ units: 3, activation: 'softmax' })] });
    const json = m.toJSON(undefined, false) as object;
    m.dispose();
    return json;
  };

  it('builds a model from a topology object or text, seeding unseeded initialisers', async () => {
    const topo = userTopology();
    const a = await modelFromJson(JSON.stringify(topo), 5);
    const b = await createModel({ kind: 'json', topology: topo }, 5);
    const c = await modelFromJson({ modelTopology: topo }, 6);
    expect(countParams(a)).toBe(6 * 4 + 4 + 4 * 3 + 3);
    expect(getFlatWeights(a)).toEqual(getFlatWeights(b));
    expect(getFlatWeights(a)).not.toEqual(getFlatWeights(c));
    for (const m of [a, b, c]) m.dispose();
  });

  it('names what is wrong with malformed JSON', async () => {
    await expect(modelFromJson('{"class_name": "Sequential", ', 1)).rejects.toMatchObject({ code: 'trainer/bad-model-json', message: expect.stringContaining('does not parse') });
    await expect(modelFromJson('[]', 1)).rejects.toMatchObject({ code: 'trainer/bad-model-json' });
    await expect(modelFromJson({ config: {} }, 1)).rejects.toMatchObject({ code: 'trainer/bad-model-json', message: expect.stringContaining('class_name') });
    await expect(modelFromJson({ class_name: 'Sequential' }, 1)).rejects.toMatchObject({ code: 'trainer/bad-model-json', message: expect.stringContaining('config') });
    await expect(
      modelFromJson({ class_name: 'Sequential', config: { name: 's', layers: [{ class_name: 'NoSuchLayer', config: {} }] } }, 1),
    ).rejects.toMatchObject({ code: 'trainer/bad-model-json', message: expect.stringContaining('tfjs cannot build') });
  });
});
