import { z } from 'zod';

// zod compiles fast parsers with `new Function` unless told not to; the page's
// Content-Security-Policy forbids eval, so zod must be configured before any schema is built.
// This module is imported first by main.ts for that reason.
z.config({ jitless: true });
