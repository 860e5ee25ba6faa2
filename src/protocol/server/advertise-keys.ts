import type { RoundPlan } from '../config.js';
import type { AdvertiseKeysMessage, KeyListMessage } from '../messages.js';
import { intersect, sortedIndices } from '../sets.js';
import type { PhaseCollector } from './collector.js';
import { serverHeader } from './header.js';

/** Phase 0 (server): collect signed key advertisements; U1 = those who advertised. */
export class AdvertiseKeysCollector implements PhaseCollector<AdvertiseKeysMessage> {
  readonly phase = 'advertise-keys' as const;
  readonly expected: readonly number[];
  readonly submitted = new Set<number>();
  /** Advertisements by sender. */
  readonly advertisements = new Map<number, AdvertiseKeysMessage>();

  constructor(private readonly plan: RoundPlan) {
    this.expected = Array.from({ length: plan.n }, (_, i) => i);
  }

  prepare(msg: AdvertiseKeysMessage): () => void {
    return () => {
      this.advertisements.set(msg.header.sender, msg);
      this.submitted.add(msg.header.sender);
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
