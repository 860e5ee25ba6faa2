/**
 * Whether the active backend can train a given model. The stock wasm backend registers no
 * `Conv2DBackpropFilter` kernel, so convolutional models fail deep inside tfjs there with an
 * unhelpful message; we check the kernel registry up front and say what to use instead.
 */
import * as tf from '@tensorflow/tfjs';
import { TrainerError } from './errors.js';

/** Kernels the backward pass of each layer class needs beyond what every backend has. */
const GRADIENT_KERNELS: Record<string, readonly string[]> = {
  Conv2D: ['Conv2DBackpropFilter', 'Conv2DBackpropInput'],
  Conv1D: ['Conv2DBackpropFilter', 'Conv2DBackpropInput'],
  DepthwiseConv2D: ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'],
  SeparableConv2D: ['DepthwiseConv2dNativeBackpropFilter', 'Conv2DBackpropFilter'],
  Conv2DTranspose: ['Conv2DBackpropFilter'],
};

/** Kernels `model`'s training needs that the active backend lacks (empty when it can train). */
export function missingTrainingKernels(model: tf.LayersModel): string[] {
  const backend = tf.getBackend();
  const missing = new Set<string>();
  for (const layer of model.layers) {
    for (const kernel of GRADIENT_KERNELS[layer.getClassName()] ?? []) {
      if (tf.getKernel(kernel, backend) === undefined) missing.add(kernel);
    }
  }
  return [...missing];
}

/**
 * Throws `trainer/backend-missing-kernel` when the active backend cannot run `model`'s backward
 * pass, naming the kernels and the backends that can.
 */
export function assertCanTrain(model: tf.LayersModel): void {
  const missing = missingTrainingKernels(model);
  if (missing.length > 0) {
    throw new TrainerError(
      'trainer/backend-missing-kernel',
      `the "${tf.getBackend()}" backend cannot train model "${model.name}": it has no ${missing.join(', ')} kernel ` +
        `(needed for convolution gradients). Install @tensorflow/tfjs-node, or force the cpu backend ` +
        `(correct but very slow for CNNs), or use a model without convolutions (mlp, logreg).`,
    );
  }
}
