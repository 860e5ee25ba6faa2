/**
 * An exponential moving average of released model versions (De et al. 2022 average DP-SGD's
 * iterates the same way). Under client-level DP every released model carries the round's noise,
 * and once training has converged the models wander around the optimum by that noise; their
 * average wanders less. It reads only released models, so it is post-processing: it costs no ε
 * against anyone who sees those models.
 */
export class ReleasedModelAverage {
  private sum: Float64Array | null = null;
  private weight = 0;
  private count = 0;

  /**
   * @param decay β in (0, 1): the weight of version t − k in the average is β^k (normalised), so
   *   it spans about 1/(1 − β) versions. The first version released is averaged from itself
   *   alone: the initial model never enters.
   */
  constructor(readonly decay: number) {
    if (!(decay > 0 && decay < 1)) throw new RangeError(`model average decay must be in (0, 1), got ${decay}`);
  }

  /** Versions averaged so far. */
  get versions(): number {
    return this.count;
  }

  /** Adds a released version and returns the average, a new array. */
  add(weights: Float32Array): Float32Array {
    if (this.sum === null) this.sum = new Float64Array(weights.length);
    else if (this.sum.length !== weights.length) throw new RangeError(`model average: ${weights.length} weights after ${this.sum.length}`);
    const sum = this.sum;
    for (let i = 0; i < sum.length; i++) sum[i] = this.decay * sum[i]! + weights[i]!;
    this.weight = this.decay * this.weight + 1;
    this.count++;
    return this.current();
  }

  /** The average of the versions added so far (throws before the first). */
  current(): Float32Array {
    if (this.sum === null) throw new Error('model average: no version added yet');
    const out = new Float32Array(this.sum.length);
    for (let i = 0; i < out.length; i++) out[i] = this.sum[i]! / this.weight;
    return out;
  }
}
