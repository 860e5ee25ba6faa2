/**
 * Browser entry of the browser bench (bench/browser/index.ts): bundled with the participant page's
 * build options (same node:crypto shim, portable ChaCha20) and computing with the page's own
 * provider, it exposes the timing functions of timing.ts to the Node side.
 */
import '../../web/dashboard/zod-jitless.js';
import { initBrowserBackend, type BrowserBackendKind } from '../../src/trainer/browser-backend.js';
import { PAGE_PROVIDER } from '../../web/participant/session.js';
import { aesBackend, createCipheriv, useAesBackend, type AesBackend } from '../../web/dashboard/shims/crypto.js';
import { currentBackend, timeEpochs, timeRounds, type EpochCell, type RoundCell } from './timing.js';

/** Runs `work` with the shim's AES-256-CTR on `aes` (the page's default when undefined). */
function withAes<T>(aes: AesBackend | undefined, work: () => T): T {
  useAesBackend(aes);
  try {
    return work();
  } finally {
    useAesBackend(undefined);
  }
}

const bench = {
  provider: PAGE_PROVIDER.name,
  aes: aesBackend(),
  rounds: (cell: RoundCell) => timeRounds(cell, PAGE_PROVIDER),
  /**
   * Masked-input ms per client of `cell.rounds` pairs of rounds, each pair one round with the
   * JavaScript AES-256-CTR and one with the WebAssembly one, alternating in one federation, so
   * that the machine's load falls on both alike (the warm-up round runs the JavaScript AES).
   */
  aesRounds: (cell: RoundCell): Record<AesBackend, number[]> => {
    try {
      const t = timeRounds({ ...cell, rounds: 2 * cell.rounds }, PAGE_PROVIDER, (r) => useAesBackend(r === 0 || r % 2 === 1 ? 'javascript' : 'wasm'));
      return { javascript: t.maskedInputMs.filter((_, i) => i % 2 === 0), wasm: t.maskedInputMs.filter((_, i) => i % 2 === 1) };
    } finally {
      useAesBackend(undefined);
    }
  },
  /**
   * Milliseconds per MB of AES-256-CTR keystream on each backend, as the rounding stream draws it
   * (64 KiB updates), the two backends' updates alternating so that both see the same load.
   */
  aesMsPerMb: (mb: number): Record<AesBackend, number> => {
    const zeros = new Uint8Array(1 << 16);
    const kinds: AesBackend[] = ['javascript', 'wasm'];
    const ciphers = kinds.map((k) => withAes(k, () => createCipheriv('aes-256-ctr', new Uint8Array(32).fill(7), new Uint8Array(16))));
    const spent = [0, 0];
    for (let i = 0; i < 16 * (mb + 1); i++) {
      for (let k = 0; k < 2; k++) {
        const t0 = performance.now();
        ciphers[k]!.update(zeros);
        // the first MB warms both up (JIT, wasm tier-up)
        if (i >= 16) spent[k]! += performance.now() - t0;
      }
    }
    return { javascript: spent[0]! / mb, wasm: spent[1]! / mb };
  },
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
