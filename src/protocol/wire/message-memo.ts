import { decodeServerMessage } from './serialize.js';
import { checkServerMessage, type CheckedServerMessage } from './validate.js';

/**
 * Server messages decoded and checked once for every participant of one process that fetches the
 * same bytes. In a round the consistency request and the unmask request are one message for the
 * whole cohort — the unmask request carries a quorum of consistency signatures, O(n) — and a
 * simulation worker hosts hundreds of the cohort's members: decoding and validating it for each
 * is O(n²) per round.
 *
 * Keyed by the exact text of the answer: a message is reused only for the very characters it was
 * decoded from (the text itself is the key, not a digest of it), decoding is a pure function of
 * them, and the message handed out is frozen. Text that fails is never kept: each caller gets its
 * own refusal. A real participant is one process and decodes its messages itself.
 */
export class ServerMessageMemo {
  private readonly kept = new Map<string, CheckedServerMessage>();

  /** `capacity`: how many distinct texts are kept (a phase's request repeats; older ones are dropped). */
  constructor(private readonly capacity = 16) {}

  /**
   * The checked message of `text`. Throws the SyntaxError of `JSON.parse` for text that is not
   * JSON, and FedveilError `protocol/malformed-message` for JSON that is not a server message.
   */
  checked(text: string): CheckedServerMessage {
    const known = this.kept.get(text);
    if (known !== undefined) return known;
    const checked = checkServerMessage(decodeServerMessage(JSON.parse(text)));
    if (this.kept.size >= this.capacity) this.kept.delete(this.kept.keys().next().value as string);
    this.kept.set(text, checked);
    return checked;
  }
}
