import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import { toHex, utf8 } from '../secagg/index.js';
import { FedveilError } from '../secagg/util/errors.js';
import { readJsonFile } from './json-file.js';
import { ReceiptSchema, type LedgerHead, type Receipt } from './ledger-head.js';

/** The receipts folder a participant uses when none is given: next to its identity file. */
export function defaultReceiptsDir(identityPath: string): string {
  return `${identityPath}.receipts`;
}

/** The sub-folder of one federation: its id when that is a safe file name, else a hash of it. */
export function federationFolder(federationId: string): string {
  return /^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,127}$/.test(federationId) ? federationId : `federation-${toHex(sha256(utf8(federationId))).slice(0, 32)}`;
}

/** A damaged receipt or pin is one error: the folder cannot be trusted as it is. */
const RECEIPT_UNREADABLE = { unreadable: 'receipts/unreadable', invalid: 'receipts/unreadable' };

const PinSchema = z.object({ algorithm: z.literal('ed25519'), federationId: z.string(), publicKey: z.string().regex(/^[0-9a-f]{64}$/) }).strict();

/** Writes a file atomically (temporary file, then rename), so a crash never leaves half a receipt. */
function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}

/**
 * Reads every receipt file (`receipt-*.json`) of a folder. A folder of folders (a participant's
 * whole receipts dir) is read one level down. Throws FedveilError 'receipts/unreadable' naming
 * the first file that is not a receipt: a damaged receipt must not be silently skipped.
 */
export function readReceipts(dir: string): Receipt[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    throw new FedveilError('receipts/unreadable', `cannot read receipts folder ${dir}: ${(e as Error).message}`);
  }
  const out: Receipt[] = [];
  for (const name of names) {
    const path = join(dir, name);
    if (/^receipt-.*\.json$/.test(name)) {
      out.push(readJsonFile(path, ReceiptSchema, 'ledger receipt', RECEIPT_UNREADABLE));
    } else if (statSync(path).isDirectory()) {
      out.push(...readReceipts(path));
    }
  }
  return out;
}

/**
 * A participant's durable memory of the ledgers it took part in, one folder per federation:
 * the coordinator key it pinned on first contact (`coordinator-key.json`) and a receipt
 * (`receipt-round-R.json`, a coordinator-signed ledger head) for every round it contributed to.
 */
export class ReceiptStore {
  constructor(readonly dir: string) {}

  /** The folder of `federationId`'s receipts. */
  folder(federationId: string): string {
    return join(this.dir, federationFolder(federationId));
  }

  /** The coordinator key pinned for `federationId`, or null before first contact. */
  pinnedKey(federationId: string): string | null {
    const path = join(this.folder(federationId), 'coordinator-key.json');
    if (!existsSync(path)) return null;
    const pin = readJsonFile(path, PinSchema, 'pinned coordinator key', RECEIPT_UNREADABLE);
    if (pin.federationId !== federationId) throw new FedveilError('receipts/unreadable', `${path} is not a pinned coordinator key of '${federationId}'`);
    return pin.publicKey;
  }

  /** Pins `publicKey` for `federationId` (first contact). */
  pinKey(federationId: string, publicKey: string): void {
    mkdirSync(this.folder(federationId), { recursive: true, mode: 0o700 });
    writeAtomic(join(this.folder(federationId), 'coordinator-key.json'), `${JSON.stringify({ algorithm: 'ed25519', federationId, publicKey }, null, 2)}\n`);
  }

  /** Every receipt held for `federationId`. */
  receipts(federationId: string): Receipt[] {
    const folder = this.folder(federationId);
    return existsSync(folder) ? readReceipts(folder).filter((r) => r.federationId === federationId) : [];
  }

  /** Stores the receipt of a round (the signed head of its entry). */
  save(head: LedgerHead): string {
    mkdirSync(this.folder(head.federationId), { recursive: true, mode: 0o700 });
    const name = head.round === null ? `receipt-seq-${head.seq}.json` : `receipt-round-${head.round}.json`;
    const path = join(this.folder(head.federationId), name);
    const receipt: Receipt = { format: 'fedveil.ledger-receipt', ...head };
    writeAtomic(path, `${JSON.stringify(receipt, null, 2)}\n`);
    return path;
  }
}
