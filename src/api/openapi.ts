/**
 * The OpenAPI 3.1 document served at `/openapi.json` (and rendered at `/docs`). The op envelope's
 * schema is generated from the same zod schema that validates ops, so the two cannot drift.
 */
import { z } from 'zod';
import { REFUSAL_HTTP_STATUS } from '../domain/codes.js';
import { LIMITS } from '../domain/limits.js';
import { envelopeSchema } from '../domain/schema.js';

const problem = {
  type: 'object',
  required: ['type', 'title', 'status', 'code', 'detail'],
  properties: {
    type: { type: 'string', const: 'about:blank' },
    title: { type: 'string' },
    status: { type: 'integer' },
    code: { type: 'string', enum: Object.keys(REFUSAL_HTTP_STATUS) },
    detail: { type: 'string' },
  },
};

const voucher = {
  type: 'object',
  description: 'A voucher state (PROTOCOL.md §7). Amounts and range bounds are decimal strings of minor units.',
  properties: {
    id: { type: 'string' },
    rootId: { type: 'string' },
    parentId: { type: ['string', 'null'] },
    issuer: { type: 'string' },
    holder: { type: 'string' },
    offeredTo: { type: ['string', 'null'] },
    amount: { type: 'string' },
    range: { type: 'object', properties: { start: { type: 'string' }, end: { type: 'string' } } },
    currency: { type: 'string' },
    dueDate: { type: 'string', format: 'date' },
    invoiceIds: { type: 'array', items: { type: 'string' } },
    status: { type: 'string', enum: ['offered', 'active', 'pledged', 'split', 'settled', 'cancelled'] },
    pledge: { type: ['object', 'null'] },
    settlement: { type: ['object', 'null'] },
    createdSeq: { type: 'integer' },
    updatedSeq: { type: 'integer' },
  },
};

const party = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string', enum: ['operator', 'core', 'supplier', 'bank', 'auditor'] },
    publicKey: { type: 'string' },
    status: { type: 'string', enum: ['active', 'suspended'] },
  },
};

const json = (schema: unknown, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const problems = (...codes: (keyof typeof REFUSAL_HTTP_STATUS)[]) =>
  Object.fromEntries(
    [...new Set(codes.map((c) => REFUSAL_HTTP_STATUS[c]))].map((status) => [
      String(status),
      {
        description: codes.filter((c) => REFUSAL_HTTP_STATUS[c] === status).join(', '),
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      },
    ]),
  );
const query = (name: string, description: string, required = false) => ({
  name,
  in: 'query',
  required,
  description,
  schema: { type: 'string' },
});
const path = (name: string, description: string) => ({ name, in: 'path', required: true, description, schema: { type: 'string' } });
const auth = [{ bearer: [] }];
const readErrors = problems('MALFORMED_REQUEST', 'UNAUTHENTICATED', 'NOT_FOUND', 'RATE_LIMITED');

let cached: unknown;

export const openApiDocument = (): unknown => {
  cached ??= {
    openapi: '3.1.0',
    info: {
      title: 'Receivable Voucher Ledger',
      version: 'rvl/op/v1',
      description:
        'An append-only, hash-chained, signed ledger of supply-chain receivable vouchers. The wire contract is PROTOCOL.md; ' +
        `request bodies are at most ${LIMITS.requestBodyBytesMax} bytes of I-JSON.`,
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (EdDSA, RFC 8037)' } },
      schemas: {
        Problem: problem,
        Voucher: voucher,
        Party: party,
        Envelope: z.toJSONSchema(envelopeSchema, { io: 'input', unrepresentable: 'any' }),
      },
    },
    paths: {
      '/v1/ops': {
        post: {
          summary: 'Submit a signed op',
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Envelope' } } } },
          responses: {
            '201': json({ type: 'object' }, 'The receipt {opId, seq, entryHash, time, treeSize, effects}'),
            '200': json({ type: 'object' }, 'The original receipt of a replayed op, with "duplicate": true'),
            ...problems(...(Object.keys(REFUSAL_HTTP_STATUS) as (keyof typeof REFUSAL_HTTP_STATUS)[]).filter(
              (c) => c !== 'UNAUTHENTICATED' && c !== 'NOT_FOUND',
            )),
          },
        },
      },
      '/v1/ledger': { get: { summary: 'Ledger facts from genesis, and its size', responses: { '200': json({ type: 'object' }, 'Ledger') } } },
      '/v1/checkpoint': {
        get: {
          summary: 'The latest signed checkpoint (C2SP signed note)',
          responses: { '200': { description: 'checkpoint', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
      '/v1/proofs/inclusion': {
        get: {
          summary: 'RFC 9162 inclusion proof',
          parameters: [query('seq', 'leaf index', true), query('size', 'tree size (default: current)')],
          responses: { '200': json({ type: 'object' }, '{seq, treeSize, entryHash, hashes}'), ...problems('MALFORMED_REQUEST', 'NOT_FOUND') },
        },
      },
      '/v1/proofs/consistency': {
        get: {
          summary: 'RFC 9162 consistency proof',
          parameters: [query('from', 'older size', true), query('to', 'newer size (default: current)')],
          responses: { '200': json({ type: 'object' }, '{from, to, hashes}'), ...problems('MALFORMED_REQUEST', 'NOT_FOUND') },
        },
      },
      '/v1/entries': {
        get: {
          summary: 'Raw log entries (operator, auditor)',
          security: auth,
          parameters: [query('from', 'first seq (default 0)'), query('limit', `1–${LIMITS.pageLimitMax}, default ${LIMITS.pageLimitDefault}`)],
          responses: { '200': json({ type: 'object' }, '{entries: [{entry, hash}], next}'), ...readErrors },
        },
      },
      '/v1/entries/{seq}': {
        get: { summary: 'One entry', security: auth, parameters: [path('seq', 'sequence number')], responses: { '200': json({ type: 'object' }, '{entry, hash}'), ...readErrors } },
      },
      '/v1/parties': {
        get: {
          summary: 'Parties, ordered by id',
          security: auth,
          parameters: [query('cursor', 'from a previous page'), query('limit', 'page size')],
          responses: { '200': json({ type: 'object', properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Party' } }, next: { type: ['string', 'null'] } } }, 'A page of parties'), ...readErrors },
        },
      },
      '/v1/parties/{id}': {
        get: { summary: 'One party', security: auth, parameters: [path('id', 'party id')], responses: { '200': json({ $ref: '#/components/schemas/Party' }, 'Party'), ...readErrors } },
      },
      '/v1/parties/{id}/vouchers': {
        get: {
          summary: "A party's vouchers (that party, operator, auditor)",
          security: auth,
          parameters: [path('id', 'party id'), query('status', 'one status or a comma list'), query('cursor', 'from a previous page'), query('limit', 'page size')],
          responses: { '200': json({ type: 'object', properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Voucher' } }, next: { type: ['string', 'null'] } } }, 'A page of vouchers'), ...readErrors },
        },
      },
      '/v1/vouchers/{id}': {
        get: { summary: 'A voucher', security: auth, parameters: [path('id', 'voucher id')], responses: { '200': json({ $ref: '#/components/schemas/Voucher' }, 'Voucher'), ...readErrors } },
      },
      '/v1/vouchers/{id}/history': {
        get: { summary: "Entries that touched the voucher or its ancestors", security: auth, parameters: [path('id', 'voucher id')], responses: { '200': json({ type: 'object' }, '{entries}'), ...readErrors } },
      },
      '/v1/vouchers/{id}/tree': {
        get: { summary: "The root's split tree, cut to what the caller may see", security: auth, parameters: [path('id', 'voucher id')], responses: { '200': json({ type: 'object' }, '{root}'), ...readErrors } },
      },
      '/v1/vouchers/{id}/proof': {
        get: { summary: 'A proof bundle (PROTOCOL.md §9)', security: auth, parameters: [path('id', 'voucher id')], responses: { '200': json({ type: 'object' }, 'bundle'), ...readErrors } },
      },
    },
  };
  return cached;
};
