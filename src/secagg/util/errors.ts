/**
 * The one error type fedveil's pure layers throw at their boundaries. `code` is stable and
 * machine-readable (tests assert on it); `message` says what was wrong in words a user can act on.
 */
export class FedveilError extends Error {
  /** Stable identifier of the rule that was broken, e.g. `shamir/too-few-shares`. */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'FedveilError';
    this.code = code;
  }
}

/** Throws a {@link FedveilError} with `code` unless `condition` holds. */
export function check(condition: unknown, code: string, message: string | (() => string)): asserts condition {
  if (!condition) throw new FedveilError(code, typeof message === 'function' ? message() : message);
}
