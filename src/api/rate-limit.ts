/**
 * docs/protocol.md §10 `RATE_LIMIT_PER_MIN`: at most that many requests a minute per client address
 * (every route, the 404 answer included) and per party. Past it: 429 `RATE_LIMITED`, with
 * `retry-after`. `0` turns limiting off (the plugin is not registered).
 *
 * Counting is in fixed clock windows (`floor(now / 60 s)`), held in memory, on the clock the app
 * is given, so that tests can move time. The per-address limit is `@fastify/rate-limit`'s own
 * `onRequest` hook (IPv6 addresses are counted per /64, as the plugin does).
 *
 * The per-party limit counts what a party provably did, and nothing that someone else can make it
 * pay for:
 * - a read counts against the `iss` of its verified token;
 * - an op counts against its signers once every signature verified, and before it is decided, so
 *   that concurrent ops cannot all pass a check made before any of them is counted. It counts once
 *   per op id in a window: a signed op replayed by whoever holds it costs its signers one request.
 *   A refusal that the signers cannot have caused is taken back (`countsAgainstSigners` in
 *   src/domain/codes.ts says which).
 * Ops whose signatures do not verify, or that are refused before they are checked, count against no
 * party: they prove nothing about who sent them. The per-address limit bounds them.
 */
import rateLimit, { type FastifyRateLimitStore } from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
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

/**
 * The per-party quota: shared by a party's reads and the ops it signs. Every method is
 * synchronous, so that a check and its count happen with nothing in between: concurrent requests
 * cannot all pass a check made before any of them is counted.
 */
export interface PartyLimiter {
  /** Counts one read by `party`; throws 429 `RATE_LIMITED`, counting nothing, if it is at its limit. */
  hit(party: string): void;
  /**
   * Counts op `opId` once against each of `signers` (every one of whose signatures verified), before
   * it is decided. A signer already counted for this op id in this window is not counted again, so
   * replays of one signed op cost its signers one request, whoever sends them. If any signer that
   * would be counted is at its limit, throws 429 `RATE_LIMITED` and counts nothing.
   */
  admit(opId: string, signers: readonly string[]): void;
  /**
   * Takes back what `admit` counted for `opId` in this window: for a refusal its signers cannot
   * have caused (`countsAgainstSigners` false in src/domain/codes.ts). Idempotent.
   */
  release(opId: string): void;
}

const OFF: PartyLimiter = {
  hit: () => undefined,
  admit: () => undefined,
  release: () => undefined,
};

const retryAfterSeconds = (ttlMs: number): number => Math.max(1, Math.ceil(ttlMs / 1000));

/**
 * Per-party counts in fixed windows of the given clock, with the op ids counted in the window and
 * whom each was counted against. Everything is dropped when the window changes; within one, the
 * op ids kept are at most the parties seen times the limit (each one counted a request).
 */
class PartyCounter implements PartyLimiter {
  #window = -1;
  #counts = new Map<string, number>();
  #ops = new Map<string, readonly string[]>();

  constructor(
    readonly perMinute: number,
    readonly now: () => number,
  ) {}

  /** Moves to the current window; returns the ms until it ends. */
  #roll(): number {
    const nowMs = this.now();
    const window = Math.floor(nowMs / RATE_WINDOW_MS);
    if (window !== this.#window) {
      this.#window = window;
      this.#counts = new Map();
      this.#ops = new Map();
    }
    return (window + 1) * RATE_WINDOW_MS - nowMs;
  }

  hit(party: string): void {
    const ttl = this.#roll();
    const current = this.#counts.get(party) ?? 0;
    if (current >= this.perMinute) throw new Problem('RATE_LIMITED', `too many requests by ${party}`, retryAfterSeconds(ttl));
    this.#counts.set(party, current + 1);
  }

  admit(opId: string, signers: readonly string[]): void {
    const ttl = this.#roll();
    const already = this.#ops.get(opId) ?? [];
    const charge = [...new Set(signers)].filter((s) => !already.includes(s));
    if (charge.length === 0) return;
    for (const party of charge) {
      if ((this.#counts.get(party) ?? 0) >= this.perMinute) {
        throw new Problem('RATE_LIMITED', `too many requests by ${party}`, retryAfterSeconds(ttl));
      }
    }
    for (const party of charge) this.#counts.set(party, (this.#counts.get(party) ?? 0) + 1);
    this.#ops.set(opId, [...already, ...charge]);
  }

  release(opId: string): void {
    this.#roll();
    const charged = this.#ops.get(opId);
    if (charged === undefined) return;
    this.#ops.delete(opId);
    for (const party of charged) this.#counts.set(party, Math.max(0, (this.#counts.get(party) ?? 0) - 1));
  }
}

export const RATE_LIMITS_PLUGIN = 'rvl-rate-limits';

export interface RateLimitsOptions {
  /** Requests a minute per party and per client address; 0 = off. */
  readonly perMinute: number;
  /** Wall clock in ms (the windows). */
  readonly now: () => number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The per-party limiter (one that counts nothing when limiting is off). */
    partyLimit: PartyLimiter;
  }
}

/**
 * Registers the per-address limit (register this before any route, so that its hook reaches
 * them all) and decorates the app with the per-party limiter, `partyLimit`.
 */
export const rateLimits = fp(
  async (app: FastifyInstance, o: RateLimitsOptions) => {
    if (!(o.perMinute > 0)) {
      app.decorate('partyLimit', OFF);
      return;
    }
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
    app.decorate('partyLimit', new PartyCounter(o.perMinute, now));
  },
  { name: RATE_LIMITS_PLUGIN },
);
