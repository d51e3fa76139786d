/**
 * The OpenAPI 3.1 document served at `/openapi.json` (and rendered at `/docs`), written by hand:
 * routes carry no Fastify schemas (see NO_ROUTE_SCHEMAS in app.ts), so nothing is generated from
 * them. Every answer has its full schema, and a test walks the document for any answer left as a
 * bare object, and checks real answers against it. The op envelope's schema is generated from the
 * same zod schema that validates ops, so the two cannot drift.
 */
import { z } from 'zod';
import { REFUSAL_HTTP_STATUS, UNAUTHENTICATED_REASONS, type RefusalCode } from '../domain/codes.js';
import { LIMITS, PATTERNS } from '../domain/limits.js';
import { envelopeSchema } from '../domain/schema.js';
import { VOUCHER_STATUSES } from '../domain/types.js';

/** The endpoint groups of `/docs`, in the order they are shown. */
export const OPENAPI_TAGS = ['ledger', 'ops', 'vouchers', 'parties', 'proofs', 'entries', 'operations'] as const;
type Tag = (typeof OPENAPI_TAGS)[number];

const TAG_DESCRIPTIONS: Record<Tag, string> = {
  ledger: 'The ledger’s facts from genesis and its signed checkpoint (public). 账本信息与签名检查点',
  ops: 'Submitting signed ops: issue, accept, split, transfer, pledge, release, settle, parties. 提交签名操作',
  vouchers: 'A voucher’s state, history, split tree and proof bundle, for a party that may see it. 凭证',
  parties: 'Registered parties, and a party’s vouchers. 参与方',
  proofs: 'RFC 9162 inclusion and consistency proofs (public). 证明',
  entries: 'The raw log, for the operator and auditors. 原始日志',
  operations: 'Health, readiness and Prometheus metrics, for whoever runs the service. 运维',
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const hex = (chars: number, description: string) => ({ type: 'string', pattern: `^[0-9a-f]{${chars}}$`, description });
const nullable = (schema: Record<string, unknown>) => ({ oneOf: [schema, { type: 'null' }] });
const amountMinor = { type: 'string', pattern: PATTERNS.amount.source, description: 'Minor units (fen), decimal digits: "100000000" is ¥1,000,000.00' };
const time = { type: 'string', format: 'date-time', description: 'RFC 3339 UTC with milliseconds' };
const seq = { type: 'integer', minimum: 0 };

const TOKEN_HOW_TO =
  'Reads other than the public ones need `Authorization: Bearer <token>`: a compact JWS signed with the party’s current ' +
  'Ed25519 key, protected header `{"alg":"EdDSA"}` (RFC 8037; no `crit`), claims `iss` (the party id), `aud` (this ledger’s ' +
  'id, `ledgerId` of GET /v1/ledger), and integer seconds `iat` and `exp` with `iat < exp ≤ iat + 3600`; `iat` may be at most ' +
  `${LIMITS.jwtIatFutureSkewSecondsMax} s ahead of the ledger’s clock. Make one with the CLI: \`rvl token --key FILE\` ` +
  '(or with `$RVL_KEY` set) prints a read token for that key, valid 10 minutes (`--ttl 30m` for longer, up to 1 h). ' +
  'Paste it into “Authorize” without the word Bearer. 读取需要令牌：`rvl token --key 密钥文件` 打印一个读取令牌。';

const schemas = {
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details. Clients branch on `code` (and, for a 401, on `reason`), never on `detail`.',
    required: ['type', 'title', 'status', 'code', 'detail'],
    properties: {
      type: { type: 'string', const: 'about:blank' },
      title: { type: 'string' },
      status: { type: 'integer' },
      code: { type: 'string', enum: [...Object.keys(REFUSAL_HTTP_STATUS), 'INTERNAL'] },
      detail: { type: 'string', description: 'For people; names only what the caller may see' },
      reason: {
        type: 'string',
        enum: [...UNAUTHENTICATED_REASONS],
        description: 'Only on a 401 UNAUTHENTICATED: why the token was refused',
      },
    },
  },
  Range: {
    type: 'object',
    required: ['start', 'end'],
    properties: { start: { type: 'string', pattern: '^(0|[1-9][0-9]{0,15})$' }, end: amountMinor },
  },
  Pledge: {
    type: 'object',
    required: ['bank', 'loanRef', 'since'],
    properties: { bank: { type: 'string' }, loanRef: { type: 'string' }, since: time },
  },
  Settlement: {
    type: 'object',
    required: ['payee', 'paymentRef', 'at'],
    properties: { payee: { type: 'string' }, paymentRef: { type: 'string' }, at: time },
  },
  Voucher: {
    type: 'object',
    description: 'A voucher’s state (docs/protocol.md §7).',
    required: [
      'id',
      'rootId',
      'parentId',
      'issuer',
      'holder',
      'offeredTo',
      'amount',
      'range',
      'currency',
      'dueDate',
      'invoiceIds',
      'status',
      'pledge',
      'settlement',
      'createdSeq',
      'updatedSeq',
    ],
    properties: {
      id: { type: 'string', pattern: PATTERNS.voucherId.source },
      rootId: { type: 'string' },
      parentId: { type: ['string', 'null'] },
      issuer: { type: 'string' },
      holder: { type: 'string', description: 'While offered: still the sender' },
      offeredTo: { type: ['string', 'null'] },
      amount: amountMinor,
      range: ref('Range'),
      currency: { type: 'string' },
      dueDate: { type: 'string', format: 'date' },
      invoiceIds: { type: 'array', items: { type: 'string' } },
      status: { type: 'string', enum: [...VOUCHER_STATUSES] },
      pledge: nullable(ref('Pledge')),
      settlement: nullable(ref('Settlement')),
      createdSeq: seq,
      updatedSeq: seq,
    },
  },
  Party: {
    type: 'object',
    required: ['id', 'name', 'role', 'publicKey', 'status'],
    properties: {
      id: { type: 'string', pattern: PATTERNS.partyId.source },
      name: { type: 'string' },
      role: { type: 'string', enum: ['operator', 'core', 'supplier', 'bank', 'auditor'] },
      publicKey: hex(64, 'The party’s current Ed25519 key'),
      status: { type: 'string', enum: ['active', 'suspended'] },
      creditCode: { type: 'string', description: '统一社会信用代码 (GB 32100-2015), when registered' },
    },
  },
  Receipt: {
    type: 'object',
    description: 'What an accepted op wrote: its entry, and every voucher and party record it changed, in its new state.',
    required: ['opId', 'seq', 'entryHash', 'time', 'treeSize', 'effects'],
    properties: {
      opId: hex(64, 'SHA-256 of the op preimage: the op’s identity and idempotency key'),
      seq,
      entryHash: hex(64, 'RFC 9162 leaf hash of the entry'),
      time,
      treeSize: { type: 'integer', minimum: 1, description: 'seq + 1' },
      effects: {
        type: 'object',
        required: ['vouchers', 'parties'],
        properties: { vouchers: { type: 'array', items: ref('Voucher') }, parties: { type: 'array', items: ref('Party') } },
      },
      duplicate: { type: 'boolean', const: true, description: 'Present (true) only on a replay of an op already on the ledger (HTTP 200)' },
    },
  },
  Ledger: {
    type: 'object',
    required: ['ledgerId', 'name', 'nodeKey', 'operatorKey', 'size', 'currency', 'maxTenorDays'],
    properties: {
      ledgerId: hex(64, 'The hash of entry 0; get it from the operator out of band, not only from here'),
      name: { type: 'string' },
      nodeKey: hex(64, 'Signs checkpoints'),
      operatorKey: hex(64, 'The operator’s key at genesis (its current key: GET /v1/parties/operator)'),
      size: { type: 'integer', minimum: 1 },
      currency: { type: 'string' },
      maxTenorDays: { type: 'integer' },
    },
  },
  Cluster: {
    type: 'object',
    description: 'docs/protocol.md §11.6. A single node names itself the leader.',
    required: ['leader', 'nodes'],
    properties: {
      leader: { type: ['string', 'null'], description: 'The leader’s URL; null during an election' },
      nodes: {
        type: 'array',
        items: {
          type: 'object',
          required: ['url', 'role', 'size'],
          properties: {
            url: { type: 'string' },
            role: { enum: ['leader', 'follower'] },
            size: { type: 'integer', minimum: 1, description: 'Entries applied' },
          },
        },
      },
    },
  },
  Entry: {
    type: 'object',
    description: 'One record of the log (docs/protocol.md §5). `op` is an Envelope; entry 0’s is `ledger.genesis`.',
    required: ['v', 'seq', 'time', 'prev', 'op'],
    properties: {
      v: { type: 'integer', const: 1 },
      seq,
      time,
      prev: hex(64, 'The previous entry’s hash (64 zeros for genesis)'),
      op: {
        type: 'object',
        required: ['payload', 'signatures'],
        properties: {
          payload: { type: 'object', required: ['type'], properties: { type: { type: 'string' } }, additionalProperties: true },
          signatures: {
            type: 'array',
            items: { type: 'object', required: ['signer', 'sig'], properties: { signer: { type: 'string' }, sig: hex(128, 'Ed25519 signature') } },
          },
        },
      },
    },
  },
  EntryWithHash: {
    type: 'object',
    required: ['entry', 'hash'],
    properties: { entry: ref('Entry'), hash: hex(64, 'The entry’s hash') },
  },
  EntriesPage: {
    type: 'object',
    required: ['entries', 'next'],
    properties: { entries: { type: 'array', items: ref('EntryWithHash') }, next: { type: ['integer', 'null'], description: 'The seq to ask for next' } },
  },
  History: {
    type: 'object',
    required: ['entries'],
    properties: { entries: { type: 'array', items: ref('EntryWithHash'), description: 'The voucher’s and its ancestors’ entries, in order' } },
  },
  TreeNode: {
    description: 'A voucher’s state and its children that the caller may see.',
    allOf: [ref('Voucher'), { type: 'object', required: ['children'], properties: { children: { type: 'array', items: ref('TreeNode') } } }],
  },
  Tree: { type: 'object', required: ['root'], properties: { root: ref('TreeNode') } },
  PartyPage: {
    type: 'object',
    required: ['items', 'next'],
    properties: { items: { type: 'array', items: ref('Party') }, next: { type: ['string', 'null'], description: 'Opaque cursor' } },
  },
  VoucherPage: {
    type: 'object',
    required: ['items', 'next'],
    properties: { items: { type: 'array', items: ref('Voucher') }, next: { type: ['string', 'null'], description: 'Opaque cursor' } },
  },
  InclusionProof: {
    type: 'object',
    required: ['seq', 'treeSize', 'entryHash', 'hashes'],
    properties: {
      seq,
      treeSize: { type: 'integer', minimum: 1 },
      entryHash: hex(64, 'The leaf hash'),
      hashes: { type: 'array', items: hex(64, 'RFC 9162 §2.1.3 path') },
    },
  },
  ConsistencyProof: {
    type: 'object',
    required: ['from', 'to', 'hashes'],
    properties: { from: seq, to: seq, hashes: { type: 'array', items: hex(64, 'RFC 9162 §2.1.4 proof') } },
  },
  ProofBundle: {
    type: 'object',
    description: 'Everything a bank needs to check a voucher trusting only the ledger id (docs/protocol.md §9).',
    required: ['ledger', 'checkpoint', 'voucherId', 'entries', 'state'],
    properties: {
      ledger: ref('Ledger'),
      checkpoint: { type: 'string', description: 'A C2SP signed note' },
      voucherId: { type: 'string' },
      entries: {
        type: 'array',
        items: {
          allOf: [
            ref('EntryWithHash'),
            { type: 'object', required: ['inclusion'], properties: { inclusion: { type: 'array', items: hex(64, 'Inclusion proof under the checkpoint') } } },
          ],
        },
      },
      state: ref('Voucher'),
    },
  },
  Health: { type: 'object', required: ['status'], properties: { status: { type: 'string', const: 'ok' } } },
  Readiness: {
    type: 'object',
    required: ['status', 'size', 'logCheck'],
    properties: {
      status: { type: 'string', const: 'ready' },
      size: { type: 'integer' },
      logCheck: {
        type: 'string',
        enum: ['none', 'running', 'passed', 'failed'],
        description: 'The background check of the whole stored log after a quick start',
      },
      stateCheck: {
        type: 'string',
        enum: ['none', 'running', 'passed', 'failed'],
        description: 'The check of the stored decision state against its seal; writes wait while it runs',
      },
    },
  },
};

const envelope = (): Record<string, unknown> => {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(envelopeSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, description: 'A signed op (docs/protocol.md §4): the payload, and one signature per required signer' };
};

const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
const text = (description: string, example?: string) => ({
  description,
  content: { 'text/plain': { schema: { type: 'string' }, ...(example === undefined ? {} : { example }) } },
});
const problems = (...codes: RefusalCode[]) =>
  Object.fromEntries(
    [...new Set(codes.map((c) => REFUSAL_HTTP_STATUS[c]))].map((status) => [
      String(status),
      {
        description: codes.filter((c) => REFUSAL_HTTP_STATUS[c] === status).join(', '),
        content: { 'application/problem+json': { schema: ref('Problem') } },
      },
    ]),
  );
const internal = {
  '500': { description: 'INTERNAL: a programmer error; nothing was written', content: { 'application/problem+json': { schema: ref('Problem') } } },
};
const query = (name: string, description: string, required = false) => ({ name, in: 'query', required, description, schema: { type: 'string' } });
const path = (name: string, description: string, pattern?: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string', ...(pattern === undefined ? {} : { pattern }) },
});
const auth = [{ bearer: [] }];
const publicErrors = problems('MALFORMED_REQUEST', 'RATE_LIMITED');
const readErrors = problems('MALFORMED_REQUEST', 'UNAUTHENTICATED', 'NOT_FOUND', 'RATE_LIMITED');
const voucherId = path('id', 'voucher id', PATTERNS.voucherId.source);
const partyId = path('id', 'party id', PATTERNS.partyId.source);

const CHECKPOINT_EXAMPLE = 'rvl/3f9c…\n42\nq1v0…=\n\n— rvl/3f9c… AbCd…=\n';

let cached: unknown;

export const openApiDocument = (): unknown => {
  cached ??= {
    openapi: '3.1.0',
    info: {
      title: 'Receivable Voucher Ledger 应收凭证账本',
      version: 'rvl/op/v1',
      description:
        'An append-only, hash-chained, signed ledger of supply-chain receivable vouchers. The wire contract is docs/protocol.md; ' +
        `request bodies are at most ${LIMITS.requestBodyBytesMax} bytes of I-JSON. Errors are RFC 9457 problems with a stable \`code\`.\n\n` +
        `**Authorize:** ${TOKEN_HOW_TO}`,
    },
    tags: OPENAPI_TAGS.map((name) => ({ name, description: TAG_DESCRIPTIONS[name] })),
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (EdDSA, RFC 8037)', description: TOKEN_HOW_TO },
      },
      schemas: { ...schemas, Envelope: envelope() },
    },
    paths: {
      '/v1/ops': {
        post: {
          tags: ['ops'],
          summary: 'Submit a signed op',
          requestBody: { required: true, content: { 'application/json': { schema: ref('Envelope') } } },
          responses: {
            '201': json(ref('Receipt'), 'Accepted and durable: the receipt'),
            '200': json(
              { allOf: [ref('Receipt'), { type: 'object', required: ['duplicate'], properties: { duplicate: { const: true } } }] },
              'The original receipt of an op already on the ledger, with "duplicate": true',
            ),
            ...problems(...(Object.keys(REFUSAL_HTTP_STATUS) as RefusalCode[]).filter((c) => c !== 'UNAUTHENTICATED' && c !== 'NOT_FOUND')),
            ...internal,
          },
        },
      },
      '/v1/ledger': {
        get: { tags: ['ledger'], summary: 'Ledger facts from genesis, and its size', responses: { '200': json(ref('Ledger'), 'The ledger'), ...publicErrors } },
      },
      '/v1/cluster': {
        get: {
          tags: ['ledger'],
          summary: 'Which node leads the cluster, and what each node has applied',
          responses: { '200': json(ref('Cluster'), 'The cluster'), ...publicErrors },
        },
      },
      '/v1/checkpoint': {
        get: {
          tags: ['ledger'],
          summary: 'The latest signed checkpoint (C2SP signed note)',
          responses: { '200': text('The checkpoint: origin, tree size, base64 root hash, a blank line, signature lines', CHECKPOINT_EXAMPLE), ...publicErrors },
        },
      },
      '/v1/proofs/inclusion': {
        get: {
          tags: ['proofs'],
          summary: 'RFC 9162 inclusion proof',
          parameters: [query('seq', 'leaf index', true), query('size', 'tree size (default: current)')],
          responses: { '200': json(ref('InclusionProof'), 'The proof'), ...problems('MALFORMED_REQUEST', 'NOT_FOUND', 'RATE_LIMITED') },
        },
      },
      '/v1/proofs/consistency': {
        get: {
          tags: ['proofs'],
          summary: 'RFC 9162 consistency proof',
          parameters: [query('from', 'older size', true), query('to', 'newer size (default: current)')],
          responses: { '200': json(ref('ConsistencyProof'), 'The proof'), ...problems('MALFORMED_REQUEST', 'NOT_FOUND', 'RATE_LIMITED') },
        },
      },
      '/v1/entries': {
        get: {
          tags: ['entries'],
          summary: 'Raw log entries (operator, auditor)',
          security: auth,
          parameters: [query('from', 'first seq (default 0)'), query('limit', `1–${LIMITS.pageLimitMax}, default ${LIMITS.pageLimitDefault}`)],
          responses: { '200': json(ref('EntriesPage'), 'A page of entries with their hashes'), ...readErrors },
        },
      },
      '/v1/entries/{seq}': {
        get: {
          tags: ['entries'],
          summary: 'One entry (operator, auditor)',
          security: auth,
          parameters: [path('seq', 'sequence number', '^(0|[1-9][0-9]{0,15})$')],
          responses: { '200': json(ref('EntryWithHash'), 'The entry and its hash'), ...readErrors },
        },
      },
      '/v1/parties': {
        get: {
          tags: ['parties'],
          summary: 'Parties, ordered by id',
          security: auth,
          parameters: [query('cursor', 'from a previous page'), query('limit', 'page size')],
          responses: { '200': json(ref('PartyPage'), 'A page of parties'), ...readErrors },
        },
      },
      '/v1/parties/{id}': {
        get: {
          tags: ['parties'],
          summary: 'One party',
          security: auth,
          parameters: [partyId],
          responses: { '200': json(ref('Party'), 'The party'), ...readErrors },
        },
      },
      '/v1/parties/{id}/vouchers': {
        get: {
          tags: ['parties'],
          summary: "A party's vouchers (that party, operator, auditor)",
          security: auth,
          parameters: [partyId, query('status', 'one status or a comma list'), query('cursor', 'from a previous page'), query('limit', 'page size')],
          responses: { '200': json(ref('VoucherPage'), 'A page of vouchers'), ...readErrors },
        },
      },
      '/v1/vouchers/{id}': {
        get: {
          tags: ['vouchers'],
          summary: 'A voucher',
          security: auth,
          parameters: [voucherId],
          responses: { '200': json(ref('Voucher'), 'The voucher’s state'), ...readErrors },
        },
      },
      '/v1/vouchers/{id}/history': {
        get: {
          tags: ['vouchers'],
          summary: 'Entries that touched the voucher or its ancestors',
          security: auth,
          parameters: [voucherId],
          responses: { '200': json(ref('History'), 'The history'), ...readErrors },
        },
      },
      '/v1/vouchers/{id}/tree': {
        get: {
          tags: ['vouchers'],
          summary: "The root's split tree, cut to what the caller may see",
          security: auth,
          parameters: [voucherId],
          responses: { '200': json(ref('Tree'), 'The tree'), ...readErrors },
        },
      },
      '/v1/vouchers/{id}/proof': {
        get: {
          tags: ['vouchers'],
          summary: 'A proof bundle (docs/protocol.md §9)',
          security: auth,
          parameters: [voucherId],
          responses: { '200': json(ref('ProofBundle'), 'The bundle'), ...readErrors },
        },
      },
      '/healthz': {
        get: { tags: ['operations'], summary: 'Liveness: the process answers', responses: { '200': json(ref('Health'), 'Alive') } },
      },
      '/readyz': {
        get: {
          tags: ['operations'],
          summary: 'Readiness: the ledger can take writes',
          responses: { '200': json(ref('Readiness'), 'Ready'), ...problems('LEDGER_UNAVAILABLE') },
        },
      },
      '/metrics': {
        get: {
          tags: ['operations'],
          summary: 'Prometheus metrics (operator, auditor; a scraper without a token reads METRICS_PORT instead)',
          security: auth,
          responses: { '200': text('Prometheus text exposition format 0.0.4'), ...readErrors },
        },
      },
    },
  };
  return cached;
};
