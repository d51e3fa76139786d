/**
 * The OpenAPI document (`/openapi.json`, rendered at `/docs`) is complete and true:
 * - every answer of every endpoint has a schema, and no schema anywhere is a bare object without
 *   properties (the 201 receipt once was `{"type":"object"}`);
 * - every endpoint is in one of the named groups (tags), none in "default";
 * - every path is a route of the app;
 * - it says how to make the EdDSA token that "Authorize" needs (`rvl token`, and the claims);
 * - real answers of the real app (real LevelDB) validate against it (Ajv, JSON Schema 2020-12).
 */
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENAPI_TAGS } from '../../src/api/openapi.js';
import { Harness, key } from '../support/harness.js';

type Json = Record<string, unknown>;
interface Doc {
  info: { description: string };
  tags: { name: string }[];
  components: { schemas: Record<string, Json>; securitySchemes: Record<string, { description?: string }> };
  paths: Record<string, Record<string, { tags?: string[]; responses: Record<string, { content?: Record<string, { schema?: Json }> }> }>>;
}

const METHODS = ['get', 'post', 'put', 'delete', 'patch'];

// CommonJS modules: their `default` export is the class and the plugin.
const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule.default;

/** Every schema object below `node` (through properties, items, allOf/oneOf/anyOf, …), with where. */
const walkSchemas = (node: unknown, where: string, visit: (schema: Json, where: string) => void): void => {
  if (Array.isArray(node)) {
    node.forEach((n, i) => walkSchemas(n, `${where}[${i}]`, visit));
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const schema = node as Json;
  visit(schema, where);
  for (const k of ['items', 'additionalProperties', 'not', 'prefixItems']) if (k in schema) walkSchemas(schema[k], `${where}.${k}`, visit);
  for (const k of ['allOf', 'oneOf', 'anyOf']) if (k in schema) walkSchemas(schema[k], `${where}.${k}`, visit);
  for (const k of ['properties', '$defs', 'definitions', 'patternProperties']) {
    const map = schema[k];
    if (typeof map === 'object' && map !== null) for (const [name, s] of Object.entries(map)) walkSchemas(s, `${where}.${k}.${name}`, visit);
  }
};

/** An object schema that says nothing about its members. */
const isBareObject = (s: Json): boolean => {
  const types = Array.isArray(s.type) ? s.type : [s.type];
  if (!types.includes('object')) return false;
  return !['properties', 'additionalProperties', 'patternProperties', 'allOf', 'oneOf', 'anyOf', '$ref'].some((k) => k in s);
};

describe('the OpenAPI document', () => {
  let h: Harness;
  let doc: Doc;
  const core = key('gz-motors', 'core');
  const s1 = key('dongguan-parts', 'supplier');
  const bank = key('icbc-gz', 'bank');
  const auditor = key('csrc-audit', 'auditor');

  beforeAll(async () => {
    h = await Harness.start();
    for (const k of [core, s1, bank, auditor]) await h.register(k);
    const res = await h.get('/openapi.json');
    expect(res.statusCode).toBe(200);
    doc = res.json() as Doc;
  });
  afterAll(async () => {
    await h.close();
  });

  const operations = (): { path: string; method: string; op: Doc['paths'][string][string] }[] =>
    Object.entries(doc.paths).flatMap(([path, item]) => METHODS.filter((m) => m in item).map((method) => ({ path, method, op: item[method]! })));

  it('no schema, in any answer or component, is a bare object without properties', () => {
    const bare: string[] = [];
    const visit = (s: Json, where: string) => {
      if (isBareObject(s)) bare.push(where);
    };
    for (const [name, s] of Object.entries(doc.components.schemas)) walkSchemas(s, `components.schemas.${name}`, visit);
    for (const { path, method, op } of operations()) {
      for (const [status, answer] of Object.entries(op.responses)) {
        expect(answer.content, `${method} ${path} ${status} has no content`).toBeDefined();
        for (const [type, media] of Object.entries(answer.content ?? {})) {
          expect(media.schema, `${method} ${path} ${status} ${type} has no schema`).toBeDefined();
          walkSchemas(media.schema, `${method} ${path} ${status} ${type}`, visit);
        }
      }
    }
    expect(bare).toEqual([]);
  });

  it('every endpoint is in exactly one named group, every group is used, none is "default"', () => {
    expect(doc.tags.map((t) => t.name)).toEqual([...OPENAPI_TAGS]);
    for (const { path, method, op } of operations()) {
      expect(op.tags, `${method} ${path}`).toHaveLength(1);
      expect(OPENAPI_TAGS as readonly string[], `${method} ${path}`).toContain(op.tags?.[0]);
    }
    const used = new Set(operations().map((o) => o.op.tags?.[0]));
    expect([...used].sort()).toEqual([...OPENAPI_TAGS].sort());
  });

  it('every documented path is a route of the app', () => {
    for (const { path, method } of operations()) {
      const url = path.replace(/\{(\w+)\}/g, ':$1');
      expect(h.app.hasRoute({ method: method.toUpperCase() as 'GET', url }), `${method} ${path}`).toBe(true);
    }
  });

  it('says how to make the token "Authorize" needs: `rvl token`, EdDSA, and the claims', () => {
    for (const text of [doc.components.securitySchemes.bearer?.description ?? '', doc.info.description]) {
      for (const needed of ['rvl token', 'EdDSA', '`iss`', '`aud`', '`iat`', '`exp`', 'iat + 3600', 'ledgerId']) expect(text).toContain(needed);
    }
  });

  describe('real answers validate against it', () => {
    let ajv: InstanceType<typeof Ajv2020>;
    const schemaAt = (path: string, method: string, status: string, type: string): string =>
      `rvl:openapi#/paths/${path.replaceAll('~', '~0').replaceAll('/', '~1')}/${method}/responses/${status}/content/${type.replaceAll('/', '~1')}/schema`;
    const conforms = (res: LightMyRequestResponse, path: string, method = 'get'): void => {
      const type = String(res.headers['content-type']).split(';')[0] ?? '';
      const validate = ajv.getSchema(schemaAt(path, method, String(res.statusCode), type));
      expect(validate, `${method} ${path} ${res.statusCode} ${type} is not documented`).toBeDefined();
      const body = type.startsWith('text/') ? res.body : res.json();
      const ok = validate!(body);
      expect(ok ? [] : validate!.errors, `${method} ${path} ${res.statusCode}: ${res.body.slice(0, 300)}`).toEqual([]);
    };

    beforeAll(() => {
      ajv = new Ajv2020({ strict: false, allErrors: true });
      addFormats(ajv);
      ajv.addSchema({ ...doc, $id: 'rvl:openapi' });
    });

    it('ops: 201 receipt, 200 duplicate, problems (409, 400)', async () => {
      const env = h.envelope(
        {
          type: 'voucher.issue',
          issuer: core.id,
          to: s1.id,
          amount: '40000000',
          currency: 'CNY',
          dueDate: new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10),
          invoiceIds: ['INV-OA'],
        },
        [core],
      );
      const first = await h.post(env);
      expect(first.statusCode).toBe(201);
      conforms(first, '/v1/ops', 'post');
      conforms(await h.post(env), '/v1/ops', 'post');
      const again = await h.submit({ ...env.payload, nonce: 'another-nonce' }, [core]);
      expect(again.statusCode).toBe(409);
      conforms(again, '/v1/ops', 'post');
      conforms(await h.post({}), '/v1/ops', 'post');
    });

    it('reads: every endpoint, as a party that may make it', async () => {
      const id = await h.issueAccepted(core, s1, '5000000');
      await h.ok({ type: 'voucher.pledge', voucherId: id, bank: bank.id, loanRef: 'L-1', amount: '2000000' }, [s1, bank]);
      const child = `${id}:0-2000000`;
      conforms(await h.get('/v1/ledger'), '/v1/ledger');
      conforms(await h.get('/v1/checkpoint'), '/v1/checkpoint');
      conforms(await h.get('/v1/proofs/inclusion?seq=1'), '/v1/proofs/inclusion');
      conforms(await h.get('/v1/proofs/consistency?from=1'), '/v1/proofs/consistency');
      conforms(await h.get('/v1/entries?limit=3', auditor), '/v1/entries');
      conforms(await h.get('/v1/entries/0', auditor), '/v1/entries/{seq}');
      conforms(await h.get('/v1/parties', s1), '/v1/parties');
      conforms(await h.get(`/v1/parties/${bank.id}`, s1), '/v1/parties/{id}');
      conforms(await h.get(`/v1/parties/${s1.id}/vouchers`, s1), '/v1/parties/{id}/vouchers');
      conforms(await h.get(`/v1/vouchers/${child}`, bank), '/v1/vouchers/{id}');
      conforms(await h.get(`/v1/vouchers/${child}/history`, bank), '/v1/vouchers/{id}/history');
      conforms(await h.get(`/v1/vouchers/${id}/tree`, s1), '/v1/vouchers/{id}/tree');
      conforms(await h.get(`/v1/vouchers/${child}/proof`, bank), '/v1/vouchers/{id}/proof');
      conforms(await h.get('/healthz'), '/healthz');
      conforms(await h.get('/readyz'), '/readyz');
      conforms(await h.get('/metrics', auditor), '/metrics');
      conforms(await h.get('/metrics'), '/metrics');
      conforms(await h.get('/metrics', s1), '/metrics');
    });

    it('problems of reads: 401 with its reason, 404, 400', async () => {
      conforms(await h.get(`/v1/parties/${s1.id}`), '/v1/parties/{id}');
      conforms(await h.get(`/v1/parties/${bank.id}/vouchers`, s1), '/v1/parties/{id}/vouchers');
      conforms(await h.get('/v1/proofs/inclusion?seq=x'), '/v1/proofs/inclusion');
    });
  });
});
