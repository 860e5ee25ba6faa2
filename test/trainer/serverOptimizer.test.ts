import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createServerOptimizer, scheduledLr, type ServerLrSchedule } from '../../src/trainer/serverOptimizer.js';

const f32 = (xs: number[]): Float32Array => Float32Array.from(xs);

describe('server optimisers (Reddi et al. 2021, Algorithm 2)', () => {
  it('FedAvg adds lr · Δ', () => {
    const opt = createServerOptimizer({ kind: 'fedavg', lr: 0.5 });
    expect(Array.from(opt.apply(f32([1, 2]), f32([2, -4])))).toEqual([2, 0]);
    expect(Array.from(createServerOptimizer({ kind: 'fedavg' }).apply(f32([1, 2]), f32([2, -4])))).toEqual([3, -2]);
  });

  it('FedAvgM accumulates momentum m ← βm + Δ', () => {
    const opt = createServerOptimizer({ kind: 'fedavgm', lr: 1, momentum: 0.5 });
    let w = opt.apply(f32([0]), f32([1])); // m = 1
    expect(w[0]).toBe(1);
    w = opt.apply(w, f32([1])); // m = 1.5
    expect(w[0]).toBe(2.5);
    expect(opt.exportState()).toMatchObject({ step: 2, m: f32([1.5]), v: null });
  });

  it('FedAdam, FedYogi, FedAdagrad match hand-computed two-step values', () => {
    const lr = 0.1, b1 = 0.9, b2 = 0.99, tau = 1e-3;
    const g1 = 0.5, g2 = -0.2;
    const ref = (kind: 'fedadam' | 'fedyogi' | 'fedadagrad'): number => {
      let w = 1, m = 0, v = tau * tau;
      for (const g of [g1, g2]) {
        const beta1 = kind === 'fedadagrad' ? 0 : b1;
        m = beta1 * m + (1 - beta1) * g;
        if (kind === 'fedadam') v = b2 * v + (1 - b2) * g * g;
        else if (kind === 'fedyogi') v = v - (1 - b2) * g * g * Math.sign(v - g * g);
        else v = v + g * g;
        w = w + (lr * m) / (Math.sqrt(v) + tau);
      }
      return w;
    };
    for (const kind of ['fedadam', 'fedyogi', 'fedadagrad'] as const) {
      const opt = createServerOptimizer(kind === 'fedadagrad' ? { kind, lr, beta1: 0, tau } : { kind, lr, beta1: b1, beta2: b2, tau });
      let w = opt.apply(f32([1]), f32([g1]));
      w = opt.apply(w, f32([g2]));
      expect(w[0]).toBeCloseTo(ref(kind), 5);
    }
    // Yogi's second moment moves additively, unlike Adam's multiplicative decay.
    const yogi = createServerOptimizer({ kind: 'fedyogi', lr, tau });
    yogi.apply(f32([0]), f32([1]));
    expect(yogi.exportState().v![0]).toBeCloseTo(tau * tau + 0.01, 8);
  });

  it('rejects length mismatch and NaN/Inf without changing state', () => {
    const opt = createServerOptimizer({ kind: 'fedadam' });
    const twin = createServerOptimizer({ kind: 'fedadam' });
    const w = f32([0.1, 0.2, 0.3]);
    expect(() => opt.apply(w, f32([1, 2]))).toThrow(expect.objectContaining({ code: 'trainer/update-length-mismatch' }));
    expect(() => opt.apply(w, f32([1, NaN, 2]))).toThrow(expect.objectContaining({ code: 'trainer/non-finite-update', message: expect.stringContaining('index 1') }));
    expect(() => opt.apply(w, f32([1, 2, Infinity]))).toThrow(expect.objectContaining({ code: 'trainer/non-finite-update' }));
    expect(() => opt.apply(f32([NaN, 0, 0]), f32([1, 2, 3]))).toThrow(expect.objectContaining({ code: 'trainer/non-finite-weights' }));
    expect(() => createServerOptimizer({ kind: 'fedavg', lr: 1e38 }).apply(f32([0]), f32([1e38]))).toThrow(expect.objectContaining({ code: 'trainer/non-finite-weights' }));
    expect(opt.exportState().step).toBe(0);
    expect(Array.from(opt.apply(w, f32([1, 2, 3])))).toEqual(Array.from(twin.apply(w, f32([1, 2, 3]))));
  });

  it('rejects bad hyper-parameters', () => {
    expect(() => createServerOptimizer({ kind: 'fedavg', lr: 0 })).toThrow(expect.objectContaining({ code: 'trainer/bad-option' }));
    expect(() => createServerOptimizer({ kind: 'fedavgm', momentum: 1 })).toThrow(expect.objectContaining({ code: 'trainer/bad-option' }));
    expect(() => createServerOptimizer({ kind: 'fedadam', tau: 0 })).toThrow(expect.objectContaining({ code: 'trainer/bad-option' }));
    expect(() => createServerOptimizer({ kind: 'sgd' } as never)).toThrow(expect.objectContaining({ code: 'trainer/bad-option' }));
  });

  it('returns new weights in a fresh array and leaves its arguments and exported state untouched', () => {
    // The coordinator hands apply a view of the published model and stores the result without copying either.
    for (const kind of ['fedavg', 'fedavgm', 'fedadam', 'fedyogi', 'fedadagrad'] as const) {
      const opt = createServerOptimizer({ kind });
      opt.apply(f32([0.5, 0.5]), f32([0.1, -0.1]));
      const w = f32([1, 2]);
      const delta = f32([0.25, -0.5]);
      const state = opt.exportState();
      const out = opt.apply(w, delta);
      expect(out.buffer).not.toBe(w.buffer);
      expect(out.buffer).not.toBe(delta.buffer);
      for (const held of [state.m, state.v]) if (held) expect(out.buffer).not.toBe(held.buffer);
      expect(Array.from(w)).toEqual([1, 2]);
      expect(Array.from(delta)).toEqual([0.25, -0.5]);
      const after = opt.exportState();
      out.fill(99);
      expect(opt.exportState()).toEqual(after);
    }
  });

  it('resumes from exported state exactly as if never interrupted', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('fedavgm', 'fedadam', 'fedyogi', 'fedadagrad'),
        fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 }),
        fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 }),
        (kind, d1, d2) => {
          const a = createServerOptimizer({ kind });
          const w1 = a.apply(f32([0, 0, 0]), f32(d1));
          const b = createServerOptimizer({ kind }, a.exportState());
          expect(Array.from(b.apply(w1, f32(d2)))).toEqual(Array.from(a.apply(w1, f32(d2))));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('a cosine lr schedule holds lr until its start, reaches final·lr at its end and stays there', () => {
    const cosine: ServerLrSchedule = { kind: 'cosine', from: 2, to: 6, final: 0.1 };
    const lrs = [0, 1, 2, 3, 4, 5, 6, 7, 50].map((step) => scheduledLr(8, cosine, step));
    expect(lrs.slice(0, 3)).toEqual([8, 8, 8]);
    // Halfway through the decay the cosine is at the middle of lr and final·lr.
    expect(lrs[4]).toBeCloseTo((8 + 0.8) / 2, 12);
    expect(lrs.slice(6)).toEqual([0.8, 0.8, 0.8].map((x) => expect.closeTo(x, 12)));
    for (let i = 1; i < lrs.length; i++) expect(lrs[i]).toBeLessThanOrEqual(lrs[i - 1]!);
    expect(scheduledLr(8, { kind: 'constant' }, 1000)).toBe(8);
  });

  it('steps with the scheduled lr, and an optimiser resumed from its state continues the schedule from its step count', () => {
    const schedule: ServerLrSchedule = { kind: 'cosine', from: 1, to: 3, final: 0.25 };
    const opt = createServerOptimizer({ kind: 'fedavg', lr: 2, schedule });
    let w = f32([0]);
    const steps: number[] = [];
    for (let t = 0; t < 4; t++) {
      if (t === 2) {
        // A coordinator restart between rounds: the resumed optimiser takes the step the running one takes.
        const resumed = createServerOptimizer({ kind: 'fedavg', lr: 2, schedule }, opt.exportState());
        expect(resumed.apply(w, f32([1]))[0]! - w[0]!).toBeCloseTo(1.25, 6);
      }
      const next = opt.apply(w, f32([1]));
      steps.push(next[0]! - w[0]!);
      w = next;
    }
    expect(steps.map((x) => Number(x.toFixed(6)))).toEqual([2, 2, 1.25, 0.5]);
  });

  it('rejects a schedule that is not one', () => {
    const bad: ServerLrSchedule[] = [
      { kind: 'cosine', from: -1, to: 5, final: 0.1 },
      { kind: 'cosine', from: 5, to: 5, final: 0.1 },
      { kind: 'cosine', from: 0, to: 5, final: 1.5 },
      { kind: 'cosine', from: 0.5, to: 5, final: 0.1 },
      { kind: 'cosine', from: 0, to: 5, final: Number.NaN },
      { kind: 'linear' } as never,
    ];
    for (const schedule of bad) expect(() => createServerOptimizer({ kind: 'fedavgm', schedule })).toThrow(expect.objectContaining({ code: 'trainer/bad-option' }));
  });
});
