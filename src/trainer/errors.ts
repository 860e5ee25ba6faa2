/**
 * The trainer's boundary error. The trainer imports nothing else of ours (layering rule), so it
 * carries its own error type, shaped like the pure layers' `FedveilError`: a stable
 * machine-readable `code` (prefixed `trainer/`) and a message a user can act on.
 */
export class TrainerError extends Error {
  /** Stable identifier of the rule that was broken, e.g. `trainer/weights-length-mismatch`. */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'TrainerError';
    this.code = code;
  }
}

/** Throws a {@link TrainerError} with `code` unless `condition` holds. */
export function ensure(condition: unknown, code: string, message: string | (() => string)): asserts condition {
  if (!condition) throw new TrainerError(code, typeof message === 'function' ? message() : message);
}

/** Index of the first NaN or ±Infinity in `values`, or -1 when every entry is finite. */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) {
    // `v - v` is NaN exactly for NaN and ±Infinity; cheaper than Number.isFinite in a hot loop.
    const v = values[i] as number;
    if (v - v !== 0) return i;
  }
  return -1;
}
