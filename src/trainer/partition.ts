/**
 * Splitting one dataset among simulated participants, seeded and reproducible: IID, label skew
 * with Dirichlet(α) class proportions (Hsu et al. 2019; the usual FL benchmark split), and
 * quantity skew (Dirichlet(α) client sizes, IID labels). Every client gets at least `minSize`
 * examples, or the call fails with `trainer/empty-partition` — never a silent empty client.
 */
import { labelHistogram } from './data/dataset.js';
import { TrainerError, ensure } from './errors.js';
import { createRng, type Rng } from './rng.js';

/** How to split. */
export type PartitionSpec =
  | { kind: 'iid' }
  | { kind: 'dirichlet'; alpha: number }
  | { kind: 'quantity'; alpha: number };

/** One client's share. */
export interface ClientPartition {
  /** Indices into the source dataset, ascending. */
  indices: Uint32Array;
  /** Number of examples (`indices.length`). */
  size: number;
  /** Examples per class. */
  labelHistogram: number[];
}

/** Options for {@link partitionDataset}. */
export interface PartitionOptions {
  /** Number of clients (≥ 1). */
  clients: number;
  /** The split. */
  spec: PartitionSpec;
  /** Seeds every draw. */
  seed: number;
  /** Smallest acceptable client size (default 1). */
  minSize?: number;
  /** Dirichlet label skew redraws until every client has `minSize` (default 100 attempts). */
  maxAttempts?: number;
}

function iid(n: number, clients: number, rng: Rng): number[][] {
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const parts: number[][] = [];
  const base = Math.floor(n / clients);
  const extra = n % clients;
  let at = 0;
  for (let c = 0; c < clients; c++) {
    const size = base + (c < extra ? 1 : 0);
    parts.push(order.slice(at, at + size));
    at += size;
  }
  return parts;
}

/** Splits `items` into consecutive chunks at the cumulative proportions `p`. */
function splitByProportions(items: number[], p: ArrayLike<number>): number[][] {
  const out: number[][] = [];
  let cum = 0;
  let start = 0;
  for (let c = 0; c < p.length; c++) {
    cum += p[c]!;
    const end = c === p.length - 1 ? items.length : Math.min(items.length, Math.round(cum * items.length));
    out.push(items.slice(start, end));
    start = end;
  }
  return out;
}

function dirichletLabels(labels: ArrayLike<number>, numClasses: number, clients: number, alpha: number, rng: Rng): number[][] {
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]!]!.push(i);
  const parts: number[][] = Array.from({ length: clients }, () => []);
  for (const members of byClass) {
    if (members.length === 0) continue;
    rng.shuffle(members);
    const p = rng.nextDirichlet(clients, alpha);
    splitByProportions(members, p).forEach((chunk, c) => {
      for (const i of chunk) parts[c]!.push(i);
    });
  }
  return parts;
}

function quantity(n: number, clients: number, alpha: number, minSize: number, rng: Rng): number[][] {
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  // Everyone gets minSize first; the rest is split by Dirichlet proportions, so no client is empty.
  const rest = n - clients * minSize;
  const p = rng.nextDirichlet(clients, alpha);
  const sizes = new Array<number>(clients).fill(minSize);
  let cum = 0;
  let prev = 0;
  for (let c = 0; c < clients; c++) {
    cum += p[c]!;
    const end = c === clients - 1 ? rest : Math.min(rest, Math.round(cum * rest));
    sizes[c]! += end - prev;
    prev = end;
  }
  const parts: number[][] = [];
  let at = 0;
  for (const s of sizes) {
    parts.push(order.slice(at, at + s));
    at += s;
  }
  return parts;
}

/**
 * Partitions the examples whose labels are `labels` among `opts.clients` clients. Deterministic
 * given `opts.seed`. Throws `trainer/bad-option` for bad parameters and `trainer/empty-partition`
 * when the split cannot give every client `minSize` examples.
 */
export function partitionDataset(labels: ArrayLike<number>, numClasses: number, opts: PartitionOptions): ClientPartition[] {
  const n = labels.length;
  const { clients, spec } = opts;
  const minSize = opts.minSize ?? 1;
  ensure(Number.isInteger(clients) && clients >= 1, 'trainer/bad-option', `clients must be a positive integer, got ${clients}`);
  ensure(Number.isInteger(minSize) && minSize >= 1, 'trainer/bad-option', `minSize must be a positive integer, got ${minSize}`);
  ensure(Number.isInteger(numClasses) && numClasses >= 1, 'trainer/bad-option', `numClasses must be a positive integer, got ${numClasses}`);
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    ensure(Number.isInteger(l) && l >= 0 && l < numClasses, 'trainer/bad-dataset', () => `label ${l} at index ${i} is outside [0, ${numClasses})`);
  }
  if (n < clients * minSize) {
    throw new TrainerError('trainer/empty-partition', `${n} examples cannot give ${clients} clients at least ${minSize} each`);
  }
  const rng = createRng(opts.seed);
  let parts: number[][];
  switch (spec.kind) {
    case 'iid':
      parts = iid(n, clients, rng);
      break;
    case 'dirichlet': {
      ensure(Number.isFinite(spec.alpha) && spec.alpha > 0, 'trainer/bad-option', `Dirichlet alpha must be a positive number, got ${spec.alpha}`);
      const attempts = opts.maxAttempts ?? 100;
      let smallest = 0;
      parts = [];
      for (let a = 0; a < attempts; a++) {
        parts = dirichletLabels(labels, numClasses, clients, spec.alpha, rng);
        smallest = Math.min(...parts.map((p) => p.length));
        if (smallest >= minSize) break;
      }
      if (smallest < minSize) {
        throw new TrainerError(
          'trainer/empty-partition',
          `Dirichlet(α=${spec.alpha}) left a client with ${smallest} < ${minSize} examples in ${attempts} attempts; use fewer clients, a larger α or a smaller minSize`,
        );
      }
      break;
    }
    case 'quantity':
      ensure(Number.isFinite(spec.alpha) && spec.alpha > 0, 'trainer/bad-option', `quantity-skew alpha must be a positive number, got ${spec.alpha}`);
      parts = quantity(n, clients, spec.alpha, minSize, rng);
      break;
    default:
      throw new TrainerError('trainer/bad-option', `unknown partition kind "${String((spec as { kind: unknown }).kind)}"; use iid, dirichlet or quantity`);
  }
  return parts.map((p) => {
    const indices = Uint32Array.from(p).sort();
    const hist = labelHistogram(Array.from(indices, (i) => labels[i]!), numClasses);
    return { indices, size: indices.length, labelHistogram: hist };
  });
}
