import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/trainer/backend.js';
import { createRng } from '../../src/trainer/rng.js';

function values(n: number, seed: number): Float32Array {
  const r = createRng(seed);
  return Float32Array.from({ length: n }, () => r.nextFloat() * 2 - 1);
}

/** Gradients of Σ conv2d(x, f) ⊙ dy with respect to x and f on one backend. */
async function convGrads(backend: 'cpu' | 'wasm', xShape: [number, number, number, number], fShape: [number, number, number, number], stride: number, pad: 'same' | 'valid'): Promise<{ dx: Float32Array; df: Float32Array }> {
  await initBackend({ prefer: backend });
  return tf.tidy(() => {
    const x = tf.tensor4d(values(xShape.reduce((a, b) => a * b), 1), xShape);
    const f = tf.tensor4d(values(fShape.reduce((a, b) => a * b), 2), fShape);
    const outShape = tf.conv2d(x, f, stride, pad).shape;
    const dy = tf.tensor(values(outShape.reduce((a, b) => a * b), 3), outShape);
    const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad), dy)))([x, f]);
    return { dx: dx!.dataSync() as Float32Array, df: df!.dataSync() as Float32Array };
  });
}

function expectClose(got: Float32Array, want: Float32Array): void {
  expect(got.length).toBe(want.length);
  let scale = 0;
  let err = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]!));
    err = Math.max(err, Math.abs(got[i]! - want[i]!));
  }
  expect(err / scale).toBeLessThan(1e-6);
}

describe('wasm training kernels agree with the cpu backend', () => {
  const cases: [string, [number, number, number, number], [number, number, number, number], number, 'same' | 'valid'][] = [
    ['5×5 same, stride 1 (McMahan CNN)', [2, 9, 9, 3], [5, 5, 3, 4], 1, 'same'],
    ['3×3 valid, stride 2', [2, 10, 10, 3], [3, 3, 3, 4], 2, 'valid'],
    ['3×3 same, stride 2, odd width', [2, 10, 11, 3], [3, 3, 3, 4], 2, 'same'],
    ['4×4 same, stride 3, one channel', [3, 8, 8, 1], [4, 4, 1, 2], 3, 'same'],
    ['2×2 valid, stride 1', [1, 6, 7, 2], [2, 2, 2, 3], 1, 'valid'],
  ];
  for (const [name, xs, fs, stride, pad] of cases) {
    it(`Conv2DBackpropFilter and Conv2DBackpropInput: ${name}`, async () => {
      const cpu = await convGrads('cpu', xs, fs, stride, pad);
      const wasm = await convGrads('wasm', xs, fs, stride, pad);
      expectClose(wasm.df, cpu.df);
      expectClose(wasm.dx, cpu.dx);
    });
  }

  it('BatchMatMul with transposed operands', async () => {
    const run = async (backend: 'cpu' | 'wasm'): Promise<Float32Array[]> => {
      await initBackend({ prefer: backend });
      return tf.tidy(() => {
        const a = tf.tensor2d(values(7 * 5, 4), [7, 5]);
        const b = tf.tensor2d(values(7 * 3, 5), [7, 3]);
        const c = tf.tensor3d(values(2 * 4 * 3, 6), [2, 4, 3]);
        const d = tf.tensor3d(values(2 * 4 * 5, 7), [2, 4, 5]);
        const e = tf.tensor2d(values(3 * 7, 8), [3, 7]);
        return [tf.matMul(a, b, true, false), tf.matMul(a, a, true, false), tf.matMul(c, d, true, false), tf.matMul(a, e, true, true), tf.matMul(a, a, false, true)].map((t) => t.dataSync() as Float32Array);
      });
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    cpu.forEach((want, i) => expectClose(wasm[i]!, want));
  });

  it('leaves no intermediate tensors behind', async () => {
    await initBackend({ prefer: 'wasm' });
    const before = tf.memory().numTensors;
    const bytes = tf.memory().numBytes;
    await convGrads('wasm', [2, 9, 9, 3], [5, 5, 3, 4], 1, 'same');
    await convGrads('wasm', [2, 10, 10, 3], [3, 3, 3, 4], 2, 'valid');
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.memory().numBytes).toBe(bytes);
  });
});
