import { describe, expect, it } from 'vitest';
import { identities, smallConfig, startTestCoordinator } from './harness.js';

describe('long-poll after a restart or a takeover', () => {
  it('answers at once when the client saw a later state version than this coordinator has', async () => {
    // A client of a coordinator that died holds that process's version; a fresh one counts from 0.
    const people = identities(2, 'long-poll');
    const running = await startTestCoordinator(smallConfig(people), { autoStart: false });
    try {
      const started = Date.now();
      const res = await fetch(new URL('v1/round?since=500&timeoutMs=5000', running.url));
      const state = (await res.json()) as { stateVersion: number };
      expect(res.status).toBe(200);
      expect(state.stateVersion).toBeLessThan(500);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      await running.close();
    }
  });
});
