/**
 * The page's durable state in IndexedDB (this origin only): the identity (an Ed25519 seed, as the
 * identity file `fedveil keygen` writes) and, per federation, the coordinator key pinned on first
 * contact and the signed receipts of the rounds this identity contributed to.
 */
import type { IdentityFile } from '../../src/server/identity.js';
import type { LedgerHead, Receipt } from '../../src/server/ledger-head.js';
import type { ReceiptKeeper } from '../../src/server/participant-ledger.js';

const DB = 'fedveil-participant';
const STORE = 'kv';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

let opened: Promise<IDBDatabase> | null = null;

function db(): Promise<IDBDatabase> {
  opened ??= new Promise((resolve, reject) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(STORE);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('cannot open IndexedDB'));
  });
  return opened;
}

async function get<T>(key: string): Promise<T | undefined> {
  const tx = (await db()).transaction(STORE, 'readonly');
  return (await request(tx.objectStore(STORE).get(key))) as T | undefined;
}

async function put(key: string, value: unknown): Promise<void> {
  const tx = (await db()).transaction(STORE, 'readwrite');
  await request(tx.objectStore(STORE).put(value, key));
}

/** The identity kept in this browser, or null before one is created or imported. */
export function loadIdentity(): Promise<IdentityFile | null> {
  return get<IdentityFile>('identity').then((f) => f ?? null);
}

/** Keeps `file` as this browser's identity (replacing any before it). */
export function saveIdentity(file: IdentityFile): Promise<void> {
  return put('identity', file);
}

interface FederationRecord {
  pinnedKey: string | null;
  receipts: Receipt[];
}

/**
 * The receipts of one identity, read from IndexedDB once ({@link open}) and written through: the
 * participant reads them synchronously, and each write is persisted before the next round's
 * checks read the database again on a reload.
 */
export class IndexedDbReceipts implements ReceiptKeeper {
  private readonly records = new Map<string, FederationRecord>();
  /** Writes not yet committed (awaited by {@link flush}). */
  private pending: Promise<void> = Promise.resolve();

  private constructor(private readonly owner: string) {}

  /** The receipts `owner` (a public key, hex) holds for `federationId`, loaded. */
  static async open(owner: string, federationId: string): Promise<IndexedDbReceipts> {
    const r = new IndexedDbReceipts(owner);
    r.records.set(federationId, (await get<FederationRecord>(r.key(federationId))) ?? { pinnedKey: null, receipts: [] });
    return r;
  }

  private key(federationId: string): string {
    return `receipts/${this.owner}/${federationId}`;
  }

  private record(federationId: string): FederationRecord {
    let rec = this.records.get(federationId);
    if (rec === undefined) {
      rec = { pinnedKey: null, receipts: [] };
      this.records.set(federationId, rec);
    }
    return rec;
  }

  private persist(federationId: string): void {
    const snapshot = structuredClone(this.record(federationId));
    this.pending = this.pending.then(() => put(this.key(federationId), snapshot));
  }

  pinnedKey(federationId: string): string | null {
    return this.record(federationId).pinnedKey;
  }

  pinKey(federationId: string, publicKey: string): void {
    this.record(federationId).pinnedKey = publicKey;
    this.persist(federationId);
  }

  receipts(federationId: string): Receipt[] {
    return [...this.record(federationId).receipts];
  }

  save(head: LedgerHead): string {
    const rec = this.record(head.federationId);
    const receipt: Receipt = { format: 'fedveil.ledger-receipt', ...head };
    rec.receipts = [...rec.receipts.filter((r) => r.seq !== head.seq), receipt];
    this.persist(head.federationId);
    return `IndexedDB ${this.key(head.federationId)} (entry ${head.seq})`;
  }

  /** Resolves once every write so far is committed. */
  flush(): Promise<void> {
    return this.pending;
  }
}
