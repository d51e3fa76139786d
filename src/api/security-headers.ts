/**
 * The security headers of every answer, made once by helmet at start-up.
 *
 * @fastify/helmet calls `helmet(options)` on every request, which parses the CSP directives and
 * builds a dozen middlewares each time: about 4% of the event loop under a write load (measured
 * with `--cpu-prof`). Our options are static (no nonces), so helmet's output is the same
 * for every request: it is computed here once, from helmet itself, and set by one cheap hook.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * Content-Security-Policy for the API and the static web console served at `/` (and `/docs`):
 * scripts, styles, fonts and images from this origin only, no inline script or style, no
 * plugins, no framing, and requests (`fetch`) to this origin only. Helmet's defaults are not
 * used: they add `upgrade-insecure-requests`, which would break the console on plain HTTP.
 * `/docs` shows Swagger UI in its base layout (src/api/routes/docs.ts), which needs nothing
 * inline either.
 */
const CSP_DIRECTIVES: Readonly<Record<string, readonly string[]>> = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'connect-src': ["'self'"],
  'font-src': ["'self'", 'data:'],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
  'img-src': ["'self'", 'data:'],
  'object-src': ["'none'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'"],
};

const OPTIONS: HelmetOptions = {
  contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES as Record<string, string[]> },
  xFrameOptions: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
};

/** Runs helmet's middleware once against a response that only records the headers it sets. */
const headersFromHelmet = (options: HelmetOptions): Readonly<Record<string, string>> => {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader(name: string, value: unknown) {
      headers.set(name.toLowerCase(), String(value));
    },
    removeHeader(name: string) {
      headers.delete(name.toLowerCase());
    },
  };
  let finished = false;
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err;
    finished = true;
  });
  // helmet's middlewares are synchronous; if a version ever was not, fail at start-up, not later.
  if (!finished || headers.size === 0) throw new Error('helmet did not set its headers synchronously');
  return Object.freeze(Object.fromEntries(headers));
};

/** Every security header, lower-case names: on Fastify's answers and on raw error answers alike. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = headersFromHelmet(OPTIONS);
