/**
 * Training kernels the stock tfjs wasm backend lacks. Without `Conv2DBackpropFilter` no
 * convolutional model can train on wasm. We register it through tfjs's public kernel registry,
 * built from kernels wasm already has (XNNPACK convolution, transpose, slice) with the standard
 * identity: the filter gradient is a convolution of the input with the output gradient, batch
 * and channel axes swapped, the forward stride becoming a dilation.
 *
 *   dW[kh, kw, ci, co] = Σ_b Σ_oh Σ_ow xpad[b, oh·s + kh, ow·s + kw, ci] · dy[b, oh, ow, co]
 *                      = conv(x'[ci, H, W, b], dy'[oh, ow, b, co]; dilation s, stride 1)[ci, kh, kw, co]
 */
import * as tf from '@tensorflow/tfjs';
import { TrainerError } from './errors.js';

type TensorInfo = tf.TensorInfo;
type Backend = { disposeData(dataId: object): boolean };
type Conv2DBackpropFilterAttrs = {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
};

function wasmKernel(name: string): tf.KernelConfig {
  const k = tf.getKernel(name, 'wasm');
  if (k === undefined) throw new TrainerError('trainer/backend-missing-kernel', `the wasm backend has no ${name} kernel to build on`);
  return k;
}

function conv2DBackpropFilterWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): TensorInfo {
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  const backend = args.backend as Backend;
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new TrainerError('trainer/backend-missing-kernel', `wasm Conv2DBackpropFilter supports only NHWC data, got ${attrs.dataFormat}`);
  }
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const [kh, kw, ci, co] = attrs.filterShape;
  const transpose = wasmKernel('Transpose').kernelFunc;
  const conv = wasmKernel('Conv2D').kernelFunc;
  const slice = wasmKernel('Slice').kernelFunc;
  const temps: TensorInfo[] = [];
  const run = (f: tf.KernelFunc, inputs: tf.NamedTensorInfoMap, a: object): TensorInfo => {
    const out = f({ inputs, backend: backend as never, attrs: a as tf.NamedAttrMap }) as TensorInfo;
    temps.push(out);
    return out;
  };
  try {
    const xT = run(transpose, { x }, { perm: [3, 1, 2, 0] }); // [ci, H, W, B]
    const dyT = run(transpose, { x: dy }, { perm: [1, 2, 0, 3] }); // [OH, OW, B, co]
    const pad = [
      [0, 0],
      [info.padInfo.top, info.padInfo.bottom],
      [info.padInfo.left, info.padInfo.right],
      [0, 0],
    ];
    const g = run(conv, { x: xT, filter: dyT }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [info.strideHeight, info.strideWidth], dimRoundingMode: undefined });
    // The convolution can overhang the filter window by up to stride − 1 rows/columns; keep [0, k).
    const gs = g.shape[1] === kh && g.shape[2] === kw ? g : run(slice, { x: g }, { begin: [0, 0, 0, 0], size: [ci, kh, kw, co] });
    const out = transpose({ inputs: { x: gs }, backend: backend as never, attrs: { perm: [1, 2, 0, 3] } }) as TensorInfo;
    return out;
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/**
 * Input gradient of a stride-1 convolution as a forward convolution of dy with the filter
 * flipped in space and transposed in channels, padded by k − 1 − pad (XNNPACK does the work).
 * Other strides fall through to the stock kernel.
 */
function conv2DBackpropInputWasm(stock: tf.KernelFunc) {
  return (args: KernelArgs): TensorInfo => {
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const attrs = args.attrs as unknown as Omit<Conv2DBackpropFilterAttrs, 'filterShape'> & { inputShape: [number, number, number, number] };
    const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
    if ((attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') || info.strideHeight !== 1 || info.strideWidth !== 1) {
      return stock(args as never) as TensorInfo;
    }
    const backend = args.backend as Backend;
    const [kh, kw] = filter.shape as [number, number, number, number];
    const temps: TensorInfo[] = [];
    const run = (name: string, inputs: tf.NamedTensorInfoMap, a: object): TensorInfo => {
      const out = wasmKernel(name).kernelFunc({ inputs, backend: backend as never, attrs: a as tf.NamedAttrMap }) as TensorInfo;
      temps.push(out);
      return out;
    };
    try {
      const flipped = run('Reverse', { x: filter }, { dims: [0, 1] });
      const swapped = run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] }); // [kh, kw, co, ci]
      const top = kh - 1 - info.padInfo.top;
      const left = kw - 1 - info.padInfo.left;
      const bottom = attrs.inputShape[1] + kh - 1 - info.outHeight - top;
      const right = attrs.inputShape[2] + kw - 1 - info.outWidth - left;
      if (top < 0 || left < 0 || bottom < 0 || right < 0) return stock(args as never) as TensorInfo;
      const pad = [[0, 0], [top, bottom], [left, right], [0, 0]];
      return wasmKernel('Conv2D').kernelFunc({
        inputs: { x: dy, filter: swapped },
        backend: backend as never,
        attrs: { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1] } as unknown as tf.NamedAttrMap,
      }) as TensorInfo;
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  };
}

/**
 * Matrix product with the first operand transposed (the dense layers' weight gradient xᵀ·dy):
 * the stock wasm kernel is about ten times slower on this path than on the plain one, so we
 * transpose explicitly and take the fast path.
 */
function batchMatMulWasm(stock: tf.KernelFunc) {
  return (args: KernelArgs): TensorInfo => {
    const attrs = args.attrs as { transposeA: boolean; transposeB: boolean };
    if (!attrs.transposeA) return stock(args as never) as TensorInfo;
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const backend = args.backend as Backend;
    const rank = a.shape.length;
    const perm = [...Array(rank).keys()];
    perm[rank - 2] = rank - 1;
    perm[rank - 1] = rank - 2;
    const aT = wasmKernel('Transpose').kernelFunc({ inputs: { x: a }, backend: backend as never, attrs: { perm } }) as TensorInfo;
    try {
      return stock({ inputs: { a: aT, b }, backend: backend as never, attrs: { transposeA: false, transposeB: attrs.transposeB } }) as TensorInfo;
    } finally {
      backend.disposeData(aT.dataId);
    }
  };
}

let replaced = false;

/**
 * Registers the training kernels the stock wasm backend lacks (`Conv2DBackpropFilter`) and
 * replaces two slow ones (`Conv2DBackpropInput` for stride 1, `BatchMatMul` with `transposeA`)
 * through tfjs's kernel registry, once per process. {@link initBackend} calls it when it starts
 * wasm. Returns the kernel names it registered or replaced on this call.
 */
export function registerWasmTrainingKernels(): string[] {
  const added: string[] = [];
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm') === undefined) {
    tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilterWasm as unknown as tf.KernelFunc });
    added.push('Conv2DBackpropFilter');
  }
  if (!replaced) {
    replaced = true;
    for (const [name, wrap] of [
      ['Conv2DBackpropInput', conv2DBackpropInputWasm],
      ['BatchMatMul', batchMatMulWasm],
    ] as const) {
      const stock = tf.getKernel(name, 'wasm');
      if (stock === undefined) continue;
      tf.unregisterKernel(name, 'wasm');
      tf.registerKernel({ ...stock, kernelFunc: wrap(stock.kernelFunc) as unknown as tf.KernelFunc });
      added.push(name);
    }
  }
  return added;
}
