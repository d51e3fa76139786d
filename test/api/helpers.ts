/**
 * Small helpers shared by the API tests: the RFC 9457 problem shape of docs/protocol.md §8, the ledger
 * size as a client sees it, raw posts, and a store wrapper that can fail or stall on purpose.
 */
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { UNAUTHENTICATED_REASONS } from '../../src/domain/codes.js';
import type { Store } from '../../src/store/port.js';
import { dueIn, key, type Harness, type Key } from '../support/harness.js';

export interface ProblemJson {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  reason?: string;
}

/** §8: `{type:'about:blank', title, status, code, detail}` as `application/problem+json`, and nothing else. */
export const expectProblem = (res: LightMyRequestResponse, status: number, code: string): ProblemJson => {
  expect({ status: res.statusCode, code: (res.json() as { code?: unknown }).code }, res.body).toEqual({ status, code });
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json(;|$)/);
  const body = res.json() as ProblemJson;
  // An UNAUTHENTICATED problem also carries the extension member `reason` (one of a closed list).
  const extra = body.code === 'UNAUTHENTICATED' ? ['reason'] : [];
  expect(Object.keys(body).sort()).toEqual(['code', 'detail', 'status', 'title', 'type', ...extra].sort());
  if (body.code === 'UNAUTHENTICATED') expect(UNAUTHENTICATED_REASONS).toContain(body.reason);
  expect(body.type).toBe('about:blank');
  expect(body.status).toBe(status);
  expect(typeof body.title).toBe('string');
  expect(body.title.length).toBeGreaterThan(0);
  expect(typeof body.detail).toBe('string');
  return body;
};

/** `GET /v1/ledger` size: what a client sees of the log. */
export const ledgerSize = async (h: Harness): Promise<number> => {
  const res = await h.get('/v1/ledger');
  expect(res.statusCode).toBe(200);
  return (res.json() as { size: number }).size;
};

/** POST /v1/ops with exact bytes and an exact content type (`null`: no content-type header). */
export const postRaw = (h: Harness, body: string | Buffer, contentType: string | null = 'application/json', url = '/v1/ops'): Promise<LightMyRequestResponse> =>
  h.app.inject({ method: 'POST', url, headers: contentType === null ? {} : { 'content-type': contentType }, payload: body });

/** Sends, insists on the refusal, and checks that the ledger did not grow (§7: a refused op writes nothing). */
export const expectRefusal = async (h: Harness, send: () => Promise<LightMyRequestResponse>, status: number, code: string): Promise<ProblemJson> => {
  const before = await ledgerSize(h);
  const res = await send();
  const body = expectProblem(res, status, code);
  expect(await ledgerSize(h)).toBe(before);
  return body;
};

/**
 * Wraps a store so that selected methods can be replaced. Methods are bound to the real store
 * (it keeps private fields), and `overrides` get the real store to delegate to.
 */
export const wrapStore =
  (overrides: (real: Store) => Partial<Store>) =>
  (real: Store): Store => {
    const replaced = overrides(real);
    return new Proxy(real, {
      get(target, prop, _receiver) {
        if (Object.hasOwn(replaced, prop)) return (replaced as Record<PropertyKey, unknown>)[prop];
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  };

/** A promise with its resolver, for holding a request at a chosen point. */
export const gate = (): { promise: Promise<void>; open: () => void } => {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
};

/** The parties the refusal suites register: two cores, three suppliers, two banks. */
export const REFUSAL_CAST = {
  core: key('gz-motors', 'core'),
  core2: key('sz-auto', 'core'),
  s1: key('dongguan-parts', 'supplier'),
  s2: key('chen-electronics', 'supplier'),
  s3: key('foshan-metal', 'supplier'),
  bank: key('icbc-gz', 'bank'),
  bank2: key('cmb-sz', 'bank'),
};

/** A `voucher.issue` payload of 1000 fen from `issuer` to `to`, due in 30 days; `fields` add to or override it. */
export const issuePayload = (issuer: Key, to: Key, fields: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: 'voucher.issue',
  issuer: issuer.id,
  to: to.id,
  amount: '1000',
  currency: 'CNY',
  dueDate: dueIn(30),
  ...fields,
});
