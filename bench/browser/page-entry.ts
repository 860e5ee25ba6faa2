/**
 * Browser entry of the browser bench (bench/browser/index.ts): bundled with the participant page's
 * build options (same node:crypto shim, portable ChaCha20) and computing with the page's own
 * provider, it exposes the timing functions of timing.ts to the Node side.
 */
import '../../web/dashboard/zod-jitless.js';
import { initBrowserBackend, type BrowserBackendKind } from '../../src/trainer/browser-backend.js';
import { PAGE_PROVIDER } from '../../web/participant/session.js';
import { currentBackend, timeEpochs, timeRounds, type EpochCell, type RoundCell } from './timing.js';

const bench = {
  provider: PAGE_PROVIDER.name,
  rounds: (cell: RoundCell) => timeRounds(cell, PAGE_PROVIDER),
  /** Starts `backend` (null when it cannot start here) and times epochs on it. */
  epochs: async (backend: BrowserBackendKind, cell: EpochCell) => {
    try {
      await initBrowserBackend({ wasmPaths: new URL('./', import.meta.url).href, order: [backend] });
    } catch (e) {
      return { backend, error: e instanceof Error ? e.message : String(e) };
    }
    return { backend: currentBackend(), ...(await timeEpochs(cell)) };
  },
};

(globalThis as { fedveilBench?: typeof bench }).fedveilBench = bench;
