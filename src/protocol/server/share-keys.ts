import { check } from '../../secagg/util/errors.js';
import type { RoundPlan } from '../config.js';
import type { EncryptedShare, ShareBundleMessage, ShareKeysMessage } from '../messages.js';
import { intersect, sameSet, sortedIndices } from '../sets.js';
import type { PhaseCollector } from './collector.js';
import { serverHeader } from './header.js';

/**
 * Phase 1 (server): collect sealed share pairs and route them; U2 = those who sent. Storage is
 * one ciphertext per (sender, neighbour) edge: O(n·k), never anything of size d.
 */
export class ShareKeysCollector implements PhaseCollector<ShareKeysMessage> {
  readonly phase = 'share-keys' as const;
  readonly submitted = new Set<number>();
  /** Sealed pairs by recipient, each tagged with its sender. */
  private readonly inbox = new Map<number, EncryptedShare[]>();

  constructor(
    private readonly plan: RoundPlan,
    readonly expected: readonly number[],
  ) {}

  prepare(msg: ShareKeysMessage): () => void {
    const sender = msg.header.sender;
    const want = intersect(this.plan.neighbourhood(sender), this.expected).filter((v) => v !== sender);
    const got = msg.shares.map((s) => s.peer);
    check(
      sameSet(got, want),
      'protocol/share-recipients-mismatch',
      () => `participant ${sender} sent shares for [${got.join(',')}], expected its neighbours in U1 [${want.join(',')}]`,
    );
    return () => {
      for (const s of msg.shares) {
        let box = this.inbox.get(s.peer);
        if (!box) this.inbox.set(s.peer, (box = []));
        box.push({ peer: sender, ciphertext: s.ciphertext });
      }
      this.submitted.add(sender);
    };
  }

  /** Bytes of ciphertext held. */
  retainedBytes(): number {
    let total = 0;
    for (const box of this.inbox.values()) for (const s of box) total += s.ciphertext.length + 16;
    return total;
  }

  /** U2 and each member's bundle of the pairs addressed to it. */
  finish(): { u2: number[]; bundles: Map<number, ShareBundleMessage> } {
    const u2 = sortedIndices(this.submitted);
    const header = serverHeader(this.plan, 'masked-input');
    const bundles = new Map<number, ShareBundleMessage>();
    for (const v of u2) {
      const shares = (this.inbox.get(v) ?? []).slice().sort((a, b) => a.peer - b.peer);
      bundles.set(v, { type: 'share-bundle', header, u2, shares });
    }
    this.inbox.clear();
    return { u2, bundles };
  }
}
