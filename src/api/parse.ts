/**
 * The checks every route makes of its query and path parameters, with zod. A value that fails
 * one is a 400 `MALFORMED_REQUEST` naming the part that failed; routes never see it.
 */
import { z } from 'zod';
import { LIMITS, PATTERNS } from '../domain/limits.js';
import { VOUCHER_STATUSES } from '../domain/types.js';
import { Problem } from './problem.js';

/** A non-negative integer query value, as decimal digits. */
const count = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,15})$/, 'must be a non-negative integer')
  .transform(Number)
  .refine(Number.isSafeInteger, 'is too large');
const limit = count.refine((n) => n >= 1 && n <= LIMITS.pageLimitMax, `must be 1–${LIMITS.pageLimitMax}`);
const cursor = z.string().min(1).max(2048);

/** The query strings of the routes, each strict: an unknown parameter is refused. */
export const QUERIES = {
  none: z.strictObject({}),
  inclusion: z.strictObject({ seq: count, size: count.optional() }),
  consistency: z.strictObject({ from: count, to: count.optional() }),
  entries: z.strictObject({ from: count.optional(), limit: limit.optional() }),
  page: z.strictObject({ cursor: cursor.optional(), limit: limit.optional() }),
  partyVouchers: z.strictObject({
    cursor: cursor.optional(),
    limit: limit.optional(),
    status: z
      .string()
      .transform((s) => s.split(','))
      .refine((xs) => xs.every((x) => (VOUCHER_STATUSES as readonly string[]).includes(x)), 'has an unknown status')
      .optional(),
  }),
};

/** `value` as `schema` says, or a 400 `MALFORMED_REQUEST` naming `what` and the first issue. */
export const parse = <T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> => {
  const r = schema.safeParse(value ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${what} ${issue.path.join('.')}` : what;
    throw new Problem('MALFORMED_REQUEST', `${where}: ${issue?.message ?? 'invalid'}`);
  }
  return r.data;
};

/** The `:id` path parameter as a voucher id, or a 400. */
export const voucherIdParam = (params: unknown): string => {
  const id = (params as { id?: unknown }).id;
  if (typeof id !== 'string' || !PATTERNS.voucherId.test(id)) throw new Problem('MALFORMED_REQUEST', 'not a voucher id');
  return id;
};

/** The `:id` path parameter as a party id, or a 400. */
export const partyIdParam = (params: unknown): string => {
  const id = (params as { id?: unknown }).id;
  if (typeof id !== 'string' || !PATTERNS.partyId.test(id)) throw new Problem('MALFORMED_REQUEST', 'not a party id');
  return id;
};

/** The `:seq` path parameter as an entry's sequence number, or a 400. */
export const seqParam = (params: unknown): number => parse(count, (params as { seq?: unknown }).seq, 'seq');
