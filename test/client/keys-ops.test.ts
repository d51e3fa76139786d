/**
 * The SDK's offline half: key files (§3), op builders (§7), signing (§3–§4), op ids and the
 * voucher ids an op will create (§7 rule 3). No server.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  addSignature,
  build,
  generateKeyFile,
  hasValidSignature,
  InvalidOpError,
  KeyFileError,
  keyFileText,
  movedVoucherIdOf,
  newNonce,
  opIdOf,
  parseKeyFile,
  signEnvelope,
  voucherIdsOf,
  type WirePayload,
} from '../../src/client/index.js';
import { OPS } from '../../src/domain/ops.js';
import { parseOp } from '../../src/domain/schema.js';
import { verify } from '../../src/ledger/ed25519.js';
import { opId, opPreimage } from '../../src/ledger/op.js';
import { keyFile } from './support.js';

const LEDGER = 'ab'.repeat(32);
const ROOT = `v${'0123456789abcdef01234567'}`;
const holder = keyFile('dongguan-parts');
const bank = keyFile('icbc-gz');

describe('key files (§3)', () => {
  it('round-trips a generated key file through its text', () => {
    const k = generateKeyFile('chen-electronics');
    expect(k.party).toBe('chen-electronics');
    expect(k.publicKey).toMatch(/^[0-9a-f]{64}$/);
    expect(k.secretKey).toMatch(/^[0-9a-f]{64}$/);
    expect(parseKeyFile(keyFileText(k))).toEqual(k);
    expect(generateKeyFile('x1').secretKey).not.toBe(generateKeyFile('x1').secretKey);
  });

  it("refuses a public key that is not the seed's, without echoing the secret", () => {
    const a = generateKeyFile('a-party');
    const b = generateKeyFile('b-party');
    const text = JSON.stringify({ party: 'a-party', publicKey: b.publicKey, secretKey: a.secretKey });
    const err = (() => {
      try {
        parseKeyFile(text);
      } catch (e) {
        return e as KeyFileError;
      }
      throw new Error('accepted a mismatched key file');
    })();
    expect(err).toBeInstanceOf(KeyFileError);
    expect(err.code).toBe('KEY_MISMATCH');
    expect(err.message).not.toContain(a.secretKey);
  });

  it.each([
    ['not JSON', '{party:', 'NOT_JSON'],
    ['an array', '[]', 'BAD_SHAPE'],
    ['an extra field', JSON.stringify({ ...keyFile('p1'), note: 'x' }), 'BAD_SHAPE'],
    ['a missing field', JSON.stringify({ party: 'p1', secretKey: keyFile('p1').secretKey }), 'BAD_SHAPE'],
    ['a public file (party and publicKey only)', JSON.stringify({ party: 'p1', publicKey: keyFile('p1').publicKey }), 'PUBLIC_KEY_FILE'],
    ['a bad party id', JSON.stringify({ ...keyFile('p1'), party: 'Not A Party' }), 'BAD_PARTY'],
    ['uppercase hex', JSON.stringify({ ...keyFile('p1'), secretKey: keyFile('p1').secretKey.toUpperCase() }), 'BAD_HEX'],
    ['a small-order public key', JSON.stringify({ ...keyFile('p1'), publicKey: `01${'00'.repeat(31)}` }), 'BAD_PUBLIC_KEY'],
  ])('refuses %s with a code', (_what, text, code) => {
    expect(() => parseKeyFile(text)).toThrowError(expect.objectContaining({ code }) as Error);
  });

  it('says a public file is one, and which file to choose instead', () => {
    const pub = JSON.stringify({ party: 'p1', publicKey: keyFile('p1').publicKey });
    expect(() => parseKeyFile(pub)).toThrowError(
      expect.objectContaining({ code: 'PUBLIC_KEY_FILE', detail: 'this is a public key file (it has no secret key); choose the .key file' }) as Error,
    );
  });

  it('accepts the node key file and the operator key file shapes', () => {
    const node = generateKeyFile('node');
    expect(parseKeyFile(keyFileText(node)).party).toBe('node');
    expect(() => generateKeyFile('Bad Id')).toThrow(KeyFileError);
  });
});

describe('op builders (§7)', () => {
  const base = { ledger: LEDGER };
  const all: WirePayload[] = [
    build.partyRegister({ ...base, party: { id: 'chen-electronics', name: '陈电子', role: 'supplier', publicKey: holder.publicKey } }),
    build.partyUpdate({ ...base, partyId: 'chen-electronics', status: 'suspended' }),
    build.partyUpdate({ ...base, partyId: 'chen-electronics', publicKey: bank.publicKey }),
    build.voucherIssue({
      ...base,
      issuer: 'gz-motors',
      to: 'dongguan-parts',
      amount: 100_000_000n,
      currency: 'CNY',
      dueDate: '2027-02-26',
      invoiceIds: ['INV-1'],
      memo: 'Q4',
    }),
    build.voucherAccept({ ...base, voucherId: ROOT }),
    build.voucherReject({ ...base, voucherId: ROOT, reason: 'wrong amount' }),
    build.voucherCancel({ ...base, voucherId: ROOT }),
    build.voucherSplit({ ...base, voucherId: ROOT, amounts: [60_000_000n, 40_000_000n] }),
    build.voucherTransfer({ ...base, voucherId: ROOT, to: 'chen-electronics' }),
    build.voucherTransfer({ ...base, voucherId: ROOT, to: 'chen-electronics', amount: 1n }),
    build.voucherPledge({ ...base, voucherId: ROOT, bank: 'icbc-gz', loanRef: 'LN-1', amount: 5n }),
    build.voucherRelease({ ...base, voucherId: ROOT }),
    build.voucherSettle({ ...base, voucherId: ROOT, paymentRef: 'PAY-1' }),
  ];

  it("builds every op type as a payload the service's strict schema accepts", () => {
    expect([...new Set(all.map((p) => p.type))].sort()).toEqual(Object.keys(OPS).sort());
    for (const payload of all) {
      const parsed = parseOp(signEnvelope(payload, [holder]));
      expect(parsed.ok, `${payload.type}: ${parsed.ok ? '' : parsed.detail}`).toBe(true);
      expect(payload.ledger).toBe(LEDGER);
      expect(payload.nonce).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
    }
  });

  it('writes amounts as decimal strings and leaves absent optional fields out (not undefined)', () => {
    const split = build.voucherSplit({ ledger: LEDGER, voucherId: ROOT, amounts: [1n, 10n ** 15n] });
    expect(split.amounts).toEqual(['1', '1000000000000000']);
    const whole = build.voucherTransfer({ ledger: LEDGER, voucherId: ROOT, to: 'chen-electronics' });
    expect(Object.keys(whole).sort()).toEqual(['ledger', 'nonce', 'to', 'type', 'voucherId']);
    const update = build.partyUpdate({ ledger: LEDGER, partyId: 'p1', status: 'active' });
    expect('publicKey' in update).toBe(false);
  });

  it('fills a fresh random nonce of 22 base64url chars, and an expiresAt from a Date', () => {
    const nonces = new Set(Array.from({ length: 200 }, () => newNonce()));
    expect(nonces.size).toBe(200);
    for (const n of nonces) expect(n).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const p = build.voucherAccept({ ledger: LEDGER, voucherId: ROOT, expiresAt: new Date(Date.UTC(2026, 10, 29)) });
    expect(p.expiresAt).toBe('2026-11-29T00:00:00.000Z');
    expect(build.voucherAccept({ ledger: LEDGER, voucherId: ROOT, nonce: 'fixed-nonce' }).nonce).toBe('fixed-nonce');
  });

  it.each([
    ['a zero amount', () => build.voucherSplit({ ledger: LEDGER, voucherId: ROOT, amounts: [0n, 5n] })],
    ['an amount over 10^15', () => build.voucherTransfer({ ledger: LEDGER, voucherId: ROOT, to: 'x1', amount: 10n ** 15n + 1n })],
    ['one split part', () => build.voucherSplit({ ledger: LEDGER, voucherId: ROOT, amounts: [5n] })],
    ['a bad voucher id', () => build.voucherAccept({ ledger: LEDGER, voucherId: 'v123' })],
    ['a bad party id', () => build.voucherTransfer({ ledger: LEDGER, voucherId: ROOT, to: 'Chen Electronics' })],
    ['a bad public key', () => build.partyRegister({ ledger: LEDGER, party: { id: 'p1', name: 'P', role: 'bank', publicKey: '00'.repeat(32) } })],
    [
      'duplicate invoice ids',
      () => build.voucherIssue({ ledger: LEDGER, issuer: 'c1', to: 's1', amount: 1n, currency: 'CNY', dueDate: '2027-01-01', invoiceIds: ['A', 'A'] }),
    ],
    ['a bad nonce', () => build.voucherAccept({ ledger: LEDGER, voucherId: ROOT, nonce: 'short' })],
    ['an update that changes nothing', () => build.partyUpdate({ ledger: LEDGER, partyId: 'p1' })],
  ])('refuses %s before signing (InvalidOpError, MALFORMED_REQUEST)', (_what, build) => {
    expect(build).toThrow(InvalidOpError);
    try {
      build();
    } catch (e) {
      expect((e as InvalidOpError).code).toBe('MALFORMED_REQUEST');
    }
  });
});

describe('signing (§3–§4)', () => {
  const pledge = build.voucherPledge({ ledger: LEDGER, voucherId: ROOT, bank: bank.party, loanRef: 'LN-7' });

  it('has every signer sign the same preimage "rvl/op/v1\\n" ‖ JCS(payload)', () => {
    const env = signEnvelope(pledge, [holder, bank]);
    const preimage = opPreimage(pledge);
    expect(new TextDecoder().decode(preimage.subarray(0, 10))).toBe('rvl/op/v1\n');
    expect(env.signatures.map((s) => s.signer)).toEqual([holder.party, bank.party]);
    expect(verify(holder.publicKey, preimage, env.signatures[0]!.sig)).toBe(true);
    expect(verify(bank.publicKey, preimage, env.signatures[1]!.sig)).toBe(true);
    expect(() => signEnvelope(pledge, [holder, holder])).toThrow(TypeError);
    expect(() => signEnvelope(pledge, [])).toThrow(TypeError);
  });

  it("co-signs a prepared pledge: the bank checks the holder's half, adds its own, the op id does not move", () => {
    const prepared = signEnvelope(pledge, [holder]);
    expect(hasValidSignature(prepared, holder.party, holder.publicKey)).toBe(true);
    expect(hasValidSignature(prepared, holder.party, bank.publicKey)).toBe(false);
    expect(hasValidSignature(prepared, bank.party, bank.publicKey)).toBe(false);
    const both = addSignature(prepared, bank);
    expect(both).toEqual(signEnvelope(pledge, [holder, bank]));
    expect(opIdOf(both.payload)).toBe(opIdOf(prepared.payload));
    expect(addSignature(both, bank)).toBe(both); // signing twice is a no-op
    expect(() => addSignature(both, keyFile('third'))).toThrow(TypeError);
    const forged = { ...prepared, signatures: [{ signer: bank.party, sig: 'ab'.repeat(64) }] };
    expect(() => addSignature(forged, bank)).toThrow(TypeError);
  });

  it('computes the op id as the ledger does, whatever the key order', () => {
    const p = build.voucherAccept({ ledger: LEDGER, voucherId: ROOT });
    const reordered = Object.fromEntries(Object.entries(p).reverse());
    expect(opIdOf(p)).toBe(opId(p));
    expect(opIdOf(reordered)).toBe(opIdOf(p));
  });
});

describe('voucher ids an op will create (§7 rule 3)', () => {
  it('gives the root id "v" + 24 hex of the issuing op id', () => {
    const issue = build.voucherIssue({ ledger: LEDGER, issuer: 'c1', to: 's1', amount: 100n, currency: 'CNY', dueDate: '2027-01-01', invoiceIds: ['I'] });
    expect(voucherIdsOf(issue)).toEqual([`v${opIdOf(issue).slice(0, 24)}`]);
  });

  it('gives split children in the order of amounts, from a root and from a child', () => {
    expect(voucherIdsOf(build.voucherSplit({ ledger: LEDGER, voucherId: ROOT, amounts: [60n, 30n, 10n] }))).toEqual([
      `${ROOT}:0-60`,
      `${ROOT}:60-90`,
      `${ROOT}:90-100`,
    ]);
    expect(voucherIdsOf(build.voucherSplit({ ledger: LEDGER, voucherId: `${ROOT}:60-90`, amounts: [10n, 20n] }))).toEqual([`${ROOT}:60-70`, `${ROOT}:70-90`]);
  });

  it('gives [moved, rest] for a partial move; a root needs its current state, a whole move creates nothing', () => {
    const child = build.voucherTransfer({ ledger: LEDGER, voucherId: `${ROOT}:100-200`, to: 'x1', amount: 30n });
    expect(voucherIdsOf(child)).toEqual([`${ROOT}:100-130`, `${ROOT}:130-200`]);
    expect(movedVoucherIdOf(child)).toBe(`${ROOT}:100-130`);
    const ofRoot = build.voucherPledge({ ledger: LEDGER, voucherId: ROOT, bank: 'b1', loanRef: 'L', amount: 30n });
    expect(() => voucherIdsOf(ofRoot)).toThrow(TypeError);
    expect(voucherIdsOf(ofRoot, { id: ROOT, range: { start: '0', end: '100' } })).toEqual([`${ROOT}:0-30`, `${ROOT}:30-100`]);
    expect(() => voucherIdsOf(ofRoot, { id: `${ROOT}:0-1`, range: { start: '0', end: '1' } })).toThrow(TypeError);
    const whole = build.voucherTransfer({ ledger: LEDGER, voucherId: ROOT, to: 'x1' });
    expect(voucherIdsOf(whole)).toEqual([]);
    expect(movedVoucherIdOf(whole)).toBe(ROOT);
    expect(voucherIdsOf(build.voucherAccept({ ledger: LEDGER, voucherId: ROOT }))).toEqual([]);
  });

  it('property: split ids partition the parent range, contiguous and in order', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.array(fc.bigInt({ min: 1n, max: 10n ** 9n }), { minLength: 2, maxLength: 100 }),
        (start, parts) => {
          const end = start + parts.reduce((a, b) => a + b, 0n);
          const parent = start === 0n ? ROOT : `${ROOT}:${start}-${end}`;
          if (start > 0n && end > 10n ** 16n - 1n) return;
          const ids = voucherIdsOf(build.voucherSplit({ ledger: LEDGER, voucherId: parent, amounts: parts }));
          let at = start;
          ids.forEach((id, i) => {
            expect(id).toBe(`${ROOT}:${at}-${at + parts[i]!}`);
            at += parts[i]!;
          });
          expect(at).toBe(end);
        },
      ),
      { numRuns: 200 },
    );
  });
});
