import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex } from '../../src/ledger/hex.js';
import { OP_DOMAIN, opId, opPreimage } from '../../src/ledger/op.js';
import { sha256, sha256Hex } from '../../src/ledger/sha256.js';
import { ascii, expectLedgerError } from './helpers.js';

const nodeSha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

describe('sha256 (portable)', () => {
  it('FIPS 180-2 known answers: "abc" and the empty string', () => {
    expect(sha256Hex(ascii('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex()).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('hashes the concatenation of its parts, as node:crypto does (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 70 }), { maxLength: 5 }), (parts) => toHex(sha256(...parts)) === nodeSha256(concatBytes(...parts))),
    );
  });
});

describe('op preimage and opId (docs/protocol.md §3)', () => {
  const payload = {
    type: 'voucher.transfer',
    ledger: 'ab'.repeat(32),
    nonce: 'k3J9x0Qm2',
    expiresAt: '2026-11-29T00:00:00.000Z',
    voucherId: 'v0123456789abcdef01234567',
    to: 'chen-electronics',
  };
  // Written by hand from RFC 8785's rules, not produced by our canonicalizer.
  const jcsText =
    '{"expiresAt":"2026-11-29T00:00:00.000Z","ledger":"' +
    'ab'.repeat(32) +
    '","nonce":"k3J9x0Qm2","to":"chen-electronics","type":"voucher.transfer","voucherId":"v0123456789abcdef01234567"}';

  it('the preimage is "rvl/op/v1\\n" followed by JCS(payload)', () => {
    expect(OP_DOMAIN).toBe('rvl/op/v1\n');
    expect(new TextDecoder().decode(opPreimage(payload))).toBe(`rvl/op/v1\n${jcsText}`);
  });

  it('opId is the hex SHA-256 of the preimage (checked with node:crypto)', () => {
    expect(opId(payload)).toBe(nodeSha256(`rvl/op/v1\n${jcsText}`));
    expect(opId(payload)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not depend on member order, and changes with any field', () => {
    const reordered = Object.fromEntries(Object.entries(payload).reverse());
    expect(opId(reordered)).toBe(opId(payload));
    expect(opId({ ...payload, nonce: 'k3J9x0Qm3' })).not.toBe(opId(payload));
    expect(opId({ ...payload, extra: null })).not.toBe(opId(payload));
  });

  it('an absent optional field hashes like its wire form (undefined members are left out)', () => {
    const { expiresAt: _dropped, ...withoutExpiry } = payload;
    expect(opId({ ...withoutExpiry, expiresAt: undefined })).toBe(opId(JSON.parse(JSON.stringify(withoutExpiry))));
  });

  it('refuses payloads that are not JSON with BAD_JSON_VALUE', () => {
    expectLedgerError(() => opId({ ...payload, amount: 100n }), 'BAD_JSON_VALUE');
    expectLedgerError(() => opPreimage({ ...payload, memo: '\ud800' }), 'BAD_JSON_VALUE');
  });
});
