/**
 * docs/protocol.md §10 `RATE_LIMIT_PER_MIN` on `@fastify/rate-limit`: at most that many requests a
 * minute per client address (every route, the 404 answer included) and per party (the `iss` of a
 * verified read token; each signer of an op whose signatures verified). Past it: 429
 * `RATE_LIMITED`, with `retry-after`. `0` turns limiting off (the plugin is not registered).
 *
 * Counting is in fixed clock windows (`floor(now / 60 s)`), held in memory, on the clock the app
 * is given, so that tests can move time. The per-address limit is the plugin's own `onRequest`
 * hook (IPv6 addresses are counted per /64, as the plugin does); the per-party limit is a limiter
 * made with `createRateLimit`, which the routes call once they know the party.
 */
import rateLimit, { type FastifyRateLimitStore } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Problem } from './problem.js';

/** §10: the window the limit counts in. */
export const RATE_WINDOW_MS = 60_000;

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/**
 * A `@fastify/rate-limit` store that counts in fixed windows of the given clock. All counts are
 * dropped when the window changes, so memory is bounded by the keys seen in one window.
 */
class WindowStore implements FastifyRateLimitStore {
  #window = -1;
  #counts = new Map<string, number>();

  constructor(readonly now: () => number) {}

  #roll(timeWindowMs: number): number {
    const nowMs = this.now();
    const window = Math.floor(nowMs / timeWindowMs);
    if (window !== this.#window) {
      this.#window = window;
      this.#counts = new Map();
    }
    return (window + 1) * timeWindowMs - nowMs;
  }

  incr(key: string, callback: Callback, timeWindowMs: number): void {
    const ttl = this.#roll(timeWindowMs);
    const current = (this.#counts.get(key) ?? 0) + 1;
    this.#counts.set(key, current);
    callback(null, { current, ttl });
  }

  /** The plugin's non-counting read (`{ increment: false }`). */
  read(key: string, callback: Callback, timeWindowMs: number): void {
    const ttl = this.#roll(timeWindowMs);
    callback(null, { current: this.#counts.get(key) ?? 0, ttl });
  }

  child(): FastifyRateLimitStore {
    return new WindowStore(this.now);
  }
}

/** The per-party quota: shared by a party's reads and the ops it signs. */
export interface PartyLimiter {
  /** Throws 429 `RATE_LIMITED` if `party` is already at its limit this window. Does not count. */
  check(req: FastifyRequest, party: string): Promise<void>;
  /** Counts one request by `party`; throws 429 `RATE_LIMITED` past the limit. */
  hit(req: FastifyRequest, party: string): Promise<void>;
  /** Counts one request by `party`, never refusing (an op already written). */
  count(req: FastifyRequest, party: string): Promise<void>;
}

const OFF: PartyLimiter = {
  check: async () => undefined,
  hit: async () => undefined,
  count: async () => undefined,
};

/** The party a `createRateLimit` call counts for; set just before each call. */
const PARTY = Symbol('rvl.rateLimitParty');
type Keyed = FastifyRequest & { [PARTY]?: string };

const retryAfterSeconds = (ttlMs: number): number => Math.max(1, Math.ceil(ttlMs / 1000));

/**
 * Registers the per-address limit on `app` (register it before any route) and returns the
 * per-party limiter.
 */
export const registerRateLimits = async (
  app: FastifyInstance,
  o: { readonly perMinute: number; readonly now: () => number },
): Promise<PartyLimiter> => {
  if (!(o.perMinute > 0)) return OFF;
  const now = o.now;
  const Store = class extends WindowStore {
    constructor() {
      super(now);
    }
  };
  await app.register(rateLimit, {
    global: true,
    hook: 'onRequest',
    max: o.perMinute,
    timeWindow: RATE_WINDOW_MS,
    store: Store,
    errorResponseBuilder: (_req, ctx) =>
      new Problem('RATE_LIMITED', `too many requests from this address; retry in ${ctx.after}`, retryAfterSeconds(ctx.ttl)),
  });

  const limiter = app.createRateLimit({
    store: Store,
    max: o.perMinute,
    timeWindow: RATE_WINDOW_MS,
    keyGenerator: (req) => `party:${(req as Keyed)[PARTY] ?? ''}`,
  });
  const ask = (req: FastifyRequest, party: string, increment: boolean) => {
    // The key generator reads the party synchronously, when the limiter is called.
    (req as Keyed)[PARTY] = party;
    return limiter(req, { increment });
  };
  return {
    check: async (req, party) => {
      const r = await ask(req, party, false);
      if (!r.isAllowed && r.remaining <= 0) {
        throw new Problem('RATE_LIMITED', `too many ops signed by ${party}`, retryAfterSeconds(r.ttl));
      }
    },
    hit: async (req, party) => {
      const r = await ask(req, party, true);
      if (!r.isAllowed && r.isExceeded) {
        throw new Problem('RATE_LIMITED', `too many requests by ${party}`, retryAfterSeconds(r.ttl));
      }
    },
    count: async (req, party) => {
      await ask(req, party, true);
    },
  };
};
