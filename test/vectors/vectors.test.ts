/**
 * Our own vectors (test/vectors/rvl-v1.json), checked two ways: the generator still writes exactly
 * the committed bytes, and every value in the file is recomputed here with the other
 * implementation where there is one (node:crypto for hashes and Ed25519, noble in the generator).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { vectorsText } from '../../scripts/gen-vectors.js';
import { MemoryState, decide, parseOp, voucherToWire } from '../../src/domain/index.js';
import { checkpointText, keyId, verifyCheckpoint } from '../../src/ledger/checkpoint.js';
import { verify } from '../../src/ledger/ed25519.js';
import { signNode, verifyNode } from '../../src/ledger/node/ed25519-node.js';
import { fromHex, toHex } from '../../src/ledger/hex.js';
import { canonicalize } from '../../src/ledger/jcs.js';
import { verifyConsistency, verifyInclusion } from '../../src/ledger/merkle.js';

const FILE = new URL('./rvl-v1.json', import.meta.url);
const text = readFileSync(FILE, 'utf8');
interface Vectors {
  ledgerId: string;
  nodeKey: { seed: string; publicKey: string };
  parties: Record<string, { seed: string; publicKey: string }>;
  ops: {
    payload: unknown;
    canonicalPayload: string;
    preimageHex: string;
    opId: string;
    envelope: { payload: unknown; signatures: { signer: string; sig: string }[] };
    effects: unknown;
  }[];
  refusals: { envelope: unknown; code: string; atSeq: number; time: string }[];
  entries: { entry: { seq: number; prev: string; time: string; op: unknown }; canonical: string; hash: string }[];
  merkle: {
    roots: string[];
    inclusion: { index: number; size: number; leaf: string; root: string; proof: string[] }[];
    consistency: { from: number; to: number; rootFrom: string; rootTo: string; proof: string[] }[];
  };
  checkpoint: { origin: string; keyIdHex: string; text: string; note: string; nodePublicKey: string };
  finalState: { vouchers: unknown[]; parties: unknown[]; usedInvoices: string[] };
}
const v = JSON.parse(text) as Vectors;

const sha256 = (...parts: (string | Uint8Array)[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};
const hashes = (xs: string[]) => xs.map((x) => fromHex(x));

describe('our vectors, test/vectors/rvl-v1.json', () => {
  it('are exactly what scripts/gen-vectors.ts writes (deterministic and up to date)', () => {
    expect(vectorsText()).toBe(text);
  });

  it('hold canonical payloads, preimages and op ids that node:crypto recomputes', () => {
    expect(v.ops.length).toBeGreaterThanOrEqual(15);
    for (const op of v.ops) {
      expect(canonicalize(op.payload)).toBe(op.canonicalPayload);
      expect(op.preimageHex).toBe(Buffer.from(`rvl/op/v1\n${op.canonicalPayload}`, 'utf8').toString('hex'));
      expect(sha256(Buffer.from(op.preimageHex, 'hex'))).toBe(op.opId);
    }
  });

  it('hold signatures that both Ed25519 implementations verify and node:crypto reproduces', () => {
    for (const op of v.ops) {
      const preimage = Buffer.from(op.preimageHex, 'hex');
      for (const { signer, sig } of op.envelope.signatures) {
        const party = v.parties[signer];
        expect(party, signer).toBeDefined();
        if (!party) continue;
        expect(verify(party.publicKey, preimage, sig)).toBe(true);
        expect(verifyNode(party.publicKey, preimage, sig)).toBe(true);
        expect(signNode(party.seed, preimage)).toBe(sig);
      }
    }
  });

  it('hold a hash chain: each entry hash is SHA-256(0x00 ‖ canonical), and prev links', () => {
    let prev = '0'.repeat(64);
    v.entries.forEach((e, seq) => {
      expect(e.entry.seq).toBe(seq);
      expect(canonicalize(e.entry)).toBe(e.canonical);
      expect(sha256(Uint8Array.of(0), Buffer.from(e.canonical, 'utf8'))).toBe(e.hash);
      expect(e.entry.prev).toBe(prev);
      prev = e.hash;
    });
    expect(v.entries[0]?.hash).toBe(v.ledgerId);
  });

  it('hold Merkle roots of every prefix, recomputed from the leaves by the RFC 9162 definition', () => {
    const leaves = v.entries.map((e) => Buffer.from(e.hash, 'hex'));
    const mth = (xs: Buffer[]): string => {
      if (xs.length === 0) return sha256('');
      if (xs.length === 1) return (xs[0] as Buffer).toString('hex');
      let k = 1;
      while (k * 2 < xs.length) k *= 2;
      return sha256(Uint8Array.of(1), Buffer.from(mth(xs.slice(0, k)), 'hex'), Buffer.from(mth(xs.slice(k)), 'hex'));
    };
    v.merkle.roots.forEach((root, size) => expect(root).toBe(mth(leaves.slice(0, size))));
  });

  it('hold inclusion and consistency proofs that verify, and fail for the wrong root', () => {
    for (const p of v.merkle.inclusion) {
      expect(verifyInclusion(fromHex(p.leaf), p.index, p.size, hashes(p.proof), fromHex(p.root)).ok).toBe(true);
      const other = v.merkle.roots[p.size - 1] ?? v.merkle.roots[1] ?? '';
      if (other !== p.root) expect(verifyInclusion(fromHex(p.leaf), p.index, p.size, hashes(p.proof), fromHex(other)).ok).toBe(false);
    }
    for (const p of v.merkle.consistency) {
      expect(verifyConsistency(p.from, p.to, hashes(p.proof), fromHex(p.rootFrom), fromHex(p.rootTo)).ok).toBe(true);
    }
  });

  it('hold a signed checkpoint over the whole log that both verifiers accept', () => {
    const size = v.entries.length;
    const root = v.merkle.roots[size] ?? '';
    expect(v.checkpoint.text).toBe(checkpointText({ ledgerId: v.ledgerId, size, root }));
    expect(v.checkpoint.text).toBe(`rvl/${v.ledgerId}\n${size}\n${Buffer.from(root, 'hex').toString('base64')}\n`);
    expect(v.checkpoint.keyIdHex).toBe(toHex(keyId(v.checkpoint.origin, v.nodeKey.publicKey)));
    expect(v.checkpoint.keyIdHex).toBe(
      sha256(Buffer.from(v.checkpoint.origin, 'utf8'), Uint8Array.of(0x0a, 0x01), Buffer.from(v.nodeKey.publicKey, 'hex')).slice(0, 8),
    );
    for (const verifyFn of [verify, verifyNode]) {
      const r = verifyCheckpoint(v.checkpoint.note, { ledgerId: v.ledgerId, nodePublicKey: v.nodeKey.publicKey, verify: verifyFn });
      expect(r.ok && r.size === size && r.root === root).toBe(true);
    }
  });

  it('replay under the §7 rules to the recorded effects, refusals and final state', () => {
    const state = new MemoryState({ operatorPublicKey: v.parties.operator?.publicKey ?? '' });
    const decideAt = (envelope: unknown, seq: number, time: string) => {
      const parsed = parseOp(envelope);
      if (!parsed.ok) throw new Error(`a vector envelope does not parse: ${parsed.detail}`);
      const preimage = Buffer.from(`rvl/op/v1\n${canonicalize((envelope as { payload: unknown }).payload)}`, 'utf8');
      return decide(state, parsed.op, {
        ledgerId: v.ledgerId,
        currency: 'CNY',
        maxTenorDays: 365,
        seq,
        time,
        opId: sha256(preimage),
        nodeKey: v.nodeKey.publicKey,
        verifySignature: (pk, sig) => verifyNode(pk, preimage, sig),
      });
    };
    const checkRefusalsAt = (seq: number) => {
      for (const r of v.refusals.filter((x) => x.atSeq === seq)) {
        const d = decideAt(r.envelope, r.atSeq, r.time);
        expect(d.ok ? 'ok' : d.code).toBe(r.code);
      }
    };
    v.entries.slice(1).forEach((e, i) => {
      checkRefusalsAt(e.entry.seq);
      const decision = decideAt(e.entry.op, e.entry.seq, e.entry.time);
      expect(decision.ok).toBe(true);
      if (!decision.ok) return;
      expect({ vouchers: decision.effects.vouchers.map(voucherToWire), parties: decision.effects.parties }).toEqual(v.ops[i]?.effects);
      state.apply(decision.effects);
    });
    checkRefusalsAt(v.entries.length);
    expect(state.allVouchers().map(voucherToWire)).toEqual(v.finalState.vouchers);
    expect(state.allParties()).toEqual(v.finalState.parties);
    expect(state.usedInvoices()).toEqual(v.finalState.usedInvoices);
    expect(v.refusals.map((r) => r.code)).toEqual(['VOUCHER_PLEDGED', 'OP_EXPIRED']);
  });
});
