/**
 * Parameter counts of the built-in models, computed from their shape options without building
 * them. A federation's vector length (`dim`) is this number: the coordinator's config derives it
 * here, synchronously and without loading TensorFlow.js. `test/trainer/model-size.test.ts` checks
 * every formula against `countParams` of the model tfjs builds.
 */
import type { ModelSpec } from './models.js';

/** Weights and bias of a dense layer from `inputs` to `units`. */
function dense(inputs: number, units: number): number {
  return (inputs + 1) * units;
}

/** Weights and bias of a 5×5 convolution from `channels` to `filters`. */
function conv5(channels: number, filters: number): number {
  return (25 * channels + 1) * filters;
}

/**
 * The number of float32 values in the weights of the built-in model `spec` describes (defaults
 * filled in as {@link createModel} fills them), or null for a `json` model, whose size is known
 * only once tfjs builds it. Shape options are assumed valid (positive integers).
 */
export function builtinParamCount(spec: ModelSpec): number | null {
  switch (spec.kind) {
    case 'logreg':
      return dense(spec.inputSize, spec.numClasses);
    case 'mlp': {
      const sizes = [spec.inputSize ?? 784, ...(spec.hidden ?? [200, 200]), spec.numClasses ?? 10];
      let n = 0;
      for (let i = 1; i < sizes.length; i++) n += dense(sizes[i - 1]!, sizes[i]!);
      return n;
    }
    case 'cnn': {
      let [h, w, c] = spec.inputShape ?? [28, 28, 1];
      const stride = spec.downsample === 'stride';
      let n = 0;
      for (const f of spec.filters ?? [32, 64]) {
        n += conv5(c, f);
        // A 'same' convolution striding by 2 keeps ⌈h/2⌉ rows; 2×2 pooling (stride 2, 'valid') keeps ⌊h/2⌋.
        h = stride ? Math.ceil(h / 2) : Math.floor(h / 2);
        w = stride ? Math.ceil(w / 2) : Math.floor(w / 2);
        c = f;
      }
      let inputs = h * w * c;
      for (const units of spec.hidden ?? [512]) {
        n += dense(inputs, units);
        inputs = units;
      }
      return n + dense(inputs, spec.numClasses ?? 10);
    }
    case 'json':
      return null;
    default:
      return null;
  }
}
