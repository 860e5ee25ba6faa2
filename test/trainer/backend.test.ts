import { describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/trainer/backend.js';

describe('initBackend', () => {
  it('falls back past the absent tfjs-node to wasm and says why', async () => {
    const choice = await initBackend();
    // tfjs-node is an optional dependency that is not installed in this repository's CI.
    expect(choice.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(choice.reason).toMatch(/^wasm with(out)? SIMD/);
    expect(choice.reason).toContain('@tensorflow/tfjs-node not available');
  });

  it('honours a forced backend and prints no "install tfjs-node" banner', async () => {
    const warn = vi.spyOn(console, 'warn');
    const log = vi.spyOn(console, 'log');
    const choice = await initBackend({ prefer: 'cpu' });
    expect(choice).toMatchObject({ name: 'cpu', tfName: 'cpu' });
    expect(choice.reason).toMatch(/^forced by the user/);
    tf.tidy(() => tf.add(tf.tensor([1, 2]), 1).dataSync());
    expect(warn).not.toHaveBeenCalled();
    expect(log).not.toHaveBeenCalled();
    warn.mockRestore();
    log.mockRestore();
    expect((await initBackend({ prefer: 'wasm' })).name).toBe('wasm');
  });

  it('fails clearly when the forced backend cannot start', async () => {
    await expect(initBackend({ prefer: 'node' })).rejects.toMatchObject({ code: 'trainer/backend-unavailable', message: expect.stringContaining('optional dependency') });
    await expect(initBackend({ prefer: 'gpu' as never })).rejects.toMatchObject({ code: 'trainer/backend-unavailable' });
  });
});
