import { describe, expect, it } from 'vitest';
import { meanFromExampleWeightedSum, meanFromUniformSum, weightByExamples } from '../../src/trainer/weighting.js';

describe('update weighting', () => {
  it('example weighting sends the count as a last coordinate and the coordinator divides by the total', () => {
    const a = weightByExamples(Float32Array.from([1, 2]), 3);
    const b = weightByExamples(Float32Array.from([4, -1]), 1);
    expect(Array.from(a)).toEqual([3, 6, 3]);
    const sum = a.map((v, i) => v + b[i]!);
    expect(Array.from(meanFromExampleWeightedSum(sum))).toEqual([7 / 4, 5 / 4].map((x) => Math.fround(x)));
  });

  it('uniform weighting divides by the number of contributors', () => {
    expect(Array.from(meanFromUniformSum(Float32Array.from([3, 6]), 3))).toEqual([1, 2]);
  });

  it('rejects zero counts and non-finite values', () => {
    expect(() => weightByExamples(Float32Array.from([1]), 0)).toThrow(expect.objectContaining({ code: 'trainer/bad-option' }));
    expect(() => weightByExamples(Float32Array.from([NaN]), 2)).toThrow(expect.objectContaining({ code: 'trainer/non-finite-update' }));
    expect(() => meanFromExampleWeightedSum(Float32Array.from([1, 0]))).toThrow(expect.objectContaining({ code: 'trainer/bad-aggregate' }));
    expect(() => meanFromExampleWeightedSum(Float32Array.from([Infinity, 2]))).toThrow(expect.objectContaining({ code: 'trainer/non-finite-update' }));
    expect(() => meanFromUniformSum(Float32Array.from([1]), 0)).toThrow(expect.objectContaining({ code: 'trainer/bad-aggregate' }));
  });
});
