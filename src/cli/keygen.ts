import type { Command } from 'commander';
import { defaultProvider, systemRandom, toHex } from '../secagg/index.js';
import { generateIdentity, writeIdentityFile } from '../server/identity.js';

/**
 * `fedveil keygen --out KEYFILE`: writes a fresh Ed25519 identity (JSON, file mode 0600) and
 * prints its public key in hex, the value to list under `participants` in a federation config.
 */
export function registerKeygen(program: Command): void {
  program
    .command('keygen')
    .description('create a participant (or coordinator) Ed25519 identity file and print its public key')
    .requiredOption('--out <keyfile>', 'where to write the identity (refuses to overwrite; mode 0600)')
    .action((opts: { out: string }) => {
      const identity = generateIdentity(defaultProvider, systemRandom);
      writeIdentityFile(opts.out, identity);
      process.stdout.write(`${toHex(identity.publicKey)}\n`);
    });
}
