import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ESM build script without type declarations
import { compileWat, renderModule } from '../../scripts/build-wasm.mjs';

/*
 * The mask kernel ships as base64 bytes. This pins those bytes to the reviewed .wat text: if either
 * changes without the other (`npm run build:wasm` regenerates), the test fails.
 */
describe('shipped WebAssembly modules', () => {
  it('mask-accumulate.wasm.ts is exactly what mask-accumulate.wat compiles to', async () => {
    const dir = new URL('../../src/secagg/wasm/', import.meta.url);
    const bytes = (await compileWat(new URL('mask-accumulate.wat', dir).pathname)) as Buffer;
    expect(readFileSync(new URL('mask-accumulate.wasm.ts', dir), 'utf8')).toBe(renderModule('mask-accumulate', bytes));
    expect(bytes.subarray(0, 4)).toEqual(Buffer.from('\0asm', 'latin1'));
  });
});
