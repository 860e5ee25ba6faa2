/**
 * The model zoo: logistic regression, McMahan et al. 2017's "2NN" MLP and CNN, and any user
 * LayersModel given as a JSON topology. Every built-in model ends in a softmax (Keras convention,
 * so `predict` gives probabilities) and takes flat or image-shaped inputs as its first layer says.
 * Initialisers are seeded so that the initial global model is reproducible from one number.
 */
import * as tf from '@tensorflow/tfjs';
import { TrainerError, ensure } from './errors.js';
import { createRng, type Rng } from './rng.js';

/** Which built-in model, and its shape parameters. */
export type ModelSpec =
  | { kind: 'logreg'; inputSize: number; numClasses: number }
  | { kind: 'mlp'; inputSize?: number; hidden?: readonly number[]; numClasses?: number }
  | { kind: 'cnn'; inputShape?: readonly [number, number, number]; numClasses?: number }
  | { kind: 'json'; topology: string | object };

/** Names accepted by {@link createModel}'s `kind`. */
export const MODEL_KINDS = ['logreg', 'mlp', 'cnn', 'json'] as const;

function positiveInt(v: number, what: string): void {
  ensure(Number.isInteger(v) && v >= 1, 'trainer/bad-model-spec', `${what} must be a positive integer, got ${v}`);
}

function seeds(rng: Rng): () => number {
  // tfjs initialisers take a numeric seed; give each layer its own so they are not correlated.
  return () => rng.nextUint32();
}

/** Multinomial logistic regression: one dense softmax layer. */
export function createLogisticRegression(inputSize: number, numClasses: number, seed: number): tf.Sequential {
  positiveInt(inputSize, 'inputSize');
  positiveInt(numClasses, 'numClasses');
  const next = seeds(createRng(seed));
  return tf.sequential({
    name: 'logreg',
    layers: [
      tf.layers.dense({
        inputShape: [inputSize],
        units: numClasses,
        activation: 'softmax',
        kernelInitializer: tf.initializers.glorotUniform({ seed: next() }),
      }),
    ],
  });
}

/**
 * McMahan et al. 2017's "2NN": fully connected, ReLU hidden layers (default 784-200-200-10,
 * 199,210 parameters).
 */
export function createMlp(seed: number, inputSize = 784, hidden: readonly number[] = [200, 200], numClasses = 10): tf.Sequential {
  positiveInt(inputSize, 'inputSize');
  positiveInt(numClasses, 'numClasses');
  hidden.forEach((h, i) => positiveInt(h, `hidden[${i}]`));
  const next = seeds(createRng(seed));
  const layers: tf.layers.Layer[] = [];
  hidden.forEach((units, i) => {
    layers.push(
      tf.layers.dense({
        ...(i === 0 ? { inputShape: [inputSize] } : {}),
        units,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: next() }),
      }),
    );
  });
  layers.push(
    tf.layers.dense({
      ...(hidden.length === 0 ? { inputShape: [inputSize] } : {}),
      units: numClasses,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: next() }),
    }),
  );
  return tf.sequential({ name: 'mlp', layers });
}

/**
 * McMahan et al. 2017's CNN: two 5×5 convolutions (32 and 64 channels, 'same' padding), each
 * followed by 2×2 max pooling, a 512-unit ReLU layer and a softmax (1,663,370 parameters for
 * MNIST). Accepts flat 784-value inputs and reshapes them to `inputShape`.
 */
export function createCnn(seed: number, inputShape: readonly [number, number, number] = [28, 28, 1], numClasses = 10): tf.Sequential {
  inputShape.forEach((d, i) => positiveInt(d, `inputShape[${i}]`));
  positiveInt(numClasses, 'numClasses');
  const next = seeds(createRng(seed));
  const flat = inputShape[0] * inputShape[1] * inputShape[2];
  return tf.sequential({
    name: 'cnn',
    layers: [
      tf.layers.reshape({ inputShape: [flat], targetShape: [...inputShape] }),
      tf.layers.conv2d({ filters: 32, kernelSize: 5, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: next() }) }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      tf.layers.conv2d({ filters: 64, kernelSize: 5, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: next() }) }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 512, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: next() }) }),
      tf.layers.dense({ units: numClasses, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: next() }) }),
    ],
  });
}

/** Replaces every `seed: null` inside initializer configs with a fresh seed, in document order. */
function seedInitializers(node: unknown, next: () => number): void {
  if (Array.isArray(node)) {
    for (const v of node) seedInitializers(v, next);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  if (typeof obj['class_name'] === 'string' && obj['config'] !== null && typeof obj['config'] === 'object') {
    const cfg = obj['config'] as Record<string, unknown>;
    if ('seed' in cfg && (cfg['seed'] === null || cfg['seed'] === undefined)) cfg['seed'] = next();
  }
  for (const v of Object.values(obj)) seedInitializers(v, next);
}

/**
 * Builds a user model from a Keras/tfjs JSON topology (the `modelTopology` of a `model.json`, or
 * the whole `model.json` object, or its text). Initialisers without a seed get one derived from
 * `seed`. Throws `trainer/bad-model-json` for unparsable text, a missing `class_name`/`config`,
 * or anything tfjs refuses to deserialise; `trainer/bad-model-output` unless the model has one
 * input and one rank-2 output (classes).
 */
export async function modelFromJson(topology: string | object, seed: number): Promise<tf.LayersModel> {
  let parsed: unknown;
  if (typeof topology === 'string') {
    try {
      parsed = JSON.parse(topology);
    } catch (e) {
      throw new TrainerError('trainer/bad-model-json', `model JSON does not parse: ${(e as Error).message}`);
    }
  } else {
    parsed = structuredClone(topology);
  }
  ensure(parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed), 'trainer/bad-model-json', 'model JSON must be an object');
  let root = parsed as Record<string, unknown>;
  if ('modelTopology' in root) {
    const inner = root['modelTopology'];
    ensure(inner !== null && typeof inner === 'object', 'trainer/bad-model-json', '"modelTopology" must be an object');
    root = inner as Record<string, unknown>;
  }
  if ('model_config' in root) {
    const inner = root['model_config'];
    ensure(inner !== null && typeof inner === 'object', 'trainer/bad-model-json', '"model_config" must be an object');
    root = inner as Record<string, unknown>;
  }
  ensure(typeof root['class_name'] === 'string', 'trainer/bad-model-json', 'model JSON needs a string "class_name" (e.g. "Sequential" or "Model")');
  ensure(root['config'] !== null && typeof root['config'] === 'object', 'trainer/bad-model-json', 'model JSON needs a "config" object');
  seedInitializers(root, seeds(createRng(seed)));
  let model: tf.LayersModel;
  try {
    model = await tf.models.modelFromJSON({ modelTopology: root as tf.io.ModelJSON['modelTopology'] });
  } catch (e) {
    throw new TrainerError('trainer/bad-model-json', `tfjs cannot build a model from this JSON: ${(e as Error).message}`);
  }
  if (model.inputs.length !== 1 || model.outputs.length !== 1 || model.outputs[0]!.shape.length !== 2) {
    model.dispose();
    throw new TrainerError('trainer/bad-model-output', 'a federated model needs exactly one input and one output of shape [batch, classes]');
  }
  return model;
}

/** Builds a model from a {@link ModelSpec}; `seed` fixes every initialiser. */
export async function createModel(spec: ModelSpec, seed: number): Promise<tf.LayersModel> {
  switch (spec.kind) {
    case 'logreg':
      return createLogisticRegression(spec.inputSize, spec.numClasses, seed);
    case 'mlp':
      return createMlp(seed, spec.inputSize, spec.hidden, spec.numClasses);
    case 'cnn':
      return createCnn(seed, spec.inputShape, spec.numClasses);
    case 'json':
      return modelFromJson(spec.topology, seed);
    default:
      throw new TrainerError('trainer/bad-model-spec', `unknown model kind "${String((spec as { kind: unknown }).kind)}"; use one of ${MODEL_KINDS.join(', ')}`);
  }
}
