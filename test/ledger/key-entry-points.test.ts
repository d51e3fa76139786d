/**
 * Every place a public key enters refuses a mixed-order key (an honest key plus a point of small
 * order), as it refuses a small-order one (docs/protocol.md §3 and "Decisions where the contract
 * is silent"): the op schema, LEDGER_OPERATOR_PUBLIC_KEY, key files, the checkpoint tracker's
 * node key. Each is checked beside the honest key it was made from, which passes.
 */
import * as ed from '@noble/ed25519';
import { describe, expect, it } from 'vitest';
import { SMALL_ORDER } from './helpers.js';
import { CheckpointTracker, TrustError } from '../../src/client/trust.js';
import { KeyFileError, generateKeyFile, parseKeyFile } from '../../src/client/keys.js';
import { parseOp } from '../../src/domain/schema.js';
import { publicKeyFromSeed, generateSeed } from '../../src/ledger/ed25519.js';
import { fromHex } from '../../src/ledger/hex.js';
import { ConfigError, readConfig } from '../../src/service/config.js';

/** The 7 small-order points other than the identity; an honest key plus any one is mixed-order. */
const TORSION = SMALL_ORDER.slice(1).map((hex) => ed.Point.fromBytes(fromHex(hex)));

const honest = publicKeyFromSeed(generateSeed());
const mixedKeys = TORSION.map((t) => ed.Point.fromBytes(fromHex(honest)).add(t).toHex());
const LEDGER_ID = 'ab'.repeat(32);

const registerOp = (publicKey: string) => ({
  payload: { type: 'party.register', ledger: LEDGER_ID, nonce: 'nonce-0001', party: { id: 'p1', name: 'P', role: 'supplier', publicKey } },
  signatures: [{ signer: 'operator', sig: '00'.repeat(64) }],
});
const updateOp = (publicKey: string) => ({
  payload: { type: 'party.update', ledger: LEDGER_ID, nonce: 'nonce-0001', partyId: 'p1', publicKey },
  signatures: [{ signer: 'operator', sig: '00'.repeat(64) }],
});

describe('a mixed-order public key is refused wherever a key enters', () => {
  it('party.register and party.update: MALFORMED_REQUEST', () => {
    expect(parseOp(registerOp(honest)).ok).toBe(true);
    expect(parseOp(updateOp(honest)).ok).toBe(true);
    for (const key of mixedKeys) {
      expect(parseOp(registerOp(key))).toMatchObject({ ok: false, code: 'MALFORMED_REQUEST' });
      expect(parseOp(updateOp(key))).toMatchObject({ ok: false, code: 'MALFORMED_REQUEST' });
    }
  });

  it('LEDGER_OPERATOR_PUBLIC_KEY: the configuration is refused, naming the variable', () => {
    expect(readConfig({ LEDGER_OPERATOR_PUBLIC_KEY: honest }).operatorPublicKey).toBe(honest);
    for (const key of mixedKeys) {
      expect(() => readConfig({ LEDGER_OPERATOR_PUBLIC_KEY: key })).toThrowError(ConfigError);
      expect(() => readConfig({ LEDGER_OPERATOR_PUBLIC_KEY: key })).toThrowError(/LEDGER_OPERATOR_PUBLIC_KEY/);
    }
  });

  it('a key file whose publicKey is mixed-order: BAD_PUBLIC_KEY', () => {
    const file = generateKeyFile('p1');
    expect(parseKeyFile(JSON.stringify(file)).publicKey).toBe(file.publicKey);
    const mixed = ed.Point.fromBytes(fromHex(file.publicKey)).add(TORSION[5]!).toHex();
    expect(() => parseKeyFile(JSON.stringify({ ...file, publicKey: mixed }))).toThrowError(expect.objectContaining({ code: 'BAD_PUBLIC_KEY' }) as KeyFileError);
  });

  it('the checkpoint tracker: a mixed-order node key is refused', () => {
    expect(new CheckpointTracker({ ledgerId: LEDGER_ID, nodeKey: honest }).nodeKey).toBe(honest);
    for (const key of mixedKeys) {
      expect(() => new CheckpointTracker({ ledgerId: LEDGER_ID, nodeKey: key })).toThrowError(TrustError);
    }
  });
});
