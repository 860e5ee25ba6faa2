// Compiles src/secagg/wasm/*.wat into <name>.wasm.ts (the binary as base64), so the runtime needs
// no WebAssembly toolchain and the shipped bytes are reproducible from the reviewed text.
// `--check` compares instead of writing and exits 1 on any difference.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import wabtInit from 'wabt';

export async function compileWat(path) {
  const wabt = await wabtInit();
  const module = wabt.parseWat(path, readFileSync(path, 'utf8'), { simd: true });
  try {
    module.validate();
    return Buffer.from(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

export function renderModule(name, bytes) {
  const lines = bytes.toString('base64').match(/.{1,96}/g) ?? [];
  return [
    `// Generated from ${name}.wat by scripts/build-wasm.mjs; do not edit.`,
    `/** The ${name} WebAssembly module (${bytes.length} bytes), base64. */`,
    `export const WASM_BASE64 =`,
    ...lines.map((l, i) => `  '${l}'${i === lines.length - 1 ? ';' : ' +'}`),
    '',
  ].join('\n');
}

const dir = new URL('../src/secagg/wasm/', import.meta.url).pathname;
if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.wat'))) {
    const name = file.slice(0, -4);
    const text = renderModule(name, await compileWat(join(dir, file)));
    const target = join(dir, `${name}.wasm.ts`);
    if (check) {
      if (!existsSync(target) || readFileSync(target, 'utf8') !== text) {
        console.error(`${target} is stale: run npm run build:wasm`);
        stale++;
      }
    } else {
      writeFileSync(target, text);
      console.log(`wrote ${target}`);
    }
  }
  process.exit(stale > 0 ? 1 : 0);
}
