/**
 * Every refusal of docs/protocol.md §7 reached over HTTP through `POST /v1/ops` (app.inject, real
 * LevelDB): status, code, `application/problem+json` and the RFC 9457 body, and an unchanged
 * ledger size after each. Then duplicates (§4), refusals that consume nothing, ledger time
 * (OP_EXPIRED, VOUCHER_OVERDUE, DUE_DATE_INVALID at their boundaries), RATE_LIMITED and
 * LEDGER_UNAVAILABLE.
 */
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays } from '../../src/domain/decide.js';
import { ED25519_L, sign } from '../../src/ledger/ed25519.js';
import { opPreimage } from '../../src/ledger/op.js';
import { Harness, dueIn, key, type Key } from '../support/harness.js';
import { expectProblem, expectRefusal, gate, issuePayload, ledgerSize, postRaw, REFUSAL_CAST, wrapStore } from './helpers.js';

type Envelope = { payload: Record<string, unknown>; signatures: { signer: string; sig: string }[] };

const { core, core2, s1, s2, s3, bank, bank2 } = REFUSAL_CAST;
const auditor = key('csrc-audit', 'auditor');
const idle = key('idle-parts', 'supplier'); // suspended in beforeAll
const frozen = key('frozen-bank', 'bank'); // suspended in beforeAll
const oldCore = key('old-motors', 'core'); // suspended in beforeAll
const rotor = key('rotor-parts', 'supplier'); // its key is rotated away in beforeAll
const rotorNext = key('rotor-parts', 'supplier', '-next');
const ghost = key('ghost-co', 'supplier'); // never registered
const stranger = key('dongguan-parts', 'supplier', '-forged'); // s1's id, another key

/** RFC 8032 §5.1.7: S + L verifies under a lax verifier; strict verification must refuse it. */
const nonCanonicalS = (sigHex: string): string => {
  let s = 0n;
  for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(Number.parseInt(sigHex.slice(64 + 2 * i, 66 + 2 * i), 16));
  s += ED25519_L;
  let out = '';
  for (let i = 0; i < 32; i++) {
    out += Number(s & 0xffn)
      .toString(16)
      .padStart(2, '0');
    s >>= 8n;
  }
  return sigHex.slice(0, 64) + out;
};

const flipFirstBit = (hex: string): string => (Number.parseInt(hex.slice(0, 1), 16) ^ 1).toString(16) + hex.slice(1);

describe('POST /v1/ops refusals (§7 table, over HTTP)', () => {
  let h: Harness;
  /** Active, held by s1, backed by INV-A. */
  let A: string;
  /** Offered by core to s1. */
  let O: string;
  /** Pledged (whole) by s2 to bank. */
  let P: string;
  /** Settled, paid to s1. */
  let S: string;
  /** Cancelled: s1 rejected it. */
  let C: string;
  /** Active, held by bank (factoring). */
  let B: string;

  const env = (payload: Record<string, unknown>, signers: readonly Key[]): Envelope => h.envelope(payload, signers);
  const issue = (extra: Record<string, unknown> = {}): Record<string, unknown> => issuePayload(core, s1, { invoiceIds: [`INV-${h.nonce()}`], ...extra });
  /** The JSON text of a valid envelope (signed by core), for byte-level edits. */
  const validText = (extra: Record<string, unknown> = {}): string => JSON.stringify(env(issue(extra), [core]));

  beforeAll(async () => {
    h = await Harness.start();
    for (const k of [core, core2, s1, s2, s3, bank, bank2, auditor, idle, frozen, oldCore, rotor]) await h.register(k);
    for (const k of [idle, frozen, oldCore]) await h.ok({ type: 'party.update', partyId: k.id, status: 'suspended' }, [h.operator]);
    await h.ok({ type: 'party.update', partyId: rotor.id, publicKey: rotorNext.publicKey }, [h.operator]);

    A = await h.issueAccepted(core, s1, '100000', ['INV-A']);
    O = (await h.ok(issue(), [core])).effects.vouchers[0]?.id ?? '';
    P = await h.issueAccepted(core, s2, '5000');
    await h.ok({ type: 'voucher.pledge', voucherId: P, bank: bank.id, loanRef: 'LOAN-P' }, [s2, bank]);
    S = await h.issueAccepted(core, s1, '3000');
    await h.ok({ type: 'voucher.settle', voucherId: S, paymentRef: 'PAY-S' }, [core]);
    C = (await h.ok(issue(), [core])).effects.vouchers[0]?.id ?? '';
    await h.ok({ type: 'voucher.reject', voucherId: C }, [s1]);
    B = await h.issueAccepted(core, s1, '7000');
    await h.ok({ type: 'voucher.transfer', voucherId: B, to: bank.id }, [s1]);
    await h.ok({ type: 'voucher.accept', voucherId: B }, [bank]);
  });
  afterAll(async () => {
    await h.close();
  });

  describe('PAYLOAD_TOO_LARGE (413)', () => {
    it('a body one byte over 64 KiB, even when it is otherwise a valid signed envelope', async () => {
      const text = validText();
      const padded = text + ' '.repeat(64 * 1024 + 1 - Buffer.byteLength(text));
      expect(Buffer.byteLength(padded)).toBe(64 * 1024 + 1);
      await expectRefusal(h, () => postRaw(h, padded), 413, 'PAYLOAD_TOO_LARGE');
    });

    it('a large body with the wrong content type: size comes first', async () => {
      await expectRefusal(h, () => postRaw(h, 'x'.repeat(100_000), 'text/plain'), 413, 'PAYLOAD_TOO_LARGE');
    });

    it('exactly 64 KiB is within the limit and is accepted', async () => {
      const text = validText();
      const padded = text + ' '.repeat(64 * 1024 - Buffer.byteLength(text));
      expect(Buffer.byteLength(padded)).toBe(64 * 1024);
      const res = await postRaw(h, padded);
      expect(res.statusCode, res.body).toBe(201);
    });
  });

  describe('MALFORMED_REQUEST (400): not I-JSON', () => {
    const rows: [string, () => { body: string | Buffer; contentType?: string | null }][] = [
      ['not JSON at all', () => ({ body: 'this is not json' })],
      ['an empty body', () => ({ body: '' })],
      ['trailing garbage after the envelope', () => ({ body: `${validText()}x` })],
      ['a duplicate key (same value) inside the payload', () => ({ body: validText().replace('"payload":{', '"payload":{"type":"voucher.issue",') })],
      ['a duplicate top-level key', () => ({ body: validText().replace(/}$/, ',"signatures":[]}') })],
      ['a UTF-8 byte order mark before a valid envelope', () => ({ body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(validText())]) })],
      [
        'invalid UTF-8 bytes inside a string',
        () => {
          const [before = '', after = ''] = validText({ memo: 'MEMO-HERE' }).split('MEMO-HERE');
          return { body: Buffer.concat([Buffer.from(before), Buffer.from([0xc3, 0x28]), Buffer.from(after)]) };
        },
      ],
      ['a lone surrogate written as an escape', () => ({ body: validText({ memo: 'LONE' }).replace('"LONE"', '"\\ud800"') })],
      ['a lone low surrogate escape in a key', () => ({ body: validText().replace('"payload":{', '"payload":{"\\udc00":1,') })],
      ['a number beyond 2^53', () => ({ body: validText().replace('"payload":{', '"payload":{"x":9007199254740993,') })],
    ];
    it.each(rows)('%s', async (_name, make) => {
      const { body, contentType } = make();
      await expectRefusal(h, () => postRaw(h, body, contentType === undefined ? 'application/json' : contentType), 400, 'MALFORMED_REQUEST');
    });
  });

  describe('MALFORMED_REQUEST (400): transport', () => {
    const rows: [string, () => Promise<LightMyRequestResponse>][] = [
      ['a valid envelope sent as text/plain', () => postRaw(h, validText(), 'text/plain')],
      ['a valid envelope sent as application/x-www-form-urlencoded', () => postRaw(h, validText(), 'application/x-www-form-urlencoded')],
      ['a valid envelope with no content type', () => postRaw(h, validText(), null)],
      ['no body at all', () => h.app.inject({ method: 'POST', url: '/v1/ops' })],
      ['a query string on POST /v1/ops', () => postRaw(h, validText(), 'application/json', '/v1/ops?dryRun=1')],
    ];
    it.each(rows)('%s', async (_name, send) => {
      await expectRefusal(h, send, 400, 'MALFORMED_REQUEST');
    });
  });

  describe('MALFORMED_REQUEST (400): not the shape of §2/§4/§7', () => {
    const rows: [string, () => unknown][] = [
      ['a JSON array', () => [env(issue(), [core])]],
      ['JSON null', () => null],
      ['an empty object', () => ({})],
      ['an unknown field in the payload (signed)', () => env(issue({ priority: 'high' }), [core])],
      ['an unknown field in the envelope', () => ({ ...env(issue(), [core]), meta: {} })],
      [
        'an unknown field in a signature',
        () => {
          const e = env(issue(), [core]);
          return { ...e, signatures: e.signatures.map((s) => ({ ...s, alg: 'ed25519' })) };
        },
      ],
      [
        'a missing required field (dueDate)',
        () => {
          const { dueDate: _drop, ...rest } = issue();
          return env(rest, [core]);
        },
      ],
      [
        'a missing nonce',
        () => {
          const e = env(issue(), [core]);
          const { nonce: _drop, ...payload } = e.payload;
          return { ...e, payload };
        },
      ],
      ['an unknown op type', () => env({ type: 'voucher.burn', voucherId: A }, [s1])],
      [
        'a submitted ledger.genesis, unsigned',
        () => ({
          payload: {
            type: 'ledger.genesis',
            name: 'x',
            operatorKey: core.publicKey,
            nodeKey: s1.publicKey,
            currency: 'CNY',
            maxTenorDays: 365,
            createdAt: '2026-01-01T00:00:00.000Z',
          },
          signatures: [],
        }),
      ],
      [
        'a submitted ledger.genesis, signed by the operator',
        () => {
          const payload = {
            type: 'ledger.genesis',
            name: 'x',
            operatorKey: core.publicKey,
            nodeKey: s1.publicKey,
            currency: 'CNY',
            maxTenorDays: 365,
            createdAt: '2026-01-01T00:00:00.000Z',
          };
          return { payload, signatures: [{ signer: 'operator', sig: sign(h.operator.seed, opPreimage(payload)) }] };
        },
      ],
      ['three signatures (all valid)', () => env({ type: 'voucher.transfer', voucherId: A, to: s2.id }, [s1, core, s2])],
      ['no signatures', () => ({ ...env(issue(), [core]), signatures: [] })],
      ['signatures not an array', () => ({ ...env(issue(), [core]), signatures: { signer: core.id } })],
      [
        'a signature that is not 128 lowercase hex chars',
        () => {
          const e = env(issue(), [core]);
          return { ...e, signatures: e.signatures.map((s) => ({ ...s, sig: s.sig.toUpperCase() })) };
        },
      ],
      ['a voucher id that is too short', () => env({ type: 'voucher.accept', voucherId: 'v123' }, [s1])],
      ['a voucher id in uppercase hex', () => env({ type: 'voucher.accept', voucherId: A.toUpperCase() }, [s1])],
      ['a voucher id with a leading zero in its range', () => env({ type: 'voucher.accept', voucherId: `${A}:01-5` }, [s1])],
      ['a voucher id whose range ends at 0', () => env({ type: 'voucher.accept', voucherId: `${A}:0-0` }, [s1])],
      ['a voucher id with 17-digit bounds', () => env({ type: 'voucher.accept', voucherId: `${A}:0-12345678901234567` }, [s1])],
      ['an amount as a JSON number', () => env(issue({ amount: 1000 }), [core])],
      ['an amount of zero', () => env(issue({ amount: '0' }), [core])],
      ['an amount with a leading zero', () => env(issue({ amount: '0100' }), [core])],
      ['an amount with a decimal point', () => env(issue({ amount: '10.50' }), [core])],
      ['an amount above 10^15', () => env(issue({ amount: '1000000000000001' }), [core])],
      ['a due date that is not a calendar date', () => env(issue({ dueDate: '2027-02-30' }), [core])],
      ['expiresAt without milliseconds', () => env(issue({ expiresAt: '2027-01-01T00:00:00Z' }), [core])],
      ['a nonce that is too short', () => env(issue({ nonce: 'short' }), [core])],
      ['a nonce with a forbidden character', () => env(issue({ nonce: 'nonce.with.dots' }), [core])],
      ['duplicate invoice ids', () => env(issue({ invoiceIds: ['INV-X', 'INV-X'] }), [core])],
      ['no invoice ids', () => env(issue({ invoiceIds: [] }), [core])],
      ['101 invoice ids', () => env(issue({ invoiceIds: Array.from({ length: 101 }, (_, i) => `INV-M-${i}`) }), [core])],
      ['an invoice id of 65 code points', () => env(issue({ invoiceIds: ['é'.repeat(65)] }), [core])],
      ['a memo of 501 code points', () => env(issue({ memo: 'x'.repeat(501) }), [core])],
      ['a split into one part', () => env({ type: 'voucher.split', voucherId: A, amounts: ['100000'] }, [s1])],
      ['a split into 101 parts', () => env({ type: 'voucher.split', voucherId: A, amounts: Array.from({ length: 101 }, () => '1') }, [s1])],
      ['an empty loanRef', () => env({ type: 'voucher.pledge', voucherId: A, bank: bank.id, loanRef: '' }, [s1, bank])],
      ['a party id with an uppercase letter', () => env({ type: 'voucher.transfer', voucherId: A, to: 'Chen-Electronics' }, [s1])],
      [
        'a party name of 201 code points',
        () =>
          env(
            { type: 'party.register', party: { id: 'long-name', name: 'n'.repeat(201), role: 'supplier', publicKey: key('long-name', 'supplier').publicKey } },
            [h.operator],
          ),
      ],
      [
        'registering the operator role',
        () =>
          env({ type: 'party.register', party: { id: 'op-two', name: 'x', role: 'operator', publicKey: key('op-two', 'supplier').publicKey } }, [h.operator]),
      ],
      [
        'a small-order public key (the identity point)',
        () => env({ type: 'party.register', party: { id: 'weak-key', name: 'x', role: 'supplier', publicKey: `01${'00'.repeat(31)}` } }, [h.operator]),
      ],
      [
        'a non-canonically encoded public key (y = p)',
        () => env({ type: 'party.register', party: { id: 'weak-key', name: 'x', role: 'supplier', publicKey: `ed${'ff'.repeat(30)}7f` } }, [h.operator]),
      ],
      ['a key rotation to a small-order key', () => env({ type: 'party.update', partyId: s3.id, publicKey: `01${'00'.repeat(31)}` }, [h.operator])],
      ['a party.update with neither publicKey nor status', () => env({ type: 'party.update', partyId: s3.id }, [h.operator])],
      ['a wrong ledger id that is not a hash: shape comes before WRONG_LEDGER', () => env(issue({ ledger: 'not-a-ledger' }), [core])],
      ['a wrong ledger and an unknown field: MALFORMED_REQUEST comes first', () => env(issue({ ledger: 'f'.repeat(64), extra: 1 }), [core])],
    ];
    it.each(rows)('%s', async (_name, make) => {
      await expectRefusal(h, () => h.post(make()), 400, 'MALFORMED_REQUEST');
    });
  });

  describe('the op-level rows, in table order', () => {
    const rows: [string, () => unknown, number, string][] = [
      ['WRONG_LEDGER: a signed op for another ledger', () => env(issue({ ledger: 'f'.repeat(64) }), [core]), 422, 'WRONG_LEDGER'],
      [
        'WRONG_LEDGER comes before OP_EXPIRED',
        () => env(issue({ ledger: 'f'.repeat(64), expiresAt: '2020-01-01T00:00:00.000Z' }), [core]),
        422,
        'WRONG_LEDGER',
      ],
      ['OP_EXPIRED: expiresAt in the past', () => env(issue({ expiresAt: '2020-01-01T00:00:00.000Z' }), [core]), 422, 'OP_EXPIRED'],
      ['OP_EXPIRED comes before UNKNOWN_PARTY', () => env(issue({ to: ghost.id, expiresAt: '2020-01-01T00:00:00.000Z' }), [core]), 422, 'OP_EXPIRED'],
      ['UNKNOWN_PARTY: an unregistered signer', () => env(issue({ issuer: ghost.id }), [ghost]), 422, 'UNKNOWN_PARTY'],
      ['UNKNOWN_PARTY: an unregistered `to` of an issue', () => env(issue({ to: ghost.id }), [core]), 422, 'UNKNOWN_PARTY'],
      ['UNKNOWN_PARTY: an unregistered `to` of a transfer', () => env({ type: 'voucher.transfer', voucherId: A, to: ghost.id }, [s1]), 422, 'UNKNOWN_PARTY'],
      [
        'UNKNOWN_PARTY: an unregistered `bank` of a pledge',
        () => env({ type: 'voucher.pledge', voucherId: A, bank: 'ghost-bank', loanRef: 'L' }, [s1]),
        422,
        'UNKNOWN_PARTY',
      ],
      [
        'UNKNOWN_PARTY: an unregistered `partyId` of an update',
        () => env({ type: 'party.update', partyId: ghost.id, status: 'suspended' }, [h.operator]),
        422,
        'UNKNOWN_PARTY',
      ],
      ['UNKNOWN_PARTY comes before BAD_SIGNATURE', () => env(issue({ to: ghost.id }), [{ ...stranger, id: core.id }]), 422, 'UNKNOWN_PARTY'],
      ['BAD_SIGNATURE: signed with another key', () => env({ type: 'voucher.split', voucherId: A, amounts: ['1', '99999'] }, [stranger]), 401, 'BAD_SIGNATURE'],
      [
        'BAD_SIGNATURE: a signature over another payload',
        () => {
          const e = env(issue(), [core]);
          const other = env(issue(), [core]);
          return { ...e, signatures: other.signatures };
        },
        401,
        'BAD_SIGNATURE',
      ],
      [
        'BAD_SIGNATURE: one flipped bit',
        () => {
          const e = env(issue(), [core]);
          return { ...e, signatures: e.signatures.map((s) => ({ ...s, sig: flipFirstBit(s.sig) })) };
        },
        401,
        'BAD_SIGNATURE',
      ],
      [
        'BAD_SIGNATURE: a non-canonical S (strict verification)',
        () => {
          const e = env(issue(), [core]);
          return { ...e, signatures: e.signatures.map((s) => ({ ...s, sig: nonCanonicalS(s.sig) })) };
        },
        401,
        'BAD_SIGNATURE',
      ],
      [
        'BAD_SIGNATURE: the bank co-signature of a pledge is bad',
        () => {
          const e = env({ type: 'voucher.pledge', voucherId: A, bank: bank.id, loanRef: 'L' }, [s1, bank]);
          return { ...e, signatures: e.signatures.map((s) => (s.signer === bank.id ? { ...s, sig: flipFirstBit(s.sig) } : s)) };
        },
        401,
        'BAD_SIGNATURE',
      ],
      ['BAD_SIGNATURE: signed with a key rotated away', () => env({ type: 'voucher.accept', voucherId: O }, [rotor]), 401, 'BAD_SIGNATURE'],
      ['BAD_SIGNATURE comes before PARTY_SUSPENDED', () => env(issue({ issuer: oldCore.id }), [{ ...core, id: oldCore.id }]), 401, 'BAD_SIGNATURE'],
      ['PARTY_SUSPENDED: a suspended signer (issuer)', () => env(issue({ issuer: oldCore.id }), [oldCore]), 403, 'PARTY_SUSPENDED'],
      ['PARTY_SUSPENDED: a suspended `to` of an issue', () => env(issue({ to: idle.id }), [core]), 403, 'PARTY_SUSPENDED'],
      ['PARTY_SUSPENDED: a suspended `to` of a transfer', () => env({ type: 'voucher.transfer', voucherId: A, to: idle.id }, [s1]), 403, 'PARTY_SUSPENDED'],
      [
        'PARTY_SUSPENDED: a suspended bank co-signing a pledge',
        () => env({ type: 'voucher.pledge', voucherId: A, bank: frozen.id, loanRef: 'L' }, [s1, frozen]),
        403,
        'PARTY_SUSPENDED',
      ],
      [
        'PARTY_SUSPENDED comes before VOUCHER_NOT_FOUND',
        () => env({ type: 'voucher.transfer', voucherId: `v${'0'.repeat(24)}`, to: idle.id }, [s1]),
        403,
        'PARTY_SUSPENDED',
      ],
      [
        'VOUCHER_NOT_FOUND: no such voucher',
        () => env({ type: 'voucher.split', voucherId: `v${'0'.repeat(24)}`, amounts: ['1', '2'] }, [s1]),
        404,
        'VOUCHER_NOT_FOUND',
      ],
      ['VOUCHER_NOT_FOUND: no such child of an existing root', () => env({ type: 'voucher.accept', voucherId: `${A}:0-5` }, [s1]), 404, 'VOUCHER_NOT_FOUND'],
      [
        'VOUCHER_NOT_FOUND: a voucher no signer may see',
        () => env({ type: 'voucher.split', voucherId: A, amounts: ['1', '99999'] }, [s3]),
        404,
        'VOUCHER_NOT_FOUND',
      ],
      [
        'VOUCHER_NOT_FOUND comes before SIGNERS_MISMATCH (another core)',
        () => env({ type: 'voucher.settle', voucherId: A, paymentRef: 'X' }, [core2]),
        404,
        'VOUCHER_NOT_FOUND',
      ],
      ['VOUCHER_STATE_CONFLICT: accept of an active voucher', () => env({ type: 'voucher.accept', voucherId: A }, [s1]), 409, 'VOUCHER_STATE_CONFLICT'],
      ['VOUCHER_STATE_CONFLICT: reject of a settled voucher', () => env({ type: 'voucher.reject', voucherId: S }, [s1]), 409, 'VOUCHER_STATE_CONFLICT'],
      ['VOUCHER_STATE_CONFLICT: cancel of an active voucher', () => env({ type: 'voucher.cancel', voucherId: A }, [s1]), 409, 'VOUCHER_STATE_CONFLICT'],
      [
        'VOUCHER_STATE_CONFLICT: release of a voucher that is not pledged',
        () => env({ type: 'voucher.release', voucherId: A }, [s1]),
        409,
        'VOUCHER_STATE_CONFLICT',
      ],
      [
        'VOUCHER_STATE_CONFLICT (first row) comes before SIGNERS_MISMATCH',
        () => env({ type: 'voucher.accept', voucherId: A }, [core]),
        409,
        'VOUCHER_STATE_CONFLICT',
      ],
      [
        'SIGNERS_MISMATCH: the issuer signs a split of a voucher it does not hold',
        () => env({ type: 'voucher.split', voucherId: A, amounts: ['1', '99999'] }, [core]),
        403,
        'SIGNERS_MISMATCH',
      ],
      [
        'SIGNERS_MISMATCH: a pledge without the bank',
        () => env({ type: 'voucher.pledge', voucherId: A, bank: bank.id, loanRef: 'L' }, [s1]),
        403,
        'SIGNERS_MISMATCH',
      ],
      ['SIGNERS_MISMATCH: an extra signer', () => env({ type: 'voucher.transfer', voucherId: A, to: s2.id }, [s1, core]), 403, 'SIGNERS_MISMATCH'],
      ['SIGNERS_MISMATCH: a duplicated signer', () => env({ type: 'voucher.transfer', voucherId: A, to: s2.id }, [s1, s1]), 403, 'SIGNERS_MISMATCH'],
      [
        'SIGNERS_MISMATCH: a register not signed by the operator',
        () => env({ type: 'party.register', party: { id: 'new-co', name: 'x', role: 'supplier', publicKey: key('new-co', 'supplier').publicKey } }, [core]),
        403,
        'SIGNERS_MISMATCH',
      ],
      ['SIGNERS_MISMATCH: an issue signed by someone else than the issuer', () => env(issue(), [s1]), 403, 'SIGNERS_MISMATCH'],
      [
        'SIGNERS_MISMATCH comes before ROLE_NOT_ALLOWED',
        () => env({ type: 'voucher.pledge', voucherId: A, bank: s2.id, loanRef: 'L' }, [s1]),
        403,
        'SIGNERS_MISMATCH',
      ],
      ['ROLE_NOT_ALLOWED: a supplier issuing', () => env(issue({ issuer: s1.id, to: s2.id }), [s1]), 422, 'ROLE_NOT_ALLOWED'],
      ['ROLE_NOT_ALLOWED: an issue to a bank', () => env(issue({ to: bank.id }), [core]), 422, 'ROLE_NOT_ALLOWED'],
      ['ROLE_NOT_ALLOWED: an issue to a core', () => env(issue({ to: core2.id }), [core]), 422, 'ROLE_NOT_ALLOWED'],
      [
        'ROLE_NOT_ALLOWED: a pledge to a non-bank',
        () => env({ type: 'voucher.pledge', voucherId: A, bank: s2.id, loanRef: 'L' }, [s1, s2]),
        422,
        'ROLE_NOT_ALLOWED',
      ],
      ['ROLE_NOT_ALLOWED: a transfer to a core', () => env({ type: 'voucher.transfer', voucherId: A, to: core2.id }, [s1]), 422, 'ROLE_NOT_ALLOWED'],
      ['ROLE_NOT_ALLOWED: a transfer to an auditor', () => env({ type: 'voucher.transfer', voucherId: A, to: auditor.id }, [s1]), 422, 'ROLE_NOT_ALLOWED'],
      [
        'ROLE_NOT_ALLOWED: suspending the operator',
        () => env({ type: 'party.update', partyId: 'operator', status: 'suspended' }, [h.operator]),
        422,
        'ROLE_NOT_ALLOWED',
      ],
      ['ROLE_NOT_ALLOWED comes before VOUCHER_PLEDGED', () => env({ type: 'voucher.transfer', voucherId: P, to: core2.id }, [s2]), 422, 'ROLE_NOT_ALLOWED'],
      ['ROLE_NOT_ALLOWED comes before DUE_DATE_INVALID', () => env(issue({ issuer: s1.id, to: s2.id, dueDate: dueIn(0) }), [s1]), 422, 'ROLE_NOT_ALLOWED'],
      [
        'PARTY_EXISTS: registering an id again',
        () => env({ type: 'party.register', party: { id: s1.id, name: 'x', role: 'supplier', publicKey: key('fresh', 'supplier').publicKey } }, [h.operator]),
        409,
        'PARTY_EXISTS',
      ],
      [
        'PARTY_EXISTS: registering the operator id',
        () =>
          env({ type: 'party.register', party: { id: 'operator', name: 'x', role: 'auditor', publicKey: key('fresh-op', 'auditor').publicKey } }, [h.operator]),
        409,
        'PARTY_EXISTS',
      ],
      [
        'PARTY_EXISTS: registering a key another party holds',
        () => env({ type: 'party.register', party: { id: 'copycat', name: 'x', role: 'supplier', publicKey: s2.publicKey } }, [h.operator]),
        409,
        'PARTY_EXISTS',
      ],
      [
        'PARTY_EXISTS: registering a key that was registered before (rotated away)',
        () => env({ type: 'party.register', party: { id: 'copycat', name: 'x', role: 'supplier', publicKey: rotor.publicKey } }, [h.operator]),
        409,
        'PARTY_EXISTS',
      ],
      [
        'PARTY_EXISTS: registering the operator key',
        () => env({ type: 'party.register', party: { id: 'copycat', name: 'x', role: 'auditor', publicKey: h.operator.publicKey } }, [h.operator]),
        409,
        'PARTY_EXISTS',
      ],
      [
        'PARTY_EXISTS: rotating to another party’s key',
        () => env({ type: 'party.update', partyId: s3.id, publicKey: s2.publicKey }, [h.operator]),
        409,
        'PARTY_EXISTS',
      ],
      [
        'PARTY_EXISTS: rotating to a key another party held before',
        () => env({ type: 'party.update', partyId: s3.id, publicKey: rotor.publicKey }, [h.operator]),
        409,
        'PARTY_EXISTS',
      ],
      [
        'VOUCHER_PLEDGED: split of a pledged voucher',
        () => env({ type: 'voucher.split', voucherId: P, amounts: ['1000', '4000'] }, [s2]),
        409,
        'VOUCHER_PLEDGED',
      ],
      ['VOUCHER_PLEDGED: transfer of a pledged voucher', () => env({ type: 'voucher.transfer', voucherId: P, to: s3.id }, [s2]), 409, 'VOUCHER_PLEDGED'],
      [
        'VOUCHER_PLEDGED: pledging a pledged voucher to a second bank',
        () => env({ type: 'voucher.pledge', voucherId: P, bank: bank2.id, loanRef: 'L2' }, [s2, bank2]),
        409,
        'VOUCHER_PLEDGED',
      ],
      [
        'VOUCHER_STATE_CONFLICT: transfer of an offered voucher by its holder',
        () => env({ type: 'voucher.transfer', voucherId: O, to: s2.id }, [core]),
        409,
        'VOUCHER_STATE_CONFLICT',
      ],
      [
        'VOUCHER_STATE_CONFLICT: split of a settled voucher',
        () => env({ type: 'voucher.split', voucherId: S, amounts: ['1000', '2000'] }, [s1]),
        409,
        'VOUCHER_STATE_CONFLICT',
      ],
      [
        'VOUCHER_STATE_CONFLICT: settle of a cancelled voucher',
        () => env({ type: 'voucher.settle', voucherId: C, paymentRef: 'X' }, [core]),
        409,
        'VOUCHER_STATE_CONFLICT',
      ],
      [
        'VOUCHER_STATE_CONFLICT: settle of an offered voucher',
        () => env({ type: 'voucher.settle', voucherId: O, paymentRef: 'X' }, [core]),
        409,
        'VOUCHER_STATE_CONFLICT',
      ],
      [
        'VOUCHER_STATE_CONFLICT: settle of a settled voucher',
        () => env({ type: 'voucher.settle', voucherId: S, paymentRef: 'X' }, [core]),
        409,
        'VOUCHER_STATE_CONFLICT',
      ],
      [
        'VOUCHER_STATE_CONFLICT: pledge of a cancelled voucher',
        () => env({ type: 'voucher.pledge', voucherId: C, bank: bank.id, loanRef: 'L' }, [core, bank]),
        409,
        'VOUCHER_STATE_CONFLICT',
      ],
      [
        'VOUCHER_STATE_CONFLICT (second row) comes before INVALID_RECIPIENT',
        () => env({ type: 'voucher.transfer', voucherId: S, to: s1.id }, [s1]),
        409,
        'VOUCHER_STATE_CONFLICT',
      ],
      ['INVALID_RECIPIENT: a transfer to its own holder', () => env({ type: 'voucher.transfer', voucherId: A, to: s1.id }, [s1]), 422, 'INVALID_RECIPIENT'],
      [
        'INVALID_RECIPIENT: a bank pledging a voucher it holds to itself',
        () => env({ type: 'voucher.pledge', voucherId: B, bank: bank.id, loanRef: 'L' }, [bank]),
        422,
        'INVALID_RECIPIENT',
      ],
      [
        'INVALID_RECIPIENT comes before AMOUNT_INVALID',
        () => env({ type: 'voucher.transfer', voucherId: A, to: s1.id, amount: '100000' }, [s1]),
        422,
        'INVALID_RECIPIENT',
      ],
      ['AMOUNT_INVALID: split parts that sum to less', () => env({ type: 'voucher.split', voucherId: A, amounts: ['1', '2'] }, [s1]), 422, 'AMOUNT_INVALID'],
      [
        'AMOUNT_INVALID: split parts that sum to more',
        () => env({ type: 'voucher.split', voucherId: A, amounts: ['50000', '50001'] }, [s1]),
        422,
        'AMOUNT_INVALID',
      ],
      [
        'AMOUNT_INVALID: a partial transfer of the whole amount',
        () => env({ type: 'voucher.transfer', voucherId: A, to: s2.id, amount: '100000' }, [s1]),
        422,
        'AMOUNT_INVALID',
      ],
      [
        'AMOUNT_INVALID: a partial pledge above the amount',
        () => env({ type: 'voucher.pledge', voucherId: A, bank: bank.id, loanRef: 'L', amount: '100001' }, [s1, bank]),
        422,
        'AMOUNT_INVALID',
      ],
      ['DUE_DATE_INVALID: due today', () => env(issue({ dueDate: dueIn(0) }), [core]), 422, 'DUE_DATE_INVALID'],
      ['DUE_DATE_INVALID: due yesterday', () => env(issue({ dueDate: dueIn(-1) }), [core]), 422, 'DUE_DATE_INVALID'],
      ['DUE_DATE_INVALID: beyond maxTenorDays', () => env(issue({ dueDate: dueIn(400) }), [core]), 422, 'DUE_DATE_INVALID'],
      ['DUE_DATE_INVALID comes before CURRENCY_INVALID', () => env(issue({ dueDate: dueIn(0), currency: 'USD' }), [core]), 422, 'DUE_DATE_INVALID'],
      ['CURRENCY_INVALID: not the ledger’s currency', () => env(issue({ currency: 'USD' }), [core]), 422, 'CURRENCY_INVALID'],
      ['CURRENCY_INVALID comes before INVOICE_ALREADY_USED', () => env(issue({ currency: 'EUR', invoiceIds: ['INV-A'] }), [core]), 422, 'CURRENCY_INVALID'],
      ['INVOICE_ALREADY_USED: an invoice backing a live root', () => env(issue({ invoiceIds: ['INV-NEW-1', 'INV-A'] }), [core]), 409, 'INVOICE_ALREADY_USED'],
    ];
    it.each(rows)('%s', async (_name, make, status, code) => {
      await expectRefusal(h, () => h.post(make()), status, code);
    });

    it('VOUCHER_NOT_FOUND: an invisible voucher and a missing one answer alike (ids cannot be probed)', async () => {
      const missing = `v${'0'.repeat(24)}`;
      expect(missing).toHaveLength(A.length);
      const hidden = await expectRefusal(h, () => h.submit({ type: 'voucher.split', voucherId: A, amounts: ['1', '99999'] }, [s3]), 404, 'VOUCHER_NOT_FOUND');
      const absent = await expectRefusal(
        h,
        () => h.submit({ type: 'voucher.split', voucherId: missing, amounts: ['1', '99999'] }, [s3]),
        404,
        'VOUCHER_NOT_FOUND',
      );
      expect({ ...hidden, detail: hidden.detail.replace(A, '<id>') }).toEqual({ ...absent, detail: absent.detail.replace(missing, '<id>') });
    });

    it('INVOICE_ALREADY_USED also covers an invoice of a settled root (settled is not cancelled)', async () => {
      const settledInvoices = (await h.get(`/v1/vouchers/${S}`, h.operator)).json() as { invoiceIds: string[] };
      await expectRefusal(h, () => h.submit(issue({ invoiceIds: settledInvoices.invoiceIds }), [core]), 409, 'INVOICE_ALREADY_USED');
    });

    it('an invoice of a cancelled root is free again', async () => {
      const cancelled = (await h.get(`/v1/vouchers/${C}`, h.operator)).json() as { invoiceIds: string[] };
      const res = await h.submit(issue({ invoiceIds: cancelled.invoiceIds }), [core]);
      expect(res.statusCode, res.body).toBe(201);
    });

    it('party.update may name a suspended party (to reactivate it), and a reactivated party may sign again', async () => {
      const lazy = key('lazy-parts', 'supplier');
      await h.register(lazy);
      await h.ok({ type: 'party.update', partyId: lazy.id, status: 'suspended' }, [h.operator]);
      await expectRefusal(h, () => h.submit(issue({ to: lazy.id }), [core]), 403, 'PARTY_SUSPENDED');
      await h.ok({ type: 'party.update', partyId: lazy.id, status: 'active' }, [h.operator]);
      expect((await h.submit(issue({ to: lazy.id }), [core])).statusCode).toBe(201);
    });

    it('a key rotation to the party’s own current key is not PARTY_EXISTS', async () => {
      const res = await h.submit({ type: 'party.update', partyId: s3.id, publicKey: s3.publicKey }, [h.operator]);
      expect(res.statusCode, res.body).toBe(201);
    });
  });

  describe('duplicates (§4) and refusals that consume nothing (§7)', () => {
    it('the same envelope twice: 200, "duplicate": true, the identical receipt, nothing written', async () => {
      const e = env(issue(), [core]);
      const first = await h.post(e);
      expect(first.statusCode).toBe(201);
      const size = await ledgerSize(h);
      const again = await h.post(e);
      expect(again.statusCode).toBe(200);
      expect(again.headers['content-type']).toMatch(/^application\/json/);
      expect(again.json()).toEqual({ ...first.json(), duplicate: true });
      expect(await ledgerSize(h)).toBe(size);
      // And a third time, still the same.
      expect((await h.post(e)).json()).toEqual({ ...first.json(), duplicate: true });
    });

    it('a duplicate is answered although its op would now be refused (the voucher moved on)', async () => {
      const id = (await h.ok(issue(), [core])).effects.vouchers[0]?.id ?? '';
      const accept = env({ type: 'voucher.accept', voucherId: id }, [s1]);
      const first = await h.post(accept);
      await h.ok({ type: 'voucher.settle', voucherId: id, paymentRef: 'PAY-DUP' }, [core]);
      const again = await h.post(accept);
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual({ ...first.json(), duplicate: true });
    });

    it('a duplicate is answered whatever its signatures: other, invalid, well-formed ones', async () => {
      const e = env(issue(), [core]);
      const first = await h.post(e);
      expect(first.statusCode).toBe(201);
      const forged = { ...e, signatures: [{ signer: s3.id, sig: 'ab'.repeat(64) }] };
      const again = await h.post(forged);
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual({ ...first.json(), duplicate: true });
    });

    it('a duplicate is answered after the signer’s key rotated, when a new op with the old key is BAD_SIGNATURE', async () => {
      const turn = key('turn-parts', 'supplier');
      const turnNext = key('turn-parts', 'supplier', '-next');
      await h.register(turn);
      const id = (await h.ok(issue({ to: turn.id }), [core])).effects.vouchers[0]?.id ?? '';
      const accept = env({ type: 'voucher.accept', voucherId: id }, [turn]);
      const first = await h.post(accept);
      expect(first.statusCode).toBe(201);
      await h.ok({ type: 'party.update', partyId: turn.id, publicKey: turnNext.publicKey }, [h.operator]);
      await expectRefusal(h, () => h.submit({ type: 'voucher.split', voucherId: id, amounts: ['1', '999'] }, [turn]), 401, 'BAD_SIGNATURE');
      const again = await h.post(accept);
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual({ ...first.json(), duplicate: true });
    });

    it('a duplicate is answered after its signer was suspended', async () => {
      const gone = key('gone-parts', 'supplier');
      await h.register(gone);
      const id = (await h.ok(issue({ to: gone.id }), [core])).effects.vouchers[0]?.id ?? '';
      const accept = env({ type: 'voucher.accept', voucherId: id }, [gone]);
      const first = await h.post(accept);
      await h.ok({ type: 'party.update', partyId: gone.id, status: 'suspended' }, [h.operator]);
      const again = await h.post(accept);
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual({ ...first.json(), duplicate: true });
    });

    it('MALFORMED_REQUEST still comes before the duplicate check (three signatures)', async () => {
      const e = env(issue(), [core]);
      expect((await h.post(e)).statusCode).toBe(201);
      const extra = env(issue(), [s1, s2]).signatures;
      await expectRefusal(h, () => h.post({ ...e, signatures: [...e.signatures, ...extra] }), 400, 'MALFORMED_REQUEST');
    });

    it('identical envelopes sent at once: one 201, the others 200 with the same receipt, one entry', async () => {
      const e = env(issue(), [core]);
      const size = await ledgerSize(h);
      const answers = await Promise.all(Array.from({ length: 5 }, () => h.post(e)));
      const statuses = answers.map((r) => r.statusCode).sort();
      expect(statuses).toEqual([200, 200, 200, 200, 201]);
      const original = answers.find((r) => r.statusCode === 201)?.json() as Record<string, unknown>;
      for (const r of answers.filter((x) => x.statusCode === 200)) expect(r.json()).toEqual({ ...original, duplicate: true });
      expect(await ledgerSize(h)).toBe(size + 1);
    });

    it('UNKNOWN_PARTY, then the party is registered: the same envelope is accepted (201)', async () => {
      const late = key('late-parts', 'supplier');
      const e = env({ type: 'voucher.transfer', voucherId: A, to: late.id, amount: '10' }, [s1]);
      await expectRefusal(h, () => h.post(e), 422, 'UNKNOWN_PARTY');
      await h.register(late);
      const res = await h.post(e);
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json().opId).toBe(h.opIdOf(e));
    });

    it('INVOICE_ALREADY_USED, then the holding root is rejected: the same envelope is accepted (201)', async () => {
      const blocking = (await h.ok(issue({ invoiceIds: ['INV-RETRY'] }), [core])).effects.vouchers[0]?.id ?? '';
      const e = env(issue({ invoiceIds: ['INV-RETRY'], to: s2.id }), [core]);
      await expectRefusal(h, () => h.post(e), 409, 'INVOICE_ALREADY_USED');
      await h.ok({ type: 'voucher.reject', voucherId: blocking }, [s1]);
      expect((await h.post(e)).statusCode).toBe(201);
    });

    it('VOUCHER_STATE_CONFLICT (release of an active voucher), then it is pledged: the same release is accepted', async () => {
      const id = await h.issueAccepted(core, s2, '900');
      const pledge = env({ type: 'voucher.pledge', voucherId: id, bank: bank.id, loanRef: 'L-R' }, [s2, bank]);
      await h.post(pledge);
      const release = env({ type: 'voucher.release', voucherId: id }, [bank]);
      expect((await h.post(release)).statusCode).toBe(201);
      // Released: a second release envelope (new nonce) conflicts; re-pledge, then it goes through.
      const again = env({ type: 'voucher.release', voucherId: id }, [bank]);
      await expectRefusal(h, () => h.post(again), 409, 'VOUCHER_STATE_CONFLICT');
      await h.ok({ type: 'voucher.pledge', voucherId: id, bank: bank.id, loanRef: 'L-R2' }, [s2, bank]);
      expect((await h.post(again)).statusCode).toBe(201);
    });
  });

  describe('no input gets a 5xx', () => {
    it('arbitrary JSON bodies are answered 4xx with a problem', async () => {
      await fc.assert(
        fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (value) => {
          const res = await postRaw(h, JSON.stringify(value));
          expect(res.statusCode).toBeGreaterThanOrEqual(400);
          expect(res.statusCode).toBeLessThan(500);
          expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        }),
        { numRuns: 60 },
      );
    });

    it('arbitrary bytes are answered 4xx', async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
          const res = await postRaw(h, Buffer.from(bytes));
          expect(res.statusCode).toBe(400);
        }),
        { numRuns: 60 },
      );
    });

    it('envelope-shaped bodies with arbitrary payload fields are answered 4xx', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.record(
            {
              type: fc.constantFrom('voucher.issue', 'voucher.split', 'voucher.transfer', 'voucher.pledge', 'party.register', 'party.update'),
              voucherId: fc.oneof(fc.constant(A), fc.string()),
              amount: fc.oneof(fc.string(), fc.integer(), fc.constant('1')),
              amounts: fc.array(fc.oneof(fc.string(), fc.constant('1')), { maxLength: 4 }),
              to: fc.oneof(fc.constant(s2.id), fc.string()),
            },
            { requiredKeys: ['type'] },
          ),
          async (payload) => {
            // Signed by a supplier that may see none of the vouchers, so nothing can be accepted.
            const res = await h.post(env(payload, [s3]));
            expect(res.statusCode).toBeGreaterThanOrEqual(400);
            expect(res.statusCode).toBeLessThan(500);
          },
        ),
        { numRuns: 60 },
      );
    });
  });
});

describe('ledger time decides (a harness clock the test moves)', () => {
  let h: Harness;
  let clockMs = Date.now();
  const day = 86_400_000;
  const iso = (ms: number) => new Date(ms).toISOString();
  const ledgerDate = () => iso(clockMs).slice(0, 10);
  const c = key('gz-motors', 'core');
  const sup = key('dongguan-parts', 'supplier');
  const sup2 = key('chen-electronics', 'supplier');
  const bk = key('icbc-gz', 'bank');
  const issue = (dueDate: string) => ({
    type: 'voucher.issue',
    issuer: c.id,
    to: sup.id,
    amount: '1000',
    currency: 'CNY',
    dueDate,
    invoiceIds: [`INV-${h.nonce()}`],
  });
  const issueAccepted = async (dueDate: string): Promise<string> => {
    const id = (await h.ok(issue(dueDate), [c])).effects.vouchers[0]?.id ?? '';
    await h.ok({ type: 'voucher.accept', voucherId: id }, [sup]);
    return id;
  };

  beforeAll(async () => {
    h = await Harness.start({ now: () => clockMs });
    for (const k of [c, sup, sup2, bk]) await h.register(k);
  });
  afterAll(async () => {
    await h.close();
  });

  it('OP_EXPIRED only once ledger time passes expiresAt: equal is accepted, one ms later is refused', async () => {
    const at = iso(clockMs + 60_000);
    const onTime = h.envelope({ ...issue(addDays(ledgerDate(), 30)), expiresAt: at }, [c]);
    const late = h.envelope({ ...issue(addDays(ledgerDate(), 30)), expiresAt: at }, [c]);
    clockMs += 60_000;
    const first = await h.post(onTime);
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json().time).toBe(at);
    clockMs += 1;
    await expectRefusal(h, () => h.post(late), 422, 'OP_EXPIRED');
    // The accepted one, replayed after its expiry, is still its duplicate (§4).
    const again = await h.post(onTime);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ ...first.json(), duplicate: true });
  });

  it('DUE_DATE_INVALID at its bounds: tomorrow and +maxTenorDays are fine, today and +maxTenorDays+1 are not', async () => {
    const today = ledgerDate();
    await expectRefusal(h, () => h.submit(issue(today), [c]), 422, 'DUE_DATE_INVALID');
    await expectRefusal(h, () => h.submit(issue(addDays(today, 366)), [c]), 422, 'DUE_DATE_INVALID');
    expect((await h.submit(issue(addDays(today, 1)), [c])).statusCode).toBe(201);
    expect((await h.submit(issue(addDays(today, 365)), [c])).statusCode).toBe(201);
  });

  it('VOUCHER_OVERDUE: split, transfer and pledge after the due date; allowed on the due date itself', async () => {
    const due = addDays(ledgerDate(), 10);
    const active = await issueAccepted(due);
    const stillOffered = (await h.ok(issue(due), [c])).effects.vouchers[0]?.id ?? '';
    const pledged = await issueAccepted(due);
    await h.ok({ type: 'voucher.pledge', voucherId: pledged, bank: bk.id, loanRef: 'L-OD' }, [sup, bk]);

    clockMs = Math.max(clockMs, Date.parse(`${due}T23:59:59.000Z`));
    expect(ledgerDate()).toBe(due);
    const split = await h.ok({ type: 'voucher.split', voucherId: active, amounts: ['400', '600'] }, [sup]);
    const [, left, right] = split.effects.vouchers;

    clockMs = Date.parse(`${addDays(due, 1)}T00:00:00.000Z`);
    await expectRefusal(h, () => h.submit({ type: 'voucher.split', voucherId: left?.id, amounts: ['100', '300'] }, [sup]), 409, 'VOUCHER_OVERDUE');
    await expectRefusal(h, () => h.submit({ type: 'voucher.transfer', voucherId: left?.id, to: sup2.id }, [sup]), 409, 'VOUCHER_OVERDUE');
    await expectRefusal(h, () => h.submit({ type: 'voucher.transfer', voucherId: left?.id, to: sup2.id, amount: '1' }, [sup]), 409, 'VOUCHER_OVERDUE');
    await expectRefusal(h, () => h.submit({ type: 'voucher.pledge', voucherId: right?.id, bank: bk.id, loanRef: 'L' }, [sup, bk]), 409, 'VOUCHER_OVERDUE');
    // VOUCHER_PLEDGED comes before VOUCHER_OVERDUE.
    await expectRefusal(h, () => h.submit({ type: 'voucher.split', voucherId: pledged, amounts: ['1', '999'] }, [sup]), 409, 'VOUCHER_PLEDGED');
    // Offered vouchers can still be accepted, overdue or not; settlement is allowed after the due date.
    expect((await h.submit({ type: 'voucher.accept', voucherId: stillOffered }, [sup])).statusCode).toBe(201);
    expect((await h.submit({ type: 'voucher.settle', voucherId: left?.id, paymentRef: 'P-LATE' }, [c])).statusCode).toBe(201);
    expect((await h.submit({ type: 'voucher.release', voucherId: pledged }, [bk])).statusCode).toBe(201);
  });
});

describe('RATE_LIMITED (429), RATE_LIMIT_PER_MIN = 5', () => {
  let h: Harness;
  let clockMs = Date.now();
  const sup = key('dongguan-parts', 'supplier');
  const at = (ip: string) => ({ remoteAddress: ip });

  beforeAll(async () => {
    h = await Harness.start({ rateLimitPerMin: 5, now: () => clockMs });
  });
  afterAll(async () => {
    await h.close();
  });

  it('per client address: the sixth request of the minute is 429 with a problem body', async () => {
    for (let i = 0; i < 5; i++) expect((await h.app.inject({ method: 'GET', url: '/v1/ledger', ...at('10.0.0.1') })).statusCode).toBe(200);
    const res = await h.app.inject({ method: 'GET', url: '/v1/ledger', ...at('10.0.0.1') });
    expectProblem(res, 429, 'RATE_LIMITED');
    // Another address is not affected.
    expect((await h.app.inject({ method: 'GET', url: '/v1/ledger', ...at('10.0.0.2') })).statusCode).toBe(200);
  });

  it('per signer of ops: the sixth op signed by the operator in a minute is 429, from any address, and writes nothing', async () => {
    clockMs += 60_000;
    const regs = [sup, ...Array.from({ length: 5 }, (_, i) => key(`rl-party-${i}`, 'supplier'))];
    for (let i = 0; i < 5; i++) {
      const k = regs[i] as Key;
      const res = await h.app.inject({
        method: 'POST',
        url: '/v1/ops',
        payload: h.envelope({ type: 'party.register', party: { id: k.id, name: k.id, role: k.role, publicKey: k.publicKey } }, [h.operator]),
        ...at(`10.0.1.${i}`),
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    const size = h.service.size;
    const k = regs[5] as Key;
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/ops',
      payload: h.envelope({ type: 'party.register', party: { id: k.id, name: k.id, role: k.role, publicKey: k.publicKey } }, [h.operator]),
      ...at('10.0.1.9'),
    });
    expectProblem(res, 429, 'RATE_LIMITED');
    expect(h.service.size).toBe(size);
  });

  it('per reading party (the JWT iss): the sixth read in a minute is 429, from any address', async () => {
    clockMs += 60_000;
    const token = await h.token(sup);
    for (let i = 0; i < 5; i++) {
      const res = await h.app.inject({ method: 'GET', url: '/v1/parties', headers: { authorization: `Bearer ${token}` }, ...at(`10.0.2.${i}`) });
      expect(res.statusCode, res.body).toBe(200);
    }
    const res = await h.app.inject({ method: 'GET', url: '/v1/parties', headers: { authorization: `Bearer ${token}` }, ...at('10.0.2.9') });
    expectProblem(res, 429, 'RATE_LIMITED');
  });

  it('the next minute allows requests again', async () => {
    clockMs += 60_000;
    expect((await h.app.inject({ method: 'GET', url: '/v1/ledger', ...at('10.0.0.1') })).statusCode).toBe(200);
  });
});

describe('LEDGER_UNAVAILABLE (503): writes stop, duplicates and reads go on', () => {
  let h: Harness;
  let failing = false;
  const c = key('gz-motors', 'core');
  const sup = key('dongguan-parts', 'supplier');

  beforeAll(async () => {
    h = await Harness.start({
      wrapStore: wrapStore((real) => ({
        commit: async (batch) => {
          if (failing) throw new Error('disk full (test)');
          return real.commit(batch);
        },
      })),
    });
  });
  afterAll(async () => {
    await h.close();
  });

  it('after a failed commit: new ops 503, a duplicate of a durable op 200, reads 200, /readyz 503', async () => {
    const reg = h.envelope({ type: 'party.register', party: { id: c.id, name: c.id, role: c.role, publicKey: c.publicKey } }, [h.operator]);
    const first = await h.post(reg);
    expect(first.statusCode).toBe(201);
    const size = await ledgerSize(h);
    failing = true;
    expectProblem(
      await h.submit({ type: 'party.register', party: { id: sup.id, name: sup.id, role: sup.role, publicKey: sup.publicKey } }, [h.operator]),
      503,
      'LEDGER_UNAVAILABLE',
    );
    expect(await ledgerSize(h)).toBe(size);
    const again = await h.post(reg);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ ...first.json(), duplicate: true });
    expect((await h.get(`/v1/parties/${c.id}`, c)).statusCode).toBe(200);
    expect((await h.get('/v1/checkpoint')).statusCode).toBe(200);
    expectProblem(await h.app.inject({ method: 'GET', url: '/readyz' }), 503, 'LEDGER_UNAVAILABLE');
    expect((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});

describe('an op already on the ledger is never written twice', () => {
  it('even when the duplicate lookup of a concurrent copy returns a stale answer after the original commits', async () => {
    let calls = 0;
    const hold = gate();
    const h = await Harness.start({
      wrapStore: wrapStore((real) => ({
        seqOfOp: async (opId: string) => {
          const seq = await real.seqOfOp(opId);
          calls += 1;
          // The second lookup reads before the first copy commits, and is answered after it.
          if (calls === 2) await hold.promise;
          return seq;
        },
      })),
    });
    try {
      const sup = key('dongguan-parts', 'supplier');
      await h.register(sup);
      calls = 0;
      // An op that decide would accept twice in a row: suspending an active party.
      const e = h.envelope({ type: 'party.update', partyId: sup.id, status: 'suspended' }, [h.operator]);
      const size = h.service.size;
      const posts = [h.post(e), h.post(e)];
      // The copy whose lookup is not held finishes first; then the stale answer is let through.
      await Promise.race(posts);
      hold.open();
      const answers = await Promise.all(posts);
      expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 201]);
      expect(h.service.size).toBe(size + 1);
    } finally {
      hold.open();
      await h.close();
    }
  });
});
