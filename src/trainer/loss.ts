/**
 * The training and evaluation loss: categorical cross-entropy on a softmax output, computed the
 * way Keras's `categoricalCrossentropy` does (renormalise, clip to [ε, 1 − ε]) so that our loop
 * and `model.fit` optimise the same objective.
 */
import * as tf from '@tensorflow/tfjs';

/** Keras's fuzz factor. */
const EPSILON = 1e-7;

/** Per-example cross-entropy, shape [batch], from probabilities and one-hot targets. */
export function crossEntropyPerExample(probs: tf.Tensor, oneHot: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const p = tf.clipByValue(tf.div(probs, tf.sum(probs, -1, true)), EPSILON, 1 - EPSILON);
    return tf.neg(tf.sum(tf.mul(oneHot, tf.log(p)), -1)) as tf.Tensor1D;
  });
}
