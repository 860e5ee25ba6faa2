import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ESM build script without type declarations
import { compileWat, renderModule } from '../../scripts/build-wasm.mjs';
import { WASM_BASE64 } from '../../src/secagg/wasm/chacha20.wasm.js';
import { instantiateWasm } from '../../src/secagg/wasm/instantiate.js';
import { expectCode } from './helpers.js';

/*
 * The kernels ship as base64 bytes. This pins those bytes to the reviewed .wat text: if either
 * changes without the other (`npm run build:wasm` regenerates), the test fails.
 */
const dir = new URL('../../src/secagg/wasm/', import.meta.url);
const modules = readdirSync(dir)
  .filter((f) => f.endsWith('.wat'))
  .map((f) => f.slice(0, -4));

describe('shipped WebAssembly modules', () => {
  it('are the AES-256-CTR, the mask kernel, the ChaCha20 keystream and the SHA-256 compression', () => {
    expect(modules.sort()).toEqual(['aes256ctr', 'chacha20', 'mask-accumulate', 'sha256']);
  });

  it.each(modules)('%s.wasm.ts is exactly what its .wat compiles to', async (name) => {
    const bytes = (await compileWat(new URL(`${name}.wat`, dir).pathname)) as Buffer;
    expect(readFileSync(new URL(`${name}.wasm.ts`, dir), 'utf8')).toBe(renderModule(name, bytes));
    expect(bytes.subarray(0, 4)).toEqual(Buffer.from('\0asm', 'latin1'));
  });

  it('are refused with prg/unsupported-platform on a runtime without WebAssembly', () => {
    const g = globalThis as { WebAssembly?: unknown };
    const wasm = g.WebAssembly;
    try {
      g.WebAssembly = undefined;
      expectCode(() => instantiateWasm(WASM_BASE64, 'the ChaCha20 keystream'), 'prg/unsupported-platform');
    } finally {
      g.WebAssembly = wasm;
    }
    expect(Object.keys(instantiateWasm(WASM_BASE64, 'the ChaCha20 keystream')).sort()).toEqual(['blocks', 'memory']);
  });
});
