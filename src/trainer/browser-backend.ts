/**
 * Choosing and initialising the tfjs backend in a web page: WebGL when the browser gives the page
 * a GPU context, else WebAssembly (its .wasm binaries served next to the page), else the pure-JS
 * cpu backend. The Node counterpart is backend.ts; this module imports nothing of Node's, so the
 * browser participant's bundle can use it.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { TrainerError } from './errors.js';
import { registerWasmTrainingKernels } from './wasmKernels.js';

/** Backends a page can start, in order of preference. */
export type BrowserBackendKind = 'webgl' | 'wasm' | 'cpu';

/** The backends {@link initBrowserBackend} tries, in its order. */
export const BROWSER_BACKENDS: readonly BrowserBackendKind[] = ['webgl', 'wasm', 'cpu'];

/** What {@link initBrowserBackend} chose, and why in words a person can read. */
export interface BrowserBackendChoice {
  name: BrowserBackendKind;
  /** Why this one: what was tried before it and why that failed. */
  reason: string;
}

/** Options of {@link initBrowserBackend}. */
export interface InitBrowserBackendOptions {
  /** URL prefix (with trailing slash) under which the wasm backend's .wasm binaries are served. */
  wasmPaths: string;
  /** Backends to try, in order; default {@link BROWSER_BACKENDS}. */
  order?: readonly BrowserBackendKind[];
}

let wasmPathsSet = false;

async function start(kind: BrowserBackendKind, wasmPaths: string): Promise<void> {
  if (kind === 'wasm' && !wasmPathsSet) {
    // Must happen before the backend first initialises; later calls would be ignored.
    setWasmPaths(wasmPaths);
    wasmPathsSet = true;
  }
  const ok = await tf.setBackend(kind);
  if (!ok || tf.getBackend() !== kind) throw new Error(`the ${kind} backend failed to initialise`);
  // Stock wasm cannot compute convolution filter gradients; add ours so CNNs can train.
  if (kind === 'wasm') registerWasmTrainingKernels();
}

/**
 * Starts the first backend of `order` that works in this page and returns it with the reasons the
 * ones before it failed. Throws `trainer/backend-unavailable` when none starts.
 */
export async function initBrowserBackend(opts: InitBrowserBackendOptions): Promise<BrowserBackendChoice> {
  tf.enableProdMode();
  const failures: string[] = [];
  for (const kind of opts.order ?? BROWSER_BACKENDS) {
    try {
      await start(kind, opts.wasmPaths);
      return { name: kind, reason: failures.length === 0 ? `${kind} started` : `${kind} started (${failures.join('; ')})` };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      failures.push(`${kind} failed: ${msg.split('\n')[0] ?? msg}`);
    }
  }
  throw new TrainerError('trainer/backend-unavailable', `no tfjs backend could start in this page: ${failures.join('; ')}`);
}
