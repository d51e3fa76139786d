import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/ledger/hex.js';
import {
  consistencyProof,
  EMPTY_ROOT,
  hashChildren,
  hashLeaf,
  inclusionProof,
  LEAF_PREFIX,
  MerkleTree,
  NODE_PREFIX,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from '../../src/ledger/merkle.js';
import { ascii, loadVectors } from './helpers.js';

interface Rfc9162Vectors {
  hasher: {
    emptyRoot: string;
    emptyLeafHash: string;
    leaf: { dataAscii: string; hash: string };
    node: { leftAscii: string; rightAscii: string; hash: string };
  };
  leaves: string[];
  roots: string[];
  inclusionProofs: Array<{ index: number; size: number; proof: string[] }>;
  consistencyProofs: Array<{ m: number; n: number; proof: string[] }>;
  probes: {
    someHash: string;
    emptyTreeHash: string;
    inclusionSingleEntry: { dataAscii: string; cases: Array<{ root: string; leaf: string; goAccepts: boolean }> };
    inclusionBadIndexSize: Array<{ index: number; size: number }>;
    consistency: Array<{ m: number; n: number; root1: string; root2: string; proof: string[]; goAccepts: boolean }>;
  };
}
const V = loadVectors<Rfc9162Vectors>('rfc9162.json');
const leafHashes = V.leaves.map((d) => hashLeaf(fromHex(d)));
const roots = V.roots.map((r) => fromHex(r));
const someHash = fromHex(V.probes.someHash);
const hexes = (list: readonly Uint8Array[]): string[] => list.map(toHex);

const tree = new MerkleTree();
for (const h of leafHashes) tree.append(h);

describe('RFC 9162 §2.1 hashing', () => {
  it('prefixes and known answers (transparency-dev rfc6962 tests)', () => {
    expect([LEAF_PREFIX, NODE_PREFIX]).toEqual([0x00, 0x01]);
    expect(toHex(EMPTY_ROOT)).toBe(V.hasher.emptyRoot);
    expect(toHex(hashLeaf(new Uint8Array()))).toBe(V.hasher.emptyLeafHash);
    expect(toHex(hashLeaf(ascii(V.hasher.leaf.dataAscii)))).toBe(V.hasher.leaf.hash);
    expect(toHex(hashChildren(ascii(V.hasher.node.leftAscii), ascii(V.hasher.node.rightAscii)))).toBe(V.hasher.node.hash);
  });

  it('roots of the 8-leaf reference tree for sizes 1..8, by the reference and by MerkleTree', () => {
    for (let size = 1; size <= 8; size++) {
      expect(toHex(rootOf(leafHashes, size))).toBe(V.roots[size - 1]);
      expect(toHex(tree.root(size))).toBe(V.roots[size - 1]);
    }
    expect(toHex(rootOf([]))).toBe(V.hasher.emptyRoot);
    expect(toHex(new MerkleTree().root())).toBe(V.hasher.emptyRoot);
  });
});

/** The corruptions transparency-dev/merkle's verify_test.go applies to each inclusion proof. */
const inclusionProbes = (index: number, size: number, proof: Uint8Array[], root: Uint8Array, leaf: Uint8Array) => {
  const probes: Array<{ desc: string; args: [unknown, unknown, unknown, unknown, unknown] }> = [
    { desc: 'index - 1', args: [leaf, index - 1, size, proof, root] },
    { desc: 'index + 1', args: [leaf, index + 1, size, proof, root] },
    { desc: 'index ^ 2', args: [leaf, index ^ 2, size, proof, root] },
    { desc: 'size * 2', args: [leaf, index, size * 2, proof, root] },
    { desc: 'size / 2', args: [leaf, index, Math.floor(size / 2), proof, root] },
    { desc: 'wrong leaf (not a hash)', args: [ascii('WrongLeaf'), index, size, proof, root] },
    { desc: 'wrong leaf (a hash)', args: [someHash, index, size, proof, root] },
    { desc: 'empty root', args: [leaf, index, size, proof, EMPTY_ROOT] },
    { desc: 'random root', args: [leaf, index, size, proof, someHash] },
    { desc: 'trailing garbage', args: [leaf, index, size, [...proof, new Uint8Array()], root] },
    { desc: 'trailing root', args: [leaf, index, size, [...proof, root], root] },
    { desc: 'preceding garbage', args: [leaf, index, size, [new Uint8Array(), ...proof], root] },
    { desc: 'preceding root', args: [leaf, index, size, [root, ...proof], root] },
  ];
  proof.forEach((_, i) => {
    const bad = proof.map((p) => Uint8Array.from(p));
    bad[i]![0] = bad[i]![0]! ^ 8;
    probes.push({ desc: `modified proof[${i}] bit 3`, args: [leaf, index, size, bad, root] });
  });
  if (proof.length > 0) probes.push({ desc: 'removed component', args: [leaf, index, size, proof.slice(0, -1), root] });
  if (proof.length > 1) {
    probes.push({ desc: 'inserted component', args: [leaf, index, size, [proof[0]!, someHash, ...proof.slice(1)], root] });
  }
  return probes;
};

describe('inclusion proofs (RFC 9162 §2.1.3)', () => {
  it.each(V.inclusionProofs)(
    'leaf $index of size $size: generated proof equals the reference, verifies, and every corruption fails',
    ({ index, size, proof }) => {
      expect(hexes(inclusionProof(leafHashes, index, size))).toEqual(proof);
      expect(hexes(tree.inclusionProof(index, size))).toEqual(proof);
      const p = proof.map((h) => fromHex(h));
      expect(verifyInclusion(leafHashes[index], index, size, p, roots[size - 1])).toEqual({ ok: true });
      for (const probe of inclusionProbes(index, size, p, roots[size - 1]!, leafHashes[index]!)) {
        expect(verifyInclusion(...probe.args), probe.desc).toMatchObject({ ok: false });
      }
    },
  );

  it('coded results say what is wrong', () => {
    const { index, size, proof } = V.inclusionProofs[2]!; // leaf 5 of 8
    const p = proof.map((h) => fromHex(h));
    const root = roots[size - 1]!;
    const leaf = leafHashes[index]!;
    expect(verifyInclusion(leaf, index, size, p.slice(0, -1), root)).toMatchObject({ code: 'BAD_PROOF_LENGTH' });
    expect(verifyInclusion(leaf, index, size, [...p, someHash], root)).toMatchObject({ code: 'BAD_PROOF_LENGTH' });
    expect(verifyInclusion(leaf, index, size, p, someHash)).toMatchObject({ code: 'ROOT_MISMATCH' });
    expect(verifyInclusion(leaf, index, size, [p[0], 'nope', p[2]], root)).toMatchObject({ code: 'BAD_HASH' });
    expect(verifyInclusion(leaf, index, size, 'not an array', root)).toMatchObject({ code: 'BAD_PROOF' });
    expect(verifyInclusion(leaf, size, size, p, root)).toMatchObject({ code: 'BAD_INDEX' });
    expect(verifyInclusion(leaf, index, -1, p, root)).toMatchObject({ code: 'BAD_SIZE' });
    expect(verifyInclusion(leaf, index, 2.5, p, root)).toMatchObject({ code: 'BAD_SIZE' });
    expect(verifyInclusion(leaf, index, 2 ** 53, p, root)).toMatchObject({ code: 'BAD_SIZE' });
    expect(verifyInclusion(leaf, '5', size, p, root)).toMatchObject({ code: 'BAD_INDEX' });
    // Hex strings are accepted as hashes (proofs arrive as JSON).
    expect(verifyInclusion(toHex(leaf), index, size, proof, V.roots[size - 1])).toEqual({ ok: true });
  });

  it('single-entry tree: the leaf hash is the root and the proof is empty (verify_test.go)', () => {
    const hash = hashLeaf(ascii(V.probes.inclusionSingleEntry.dataAscii));
    const pick = (name: string): Uint8Array => (name === 'hash' ? hash : new Uint8Array());
    for (const c of V.probes.inclusionSingleEntry.cases) {
      expect(verifyInclusion(pick(c.leaf), 0, 1, [], pick(c.root)).ok).toBe(c.goAccepts);
    }
  });

  it('impossible index/size pairs fail whatever the hashes (verify_test.go)', () => {
    const empty = fromHex(V.probes.emptyTreeHash);
    for (const { index, size } of V.probes.inclusionBadIndexSize) {
      expect(verifyInclusion(someHash, index, size, [], new Uint8Array()).ok).toBe(false);
      expect(verifyInclusion(new Uint8Array(), index, size, [], empty).ok).toBe(false);
      expect(verifyInclusion(someHash, index, size, [], empty).ok).toBe(false);
    }
  });
});

/** The corruptions verify_test.go applies to each consistency proof. */
const consistencyProbes = (m: number, n: number, root1: Uint8Array, root2: Uint8Array, proof: Uint8Array[]) => {
  const probes: Array<{ desc: string; args: [unknown, unknown, unknown, unknown, unknown] }> = [
    { desc: 'size1 - 1', args: [m - 1, n, proof, root1, root2] },
    { desc: 'size1 + 1', args: [m + 1, n, proof, root1, root2] },
    { desc: 'size1 ^ 2', args: [m ^ 2, n, proof, root1, root2] },
    { desc: 'size2 * 2', args: [m, n * 2, proof, root1, root2] },
    { desc: 'size2 / 2', args: [m, Math.floor(n / 2), proof, root1, root2] },
    { desc: 'wrong root1', args: [m, n, proof, ascii('WrongRoot'), root2] },
    { desc: 'wrong root2', args: [m, n, proof, root1, ascii('WrongRoot')] },
    { desc: 'swapped roots', args: [m, n, proof, root2, root1] },
    { desc: 'empty proof', args: [m, n, [], root1, root2] },
    { desc: 'trailing garbage', args: [m, n, [...proof, new Uint8Array()], root1, root2] },
    { desc: 'trailing root1', args: [m, n, [...proof, root1], root1, root2] },
    { desc: 'trailing root2', args: [m, n, [...proof, root2], root1, root2] },
    { desc: 'preceding garbage', args: [m, n, [new Uint8Array(), ...proof], root1, root2] },
    { desc: 'preceding root1', args: [m, n, [root1, ...proof], root1, root2] },
    { desc: 'preceding root2', args: [m, n, [root2, ...proof], root1, root2] },
    { desc: 'preceding proof[0]', args: [m, n, [proof[0]!, ...proof], root1, root2] },
  ];
  if (proof.length > 0) probes.push({ desc: 'truncated proof', args: [m, n, proof.slice(0, -1), root1, root2] });
  proof.forEach((_, i) => {
    const bad = proof.map((p) => Uint8Array.from(p));
    bad[i]![0] = bad[i]![0]! ^ 16;
    probes.push({ desc: `modified proof[${i}] bit 4`, args: [m, n, bad, root1, root2] });
  });
  return probes;
};

describe('consistency proofs (RFC 9162 §2.1.4)', () => {
  it.each(V.consistencyProofs)('$m → $n: generated proof equals the reference, verifies, and every corruption fails', ({ m, n, proof }) => {
    expect(hexes(consistencyProof(leafHashes, m, n))).toEqual(proof);
    expect(hexes(tree.consistencyProof(m, n))).toEqual(proof);
    const p = proof.map((h) => fromHex(h));
    expect(verifyConsistency(m, n, p, roots[m - 1], roots[n - 1])).toEqual({ ok: true });
    if (p.length === 0) return; // m = n: covered by the probes table below
    for (const probe of consistencyProbes(m, n, roots[m - 1]!, roots[n - 1]!, p)) {
      expect(verifyConsistency(...probe.args), probe.desc).toMatchObject({ ok: false });
    }
  });

  it('edge probes of verify_test.go: ours refuses every row (roots must be 32-byte hashes)', () => {
    const named = (name: string): Uint8Array =>
      name === 'emptyTreeHash' ? fromHex(V.probes.emptyTreeHash) : name === 'dontCare1' ? ascii("don't care 1") : ascii("don't care 2");
    for (const row of V.probes.consistency) {
      const result = verifyConsistency(row.m, row.n, row.proof.map(named), named(row.root1), named(row.root2));
      expect(result.ok, JSON.stringify(row)).toBe(false);
    }
  });

  it('the rows Go accepts, with real hashes: size 0 needs the empty root, equal sizes equal roots, and an empty proof', () => {
    const h = roots[0]!;
    expect(verifyConsistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)).toEqual({ ok: true });
    expect(verifyConsistency(0, 1, [], EMPTY_ROOT, h)).toEqual({ ok: true });
    expect(verifyConsistency(1, 1, [], h, h)).toEqual({ ok: true });
    expect(verifyConsistency(0, 1, [], h, h)).toMatchObject({ code: 'ROOT_MISMATCH' }); // Go accepts any root1 here
    expect(verifyConsistency(1, 1, [], h, roots[1])).toMatchObject({ code: 'ROOT_MISMATCH' });
    expect(verifyConsistency(1, 1, [EMPTY_ROOT], h, h)).toMatchObject({ code: 'BAD_PROOF_LENGTH' });
    expect(verifyConsistency(0, 1, [EMPTY_ROOT], EMPTY_ROOT, h)).toMatchObject({ code: 'BAD_PROOF_LENGTH' });
    expect(verifyConsistency(2, 1, [], h, h)).toMatchObject({ code: 'BAD_SIZE' });
    expect(verifyConsistency(1, 2, [], h, roots[1])).toMatchObject({ code: 'BAD_PROOF_LENGTH' });
  });
});
