import { lowOrderCheck, type CryptoProvider } from '../../secagg/index.js';
import { toHex } from '../../secagg/util/bytes.js';
import { check, FedveilError } from '../../secagg/util/errors.js';
import type { RoundPlan } from '../config.js';
import type { AdvertiseKeysMessage, KeyListMessage } from '../messages.js';
import { intersect, sortedIndices } from '../sets.js';
import type { PhaseCollector } from './collector.js';
import { serverHeader } from './header.js';

/**
 * Phase 0 (server): collect signed key advertisements; U1 = those who advertised.
 *
 * Refuses `protocol/low-order-key` (a low-order X25519 key, which every neighbour would refuse
 * later) and `protocol/duplicate-key` (a key already advertised in this round, or one key
 * advertised as both c and s). A participant that re-advertises a neighbour's masking key makes
 * a third participant's two pairwise masks with them cancel, leaving that input under its self
 * mask alone, which unmasking removes.
 */
export class AdvertiseKeysCollector implements PhaseCollector<AdvertiseKeysMessage> {
  readonly phase = 'advertise-keys' as const;
  readonly expected: readonly number[];
  readonly submitted = new Set<number>();
  /** Advertisements by sender. */
  readonly advertisements = new Map<number, AdvertiseKeysMessage>();
  /** Every key advertised so far (hex), encryption and masking alike. */
  private readonly keys = new Set<string>();
  private readonly checkOrder: (publicKey: Uint8Array) => void;

  constructor(
    private readonly plan: RoundPlan,
    provider: CryptoProvider,
  ) {
    this.expected = Array.from({ length: plan.n }, (_, i) => i);
    this.checkOrder = lowOrderCheck(provider);
  }

  prepare(msg: AdvertiseKeysMessage): () => void {
    const sender = msg.header.sender;
    const advertised = [
      { what: 'encryption', key: msg.encryptionKey },
      { what: 'masking', key: msg.maskingKey },
    ];
    for (const { what, key } of advertised) {
      try {
        this.checkOrder(key);
      } catch (e) {
        if (e instanceof FedveilError && e.code === 'x25519/low-order') {
          throw new FedveilError('protocol/low-order-key', `the ${what} key of participant ${sender} is a low-order X25519 point`);
        }
        throw e;
      }
    }
    const enc = toHex(msg.encryptionKey);
    const mask = toHex(msg.maskingKey);
    check(enc !== mask, 'protocol/duplicate-key', () => `participant ${sender} advertises one key as both its encryption and its masking key`);
    for (const [what, key] of [['encryption', enc], ['masking', mask]] as const) {
      check(!this.keys.has(key), 'protocol/duplicate-key', () => `the ${what} key of participant ${sender} was already advertised in this round`);
    }
    return () => {
      this.advertisements.set(sender, msg);
      this.submitted.add(sender);
      this.keys.add(enc);
      this.keys.add(mask);
    };
  }

  /** U1 and, for each member, the key list of its neighbourhood in U1. */
  finish(): { u1: number[]; keyLists: Map<number, KeyListMessage> } {
    const u1 = sortedIndices(this.submitted);
    const keyLists = new Map<number, KeyListMessage>();
    const header = serverHeader(this.plan, 'share-keys');
    for (const u of u1) {
      const ads = intersect(this.plan.neighbourhood(u), u1).map((v) => this.advertisements.get(v) as AdvertiseKeysMessage);
      keyLists.set(u, { type: 'key-list', header, u1, advertisements: ads });
    }
    return { u1, keyLists };
  }
}
