/** The two SHA-256 implementations behind `sha256` agree, and installing one changes no result. */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { installSha256, nobleSha256Of, sha256, sha256Hex } from '../../src/ledger/sha256.js';
import { nodeSha256Of } from '../../src/ledger/node/sha256-node.js';

describe('sha256 implementations', () => {
  afterAll(() => installSha256(nobleSha256Of));

  it('agree on any split of any input', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 4 }), (parts) => {
        expect(Buffer.from(nodeSha256Of(parts))).toEqual(Buffer.from(nobleSha256Of(parts)));
      }),
      { numRuns: 500 },
    );
  });

  it('gives the FIPS 180-2 value for "abc" whichever is installed', () => {
    const abc = new TextEncoder().encode('abc');
    const want = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    installSha256(nodeSha256Of);
    expect(sha256Hex(abc)).toBe(want);
    installSha256(nobleSha256Of);
    expect(sha256Hex(abc)).toBe(want);
    expect(sha256().length).toBe(32);
  });
});
