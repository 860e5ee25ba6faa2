import { FedveilError } from '../util/errors.js';

/** The slice of the WebAssembly API used here (the project's type libraries do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * The exports of the module whose binary is `base64` (a generated `*.wasm.ts`), instantiated with
 * no imports. The kernels read and write words little-endian, as the PRG defines them and as
 * typed arrays are on every platform Node and the browsers ship for; a big-endian host is refused
 * (code `prg/unsupported-platform`) rather than silently producing other masks, and so is a
 * runtime without WebAssembly.
 */
export function instantiateWasm(base64: string, what: string): Record<string, unknown> {
  if (!LITTLE_ENDIAN) throw new FedveilError('prg/unsupported-platform', `${what} needs a little-endian host`);
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (wasm === undefined) {
    throw new FedveilError('prg/unsupported-platform', `${what} needs WebAssembly (is node running with --jitless?)`);
  }
  return new wasm.Instance(new wasm.Module(Buffer.from(base64, 'base64')), {}).exports;
}
