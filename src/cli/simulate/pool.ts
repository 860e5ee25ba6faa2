import { Worker } from 'node:worker_threads';
import type { WorkerEvent, WorkerInit } from './worker-protocol.js';

/**
 * The worker for this module's build. From the built package both are `.js`; under a TypeScript
 * loader (tests, `tsx`) this module is `.ts`, and the worker registers tsx itself before loading
 * its script, since a worker does not inherit the parent's loader hooks.
 */
function newWorker(init: WorkerInit): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
  const script = JSON.stringify(new URL('./worker.ts', import.meta.url).href);
  return new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${script}); });`, { eval: true, workerData: init });
}

/** A started simulation worker. */
export interface SimulationWorker {
  worker: Worker;
  /** Resolves with the backend the worker's trainer runs on, once its data is loaded. */
  ready: Promise<{ backend: string; reason: string; trainMs: number }>;
  /** Rejects when the worker fails (an error it reports, or an exit); never resolves. */
  failed: Promise<never>;
}

/** Starts one worker; `onEvent` sees every event it posts. A worker error rejects `ready` and `failed`. */
export function startWorker(init: WorkerInit, onEvent: (e: WorkerEvent) => void): SimulationWorker {
  const worker = newWorker(init);
  let readyResolve!: (v: { backend: string; reason: string; trainMs: number }) => void;
  let fail!: (e: Error) => void;
  const ready = new Promise<{ backend: string; reason: string; trainMs: number }>((res, rej) => {
    readyResolve = res;
    fail = rej;
  });
  const failed = new Promise<never>((_res, rej) => {
    const prev = fail;
    fail = (e) => {
      prev(e);
      rej(e);
    };
  });
  // Callers race `failed` only while they wait; keep an early failure from being reported as unhandled.
  failed.catch(() => undefined);
  ready.catch(() => undefined);
  worker.on('message', (e: WorkerEvent) => {
    if (e.type === 'ready') readyResolve({ backend: e.backend, reason: e.reason, trainMs: e.trainMs });
    else if (e.type === 'error') fail(new Error(`simulation worker failed: ${e.message}`));
    onEvent(e);
  });
  worker.on('error', (err) => fail(err));
  worker.on('exit', (code) => {
    if (code !== 0) fail(new Error(`simulation worker exited with code ${code}`));
  });
  return { worker, ready, failed };
}
