/**
 * Shared by the security suites: how many generated cases to run, the RFC 9457 answer check that
 * every hostile request must pass, a digest of everything a client can read (to prove that nothing
 * changed), and a watch on the built-in prototypes (to prove that nothing was polluted).
 *
 * RVL_FUZZ_RUNS scales every generated suite: the default (1) is the CI run, kept well under a
 * minute; `RVL_FUZZ_RUNS=20` runs twenty times as many cases. RVL_FUZZ_SEED replays one run.
 */
import { createHash } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import fc from 'fast-check';
import { expect, vi } from 'vitest';
import type { ProblemJson } from '../api/helpers.js';
import { REFUSAL_HTTP_STATUS, UNAUTHENTICATED_REASONS } from '../../src/domain/codes.js';
import type { Harness, Key } from '../support/harness.js';

const scale = (() => {
  const raw = process.env.RVL_FUZZ_RUNS;
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`RVL_FUZZ_RUNS must be a positive number, not ${raw}`);
  return n;
})();

/** A test's time limit, scaled like its runs. */
export const timeoutMs = (baseMs: number): number => Math.round(baseMs * Math.max(1, scale));
// Tests without their own limit get vitest's default (30 s), scaled.
if (scale > 1) vi.setConfig({ testTimeout: timeoutMs(30_000), hookTimeout: timeoutMs(60_000) });

/** fast-check parameters for a property worth `base` runs in CI. */
export const runs = (base: number): fc.Parameters<unknown> => {
  const seed = process.env.RVL_FUZZ_SEED;
  return {
    numRuns: Math.max(1, Math.round(base * scale)),
    ...(seed ? { seed: Number(seed) } : {}),
    // Every run sends real requests: stop shrinking after a while, the first counterexample is
    // printed with its seed and path anyway.
    interruptAfterTimeLimit: 600_000,
    markInterruptAsFailure: true,
  };
};

/** Hostile requests sent in this worker, by suite; printed at the end of each suite. */
export const sent = new Map<string, number>();
export const countRequest = (suite: string): void => {
  sent.set(suite, (sent.get(suite) ?? 0) + 1);
};

const KNOWN_CODES = new Set(Object.keys(REFUSAL_HTTP_STATUS));

/** The RFC 9457 body, as the API tests read it. */
export type Problem = ProblemJson;

/**
 * A 4xx `application/problem+json` answer with a code of the closed list whose status is the
 * code's; optionally exactly `status` and `code`.
 */
export const assertProblem = (res: { statusCode: number; headers: Record<string, unknown>; body: string }, status?: number, code?: string): Problem => {
  const where = `${res.statusCode} ${res.body.slice(0, 300)}`;
  expect(res.statusCode, where).toBeGreaterThanOrEqual(400);
  expect(res.statusCode, where).toBeLessThan(500);
  expect(String(res.headers['content-type']), where).toMatch(/^application\/problem\+json(;|$)/);
  const body = JSON.parse(res.body) as Problem;
  // An UNAUTHENTICATED problem also carries the extension member `reason` (one of a closed list).
  const extra = body.code === 'UNAUTHENTICATED' ? ['reason'] : [];
  expect(Object.keys(body).sort(), where).toEqual(['code', 'detail', 'status', 'title', 'type', ...extra].sort());
  if (body.code === 'UNAUTHENTICATED') expect(UNAUTHENTICATED_REASONS, where).toContain(body.reason);
  expect(body.type).toBe('about:blank');
  expect(body.status, where).toBe(res.statusCode);
  expect(KNOWN_CODES.has(body.code), where).toBe(true);
  expect(REFUSAL_HTTP_STATUS[body.code as keyof typeof REFUSAL_HTTP_STATUS], where).toBe(res.statusCode);
  if (status !== undefined) expect({ status: res.statusCode, code: body.code }, where).toEqual({ status, code });
  return body;
};

/** Never a 5xx, whatever else. */
export const assertNo5xx = (res: LightMyRequestResponse | { statusCode: number; body: string }): void => {
  expect(res.statusCode, res.body.slice(0, 300)).toBeLessThan(500);
};

// ---- prototypes ----

const WATCHED: readonly [string, object][] = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
  ['String.prototype', String.prototype],
  ['Number.prototype', Number.prototype],
  ['Map.prototype', Map.prototype],
  ['Promise.prototype', Promise.prototype],
];

/** The own properties of the built-in prototypes, with the identity of each value. */
export const prototypeSnapshot = (): Map<string, unknown> => {
  const out = new Map<string, unknown>();
  for (const [name, proto] of WATCHED) {
    for (const key of Reflect.ownKeys(proto)) {
      const d = Object.getOwnPropertyDescriptor(proto, key);
      out.set(`${name}.${String(key)}`, d?.value ?? d?.get);
    }
    out.set(`${name}.[[Prototype]]`, Object.getPrototypeOf(proto));
    out.set(`${name}.[[Extensible]]`, Object.isExtensible(proto));
  }
  return out;
};

/** Names a polluter would try to plant; none may be readable on a fresh object. */
export const POLLUTION_NAMES = ['polluted', 'isAdmin', 'admin', 'role', 'status', 'holder', 'owner', 'bank', 'x'] as const;

export const assertPrototypesClean = (before: Map<string, unknown>): void => {
  const now = prototypeSnapshot();
  const added = [...now.keys()].filter((k) => !before.has(k));
  const changed = [...before.keys()].filter((k) => now.get(k) !== before.get(k));
  expect({ added, changed }, 'a built-in prototype was changed').toEqual({ added: [], changed: [] });
  const probe: Record<string, unknown> = {};
  for (const name of POLLUTION_NAMES) expect(probe[name], `({}).${name}`).toBeUndefined();
};

// ---- what a client can read ----

/**
 * A SHA-256 over every answer the operator can read: ledger info, checkpoint, every entry, every
 * party, every party's voucher list, and every voucher named in them. Equal digests mean nothing a
 * client can see has changed.
 */
export const stateDigest = async (h: Harness, operator: Key): Promise<string> => {
  const hash = createHash('sha256');
  const get = async (url: string, auth = true): Promise<string> => {
    const res = await h.get(url, auth ? operator : undefined);
    expect(res.statusCode, `${url}: ${res.body.slice(0, 200)}`).toBe(200);
    hash.update(`${url}\n${res.body}\n`);
    return res.body;
  };
  const info = JSON.parse(await get('/v1/ledger', false)) as { size: number };
  await get('/v1/checkpoint', false);
  for (let from = 0; from < info.size; from += 1000) await get(`/v1/entries?from=${from}&limit=1000`);
  const parties: string[] = [];
  let cursor: string | null = null;
  do {
    const page = JSON.parse(await get(`/v1/parties?limit=1000${cursor ? `&cursor=${cursor}` : ''}`)) as { items: { id: string }[]; next: string | null };
    parties.push(...page.items.map((p) => p.id));
    cursor = page.next;
  } while (cursor !== null);
  const vouchers = new Set<string>();
  for (const id of parties) {
    await get(`/v1/parties/${id}`);
    let c: string | null = null;
    do {
      const page = JSON.parse(await get(`/v1/parties/${id}/vouchers?limit=1000${c ? `&cursor=${c}` : ''}`)) as { items: { id: string }[]; next: string | null };
      for (const v of page.items) vouchers.add(v.id);
      c = page.next;
    } while (c !== null);
  }
  for (const id of [...vouchers].sort()) {
    await get(`/v1/vouchers/${id}`);
    await get(`/v1/vouchers/${id}/tree`);
  }
  return hash.digest('hex');
};
