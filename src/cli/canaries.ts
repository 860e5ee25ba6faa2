import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { defaultProvider, randomBytes, systemRandom, toHex } from '../secagg/index.js';
import { canaryCommitment, CanaryRevealSchema, type Canary } from '../server/canary-audit.js';
import { generateIdentity, writeIdentityFile } from '../server/identity.js';
import { FedveilError } from '../secagg/util/errors.js';
import { writeCanaryReveal } from './canary-audit-files.js';
import { readFileSync } from 'node:fs';

/**
 * The secret of the canary whose identity has public key `publicKey`, from a reveal-format file
 * (`fedveil canaries` writes one); throws `cli/not-a-canary` when the file does not list it.
 */
export function readCanarySecret(path: string, publicKey: string): Uint8Array {
  const doc = CanaryRevealSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!doc.success) throw new FedveilError('cli/bad-canary-file', `${path} is not a canaries file written by fedveil canaries`);
  const mine = doc.data.canaries.find((c) => c.publicKey === publicKey);
  if (mine === undefined) throw new FedveilError('cli/not-a-canary', `${path} holds no canary secret for ${publicKey}`);
  return Uint8Array.from(Buffer.from(mine.secret, 'hex'));
}

/**
 * Registers `fedveil canaries --count K --federation-id ID --out DIR`: K canary identities
 * (DIR/canary-<k>.json) and their secrets (DIR/canary-audit/canaries.json, to keep private until
 * the federation has finished), and prints the public keys to add to the config's `participants`
 * and the `auditCommitment` to put in it.
 */
export function registerCanaries(program: Command): void {
  program
    .command('canaries')
    .description('create K canary participants for an empirical privacy audit: identities, secrets, and the auditCommitment for the federation config')
    .requiredOption('--count <k>', 'number of canaries (100 is a good start)', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 2 || n > 10_000) throw new InvalidArgumentError('must be an integer in [2, 10000]');
      return n;
    })
    .requiredOption('--federation-id <id>', "the federation's federationId (the commitment binds it)")
    .requiredOption('--out <dir>', 'where to write the identities and the secrets (must not hold canaries already)')
    .option('--json', 'print one JSON object')
    .action((o: { count: number; federationId: string; out: string; json?: boolean }) => {
      const reveal = join(o.out, 'canary-audit', 'canaries.json');
      if (existsSync(reveal)) throw new FedveilError('cli/canaries-exist', `${reveal} exists: canaries are created once per federation`);
      mkdirSync(o.out, { recursive: true });
      const canaries: Canary[] = [];
      for (let k = 0; k < o.count; k++) {
        const identity = generateIdentity(defaultProvider, systemRandom);
        writeIdentityFile(join(o.out, `canary-${k}.json`), identity);
        canaries.push({ publicKey: toHex(identity.publicKey), secret: toHex(randomBytes(systemRandom, 32)) });
      }
      writeCanaryReveal(o.out, o.federationId, canaries);
      const commitment = canaryCommitment(o.federationId, canaries);
      if (o.json === true) {
        process.stdout.write(`${JSON.stringify({ auditCommitment: commitment, participants: canaries.map((c) => c.publicKey), secrets: reveal })}\n`);
        return;
      }
      process.stdout.write(
        `auditCommitment: ${commitment}\n` +
          `add these ${o.count} keys to the config's participants:\n${canaries.map((c) => `  ${c.publicKey}\n`).join('')}` +
          `secrets: ${reveal} (keep it private until the last round; then copy it into the coordinator's export folder and run fedveil audit there)\n`,
      );
    });
}
