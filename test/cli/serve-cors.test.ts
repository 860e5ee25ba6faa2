import { describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { corsOrigins } from '../../src/cli/serve.js';

/** `fedveil serve --cors-origin`: exact http(s) origins, normalised as browsers send them. */
describe('serve --cors-origin', () => {
  it('normalises an origin as browsers send it: lower-case host, no default port, no path', () => {
    expect(corsOrigins(['https://fl.example.org'])).toEqual(['https://fl.example.org']);
    expect(corsOrigins(['HTTPS://FL.Example.org:443/participant/?x#y', 'http://localhost:8080/'])).toEqual(['https://fl.example.org', 'http://localhost:8080']);
    expect(corsOrigins(['https://fl.example.org:8443'])).toEqual(['https://fl.example.org:8443']);
  });

  it.each([
    ['ftp://x', /--cors-origin must be an http\(s\) origin.*got ftp:\/\/x/],
    ['not a url', /--cors-origin must be an http\(s\) origin.*got not a url/],
    ['*', /--cors-origin must be an http\(s\) origin/],
    ['file:///srv/page', /--cors-origin must be an http\(s\) origin/],
    ['https://*.example.org', /--cors-origin takes exact origins, not wildcards/],
    ['https://op:secret@fl.example.org', /--cors-origin must be an origin without a user name or password/],
  ])('refuses %s with cli/bad-option, naming the flag', (value, message) => {
    let error: unknown;
    try {
      corsOrigins(['https://fl.example.org', value]);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'cli/bad-option' });
    expect((error as Error).message).toMatch(message);
  });

  it('refuses a bad origin before reading the config or opening the store', async () => {
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const run = buildProgram().parseAsync(['node', 'fedveil', 'serve', '--config', '/nonexistent/fed.yaml', '--quiet', '--cors-origin', 'https://ok.example', 'ftp://x']);
      await expect(run).rejects.toMatchObject({ code: 'cli/bad-option', message: expect.stringContaining('--cors-origin') as unknown });
    } finally {
      spy.mockRestore();
    }
  });
});
