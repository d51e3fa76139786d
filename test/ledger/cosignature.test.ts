/**
 * Witness cosignatures (src/ledger/cosignature.ts), C2SP tlog-cosignature v1 and vkeys: the key
 * ID, the signed message and the line layout computed independently with node:crypto, the spec's
 * own examples where they are byte-exact, a quorum policy, and both Ed25519 implementations.
 */
import { createHash, createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signCheckpoint } from '../../src/ledger/checkpoint.js';
import { checkCosignatures, cosign, cosignedMessage, cosignerKeyId, parseWitnessVkey, witnessVkey, type Witness } from '../../src/ledger/cosignature.js';
import { publicKeyFromSeed } from '../../src/ledger/ed25519.js';
import { signNode, verifyNode } from '../../src/ledger/node/ed25519-node.js';
import { seedFor } from '../support/world.js';

const LEDGER = 'ab'.repeat(32);
const NODE_SEED = seedFor('cosig-node');
const note = (size: number, rootByte = 7) => signCheckpoint({ ledgerId: LEDGER, size, root: new Uint8Array(32).fill(rootByte) }, NODE_SEED);
const textOf = (n: string): string => n.slice(0, n.lastIndexOf('\n\n') + 1);

const witness = (name: string): Witness & { seed: string } => {
  const seed = seedFor(`witness:${name}`);
  return { name, seed, publicKey: publicKeyFromSeed(seed) };
};
const icbc = witness('witness.icbc.example/w1');
const cmb = witness('witness.cmb.example/w1');
const audit = witness('witness.audit.example/w1');
const policy = { witnesses: [icbc, cmb, audit], quorum: 2 };

const spki = (publicKeyHex: string) =>
  createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(publicKeyHex, 'hex')]), format: 'der', type: 'spki' });

describe('tlog-cosignature v1 (Ed25519)', () => {
  it('the key ID is SHA-256(name ‖ 0x0A ‖ 0x04 ‖ key)[:4], and the line is key ID ‖ u64 BE time ‖ a signature over the cosigned message', () => {
    const n = note(42);
    const line = cosign(textOf(n), icbc.name, icbc.seed, 1_765_000_000);
    expect(line.startsWith(`— ${icbc.name} `)).toBe(true);
    expect(line.endsWith('\n')).toBe(true);
    const bytes = Buffer.from(line.slice(`— ${icbc.name} `.length, -1), 'base64');
    expect(bytes.length).toBe(4 + 8 + 64);
    const id = createHash('sha256')
      .update(Buffer.concat([Buffer.from(`${icbc.name}\n`), Buffer.from([0x04]), Buffer.from(icbc.publicKey, 'hex')]))
      .digest()
      .subarray(0, 4);
    expect(bytes.subarray(0, 4)).toEqual(id);
    expect(Buffer.from(cosignerKeyId(icbc.name, icbc.publicKey))).toEqual(id);
    expect(bytes.readBigUInt64BE(4)).toBe(1_765_000_000n);
    const message = Buffer.from(`cosignature/v1\ntime 1765000000\n${textOf(n)}`);
    expect(Buffer.from(cosignedMessage(textOf(n), 1_765_000_000))).toEqual(message);
    expect(cryptoVerify(null, message, spki(icbc.publicKey), bytes.subarray(12))).toBe(true);
    // The same line whichever Ed25519 signs (deterministic signatures).
    expect(cosign(textOf(n), icbc.name, icbc.seed, 1_765_000_000, signNode, icbc.publicKey)).toBe(line);
  });

  it('lays out the timestamp as the spec example does (time 1679315147 after the key ID)', () => {
    // c2sp.org/tlog-cosignature: "— witness.example.com/w1 jWbPPwAAAABkGFDL…" for time 1679315147.
    const example = Buffer.from('jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==', 'base64');
    expect(example.length).toBe(76);
    expect(example.readBigUInt64BE(4)).toBe(1_679_315_147n);
    const ours = Buffer.from(
      cosign(textOf(note(1)), icbc.name, icbc.seed, 1_679_315_147)
        .split(' ')[2]!
        .trim(),
      'base64',
    );
    expect(ours.subarray(4, 12)).toEqual(example.subarray(4, 12));
  });

  it('a quorum of two of three: accepted with two, names who signed and who did not; refused with one', () => {
    const n = note(10);
    const text = textOf(n);
    const two = n + cosign(text, icbc.name, icbc.seed, 1_765_000_001) + cosign(text, audit.name, audit.seed, 1_765_000_002);
    const ok = checkCosignatures(two, policy);
    expect(ok).toEqual({
      ok: true,
      signed: [
        { name: icbc.name, timestamp: 1_765_000_001 },
        { name: audit.name, timestamp: 1_765_000_002 },
      ],
      missing: [cmb.name],
    });
    expect(checkCosignatures(two, policy, verifyNode)).toEqual(ok);
    const one = n + cosign(text, cmb.name, cmb.seed, 1_765_000_003);
    const refused = checkCosignatures(one, policy);
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.code).toBe('QUORUM_NOT_MET');
      expect(refused.detail).toContain(`signed by ${cmb.name}`);
      expect(refused.detail).toContain(icbc.name);
      expect(refused.detail).toContain(audit.name);
    }
  });

  it('ignores cosignatures of unknown witnesses; a known witness’s line that does not verify fails the check', () => {
    const n = note(10);
    const text = textOf(n);
    const stranger = witness('witness.unknown.example/w9');
    const good = cosign(text, icbc.name, icbc.seed, 5) + cosign(text, cmb.name, cmb.seed, 6);
    expect(checkCosignatures(n + cosign(text, stranger.name, stranger.seed, 7) + good, policy).ok).toBe(true);
    // A stranger using a known witness's name (another key ID) is ignored too.
    expect(checkCosignatures(n + cosign(text, icbc.name, stranger.seed, 7) + good, policy).ok).toBe(true);
    // A known line with one bit changed in its signature, or its time: refused.
    const line = cosign(text, audit.name, audit.seed, 8);
    const raw = Buffer.from(line.split(' ')[2]!.trim(), 'base64');
    for (const at of [5, 20, 75]) {
      const bad = Buffer.from(raw);
      bad[at]! ^= 1;
      const forged = `— ${audit.name} ${bad.toString('base64')}\n`;
      const r = checkCosignatures(n + good + forged, policy);
      expect(r.ok ? 'accepted' : r.code).toBe('BAD_COSIGNATURE');
    }
  });

  it('a cosignature of one checkpoint does not carry over to another of the same size (a split view)', () => {
    const honest = note(20, 1);
    const forked = note(20, 2);
    const lines = cosign(textOf(honest), icbc.name, icbc.seed, 9) + cosign(textOf(honest), cmb.name, cmb.seed, 9);
    expect(checkCosignatures(honest + lines, policy).ok).toBe(true);
    const moved = checkCosignatures(forked + lines, policy);
    expect(moved.ok ? 'accepted' : moved.code).toBe('BAD_COSIGNATURE');
  });

  it('refuses a policy whose quorum is out of range, and a malformed note', () => {
    for (const quorum of [0, 4, 1.5]) expect(checkCosignatures(note(1), { witnesses: policy.witnesses, quorum }).ok).toBe(false);
    const r = checkCosignatures('not a note', policy);
    expect(r.ok ? 'accepted' : r.code).toBe('BAD_NOTE');
  });
});

describe('witness vkeys', () => {
  it('round-trips, and refuses a vkey of another type (the signed-note example is a 0x01 note key)', () => {
    const vkey = witnessVkey(icbc);
    expect(vkey.startsWith(`${icbc.name}+${Buffer.from(cosignerKeyId(icbc.name, icbc.publicKey)).toString('hex')}+`)).toBe(true);
    expect(parseWitnessVkey(vkey)).toEqual({ ok: true, name: icbc.name, publicKey: icbc.publicKey });
    // Keys whose base64 holds '+' (the separator) round-trip too.
    const many = Array.from({ length: 40 }, (_, i) => witness(`w${i}.example/w`));
    const plus = many.filter((w) => witnessVkey(w).split('+').length > 3);
    expect(plus.length).toBeGreaterThan(0);
    for (const w of many) expect(parseWitnessVkey(witnessVkey(w))).toEqual({ ok: true, name: w.name, publicKey: w.publicKey });
    const example = parseWitnessVkey('example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k');
    expect(example.ok ? 'accepted' : example.detail).toMatch(/type 0x01/);
  });

  it('refuses a wrong key ID, a bad name, bad base64 and the wrong length', () => {
    const [name, id, key] = witnessVkey(cmb).split('+') as [string, string, string];
    const otherId = id === '00000000' ? '00000001' : '00000000';
    for (const bad of [
      `${name}+${otherId}+${key}`,
      `bad name+${id}+${key}`,
      `${name}+${id.toUpperCase()}+${key}`,
      `${name}+${id}+${key}!`,
      `${name}+${id}+${key.slice(0, 20)}`,
      `${name}+${id}`,
      '',
    ]) {
      const r = parseWitnessVkey(bad);
      expect(r.ok ? 'accepted' : r.code, bad).toBe('BAD_VKEY');
    }
  });
});
