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
  | {
      kind: 'cnn';
      inputShape?: readonly [number, number, number];
      numClasses?: number;
      /** Channels of each 5×5 convolution (default McMahan et al.'s 32, 64). */
      filters?: readonly number[];
      /** Widths of the ReLU layers between the convolutions and the softmax (default 512; may be empty). */
      hidden?: readonly number[];
      /** How each convolution halves the image: 2×2 max pooling after it (default), or a stride of 2 in it (a quarter of the arithmetic). */
      downsample?: CnnDownsample;
    }
  | { kind: 'json'; topology: string | object };

/** How a CNN's convolutions halve the image, see {@link ModelSpec}. */
export type CnnDownsample = 'max-pool' | 'stride';

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

/** The shape of a CNN beyond its input and classes; defaults are McMahan et al. 2017's. */
export interface CnnArchitecture {
  filters?: readonly number[];
  hidden?: readonly number[];
  downsample?: CnnDownsample;
}

/**
 * A CNN of 5×5 'same' ReLU convolutions, each halving the image, then dense ReLU layers and a
 * softmax. By default McMahan et al. 2017's CNN: 32 and 64 channels, each followed by 2×2 max
 * pooling, and a 512-unit layer (1,663,370 parameters for MNIST). Under client-level DP the noise
 * grows with the parameter count, so a federation may choose far fewer (filters 8, 16 striding,
 * no hidden layer: 11,274). Accepts flat inputs and reshapes them to `inputShape`.
 */
export function createCnn(seed: number, inputShape: readonly [number, number, number] = [28, 28, 1], numClasses = 10, arch: CnnArchitecture = {}): tf.Sequential {
  inputShape.forEach((d, i) => positiveInt(d, `inputShape[${i}]`));
  positiveInt(numClasses, 'numClasses');
  const filters = arch.filters ?? [32, 64];
  const hidden = arch.hidden ?? [512];
  const downsample = arch.downsample ?? 'max-pool';
  ensure(filters.length >= 1, 'trainer/bad-model-spec', 'a CNN needs at least one convolution');
  filters.forEach((f, i) => positiveInt(f, `filters[${i}]`));
  hidden.forEach((u, i) => positiveInt(u, `hidden[${i}]`));
  ensure(downsample === 'max-pool' || downsample === 'stride', 'trainer/bad-model-spec', `downsample must be "max-pool" or "stride", got "${String(downsample)}"`);
  const next = seeds(createRng(seed));
  const flat = inputShape[0] * inputShape[1] * inputShape[2];
  const layers: tf.layers.Layer[] = [tf.layers.reshape({ inputShape: [flat], targetShape: [...inputShape] })];
  for (const f of filters) {
    const strides = downsample === 'stride' ? 2 : 1;
    layers.push(tf.layers.conv2d({ filters: f, kernelSize: 5, strides, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: next() }) }));
    if (downsample === 'max-pool') layers.push(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
  }
  layers.push(tf.layers.flatten());
  for (const units of hidden) layers.push(tf.layers.dense({ units, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: next() }) }));
  layers.push(tf.layers.dense({ units: numClasses, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: next() }) }));
  return tf.sequential({ name: 'cnn', layers });
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
      return createCnn(seed, spec.inputShape, spec.numClasses, spec);
    case 'json':
      return modelFromJson(spec.topology, seed);
    default:
      throw new TrainerError('trainer/bad-model-spec', `unknown model kind "${String((spec as { kind: unknown }).kind)}"; use one of ${MODEL_KINDS.join(', ')}`);
  }
}
