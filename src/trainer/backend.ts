/**
 * Choosing and initialising the tfjs backend: native tfjs-node when it is installed, else the
 * WebAssembly backend (its .wasm binaries ship inside the npm package and load offline; SIMD works
 * in Node, its threads do not), else the pure-JS cpu backend. Nothing here logs or reads the
 * environment: the caller (the CLI) decides what to force and prints the returned reason.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { TrainerError } from './errors.js';
import { registerWasmTrainingKernels } from './wasmKernels.js';

/** Backends the trainer knows how to start, in order of preference. */
export type BackendKind = 'node' | 'wasm' | 'cpu';

/** What {@link initBackend} chose, and why in words a user can read. */
export interface BackendChoice {
  /** The backend that now runs: `node` (tfjs-node, registered as `tensorflow`), `wasm` or `cpu`. */
  name: BackendKind;
  /** The tfjs backend name as `tf.getBackend()` reports it. */
  tfName: string;
  /** Why this one: what was tried before it and why that failed, or that the user forced it. */
  reason: string;
}

/** Options for {@link initBackend}. */
export interface InitBackendOptions {
  /** Force one backend; failure to start it is then an error rather than a fallback. */
  prefer?: BackendKind;
}

const TFJS_NODE = '@tensorflow/tfjs-node';
let wasmPathsSet = false;

/** Directory (with trailing slash) holding the wasm backend's `.wasm` binaries. */
export function wasmBinaryDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}

async function tryNode(): Promise<string> {
  // A variable specifier keeps TypeScript from requiring the optional package at compile time.
  const spec: string = TFJS_NODE;
  await import(spec);
  const ok = await tf.setBackend('tensorflow');
  if (!ok) throw new Error('tfjs-node loaded but its "tensorflow" backend failed to initialise');
  return 'tensorflow';
}

async function tryWasm(): Promise<string> {
  if (!wasmPathsSet) {
    // Must happen before the backend first initialises; later calls would be ignored.
    setWasmPaths(wasmBinaryDir());
    wasmPathsSet = true;
  }
  const ok = await tf.setBackend('wasm');
  if (!ok) throw new Error(`the wasm backend failed to initialise (binaries looked up in ${wasmBinaryDir()})`);
  // Stock wasm cannot compute convolution filter gradients; add ours so CNNs can train.
  registerWasmTrainingKernels();
  return 'wasm';
}

async function tryCpu(): Promise<string> {
  const ok = await tf.setBackend('cpu');
  if (!ok) throw new Error('the cpu backend failed to initialise');
  return 'cpu';
}

const starters: Record<BackendKind, () => Promise<string>> = { node: tryNode, wasm: tryWasm, cpu: tryCpu };

function describe(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0] ?? msg;
}

async function detail(kind: BackendKind): Promise<string> {
  if (kind === 'wasm') {
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    return simd ? 'wasm with SIMD' : 'wasm without SIMD (slower)';
  }
  return kind === 'node' ? 'native TensorFlow via tfjs-node' : 'pure-JS cpu backend (slowest)';
}

/**
 * Starts a tfjs backend and returns which one runs and why. Tries tfjs-node, then wasm, then cpu,
 * unless `opts.prefer` forces one (then failure throws `trainer/backend-unavailable`).
 *
 * On wasm it registers the training kernels that backend lacks (see `registerWasmTrainingKernels`).
 * Also switches tfjs to production mode (`tf.enableProdMode()`, its documented switch), which
 * turns off tfjs's console warnings — among them the "install tfjs-node" banner the cpu backend
 * prints under Node — and nothing that affects numerical results.
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendChoice> {
  tf.enableProdMode();
  if (opts.prefer !== undefined) {
    const kind = opts.prefer;
    if (!(kind in starters)) {
      throw new TrainerError('trainer/backend-unavailable', `unknown backend "${String(kind)}"; use node, wasm or cpu`);
    }
    try {
      const tfName = await starters[kind]();
      return { name: kind, tfName, reason: `forced by the user: ${await detail(kind)}` };
    } catch (e) {
      const hint = kind === 'node' ? ` (is ${TFJS_NODE} installed? it is an optional dependency)` : '';
      throw new TrainerError('trainer/backend-unavailable', `backend "${kind}" could not start${hint}: ${describe(e)}`);
    }
  }
  const failures: string[] = [];
  for (const kind of ['node', 'wasm', 'cpu'] as const) {
    try {
      const tfName = await starters[kind]();
      const why = failures.length === 0 ? '' : ` (${failures.join('; ')})`;
      return { name: kind, tfName, reason: `${await detail(kind)}${why}` };
    } catch (e) {
      failures.push(kind === 'node' ? `${TFJS_NODE} not available: ${describe(e)}` : `${kind} failed: ${describe(e)}`);
    }
  }
  throw new TrainerError('trainer/backend-unavailable', `no tfjs backend could start: ${failures.join('; ')}`);
}
