import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/ledger/hex.js';
import {
  consistencyProof,
  consistencyProofFromSource,
  EMPTY_ROOT,
  hashChildren,
  hashLeaf,
  inclusionProof,
  inclusionProofFromSource,
  LEAF_PREFIX,
  MerkleTree,
  nodesCompletedByAppend,
  rootFromSource,
  rootOf,
  verifyConsistency,
  verifyInclusion,
  type NodeSource,
} from '../../src/ledger/merkle.js';
import { LEDGER_LIMITS } from '../../src/ledger/limits.js';
import { expectLedgerError, flipBit } from './helpers.js';

const leafOf = (i: number): Uint8Array => hashLeaf(new TextEncoder().encode(`entry ${i}`));
const N = 70;
const leaves = Array.from({ length: N }, (_, i) => leafOf(i));
const tree = new MerkleTree();
const rootsWhenAppended: string[] = [toHex(tree.root())];
for (const h of leaves) {
  tree.append(h);
  rootsWhenAppended.push(toHex(tree.root()));
}
const hexes = (list: readonly Uint8Array[]): string[] => list.map(toHex);

describe('MerkleTree against the literal RFC 9162 recursions, every prefix of 70 leaves', () => {
  it('root(size) for every size 0..70, also as seen right after each append', () => {
    for (let size = 0; size <= N; size++) {
      expect(toHex(tree.root(size))).toBe(toHex(rootOf(leaves, size)));
      expect(rootsWhenAppended[size]).toBe(toHex(rootOf(leaves, size)));
    }
  });

  it('inclusionProof(index, size) for every size and index: equal, and it verifies', () => {
    for (let size = 1; size <= N; size++) {
      const root = rootOf(leaves, size);
      for (let index = 0; index < size; index++) {
        const proof = tree.inclusionProof(index, size);
        expect(hexes(proof)).toEqual(hexes(inclusionProof(leaves, index, size)));
        expect(verifyInclusion(leaves[index], index, size, proof, root).ok).toBe(true);
      }
    }
  });

  it('consistencyProof(m, n) for every 0 ≤ m ≤ n ≤ 70: equal, and it verifies', () => {
    const roots = Array.from({ length: N + 1 }, (_, s) => rootOf(leaves, s));
    for (let n = 0; n <= N; n++) {
      for (let m = 0; m <= n; m++) {
        const proof = tree.consistencyProof(m, n);
        expect(hexes(proof)).toEqual(hexes(consistencyProof(leaves, m, n)));
        expect(verifyConsistency(m, n, proof, roots[m], roots[n]).ok).toBe(true);
      }
    }
  });

  it('nodesCompletedByAppend reports exactly the stored complete nodes', () => {
    const t = new MerkleTree();
    for (let i = 0; i < 16; i++) {
      const nodes = nodesCompletedByAppend(i, leaves[i]!, (l, j) => t.node(l, j));
      t.append(leaves[i]!);
      for (const { level, index, hash } of nodes) expect(toHex(t.node(level, index))).toBe(toHex(hash));
      // Leaf i completes one node per trailing 1-bit of i, plus the leaf itself.
      expect(nodes).toHaveLength(1 + (i.toString(2).match(/1*$/)?.[0].length ?? 0));
    }
    expect(toHex(t.node(4, 0))).toBe(toHex(rootOf(leaves, 16)));
  });

  it('refuses impossible requests with coded errors', () => {
    expectLedgerError(() => tree.inclusionProof(N, N), 'BAD_INDEX');
    expectLedgerError(() => tree.inclusionProof(0, N + 1), 'BAD_SIZE');
    expectLedgerError(() => tree.consistencyProof(5, 4), 'BAD_SIZE');
    expectLedgerError(() => tree.root(-1), 'BAD_SIZE');
    expectLedgerError(() => tree.node(1, 35), 'BAD_INDEX'); // leaves 70, 71 do not exist
    expectLedgerError(() => new MerkleTree().append(new Uint8Array(31)), 'BAD_HASH');
    expectLedgerError(() => inclusionProof(leaves, 0, 0), 'BAD_INDEX');
  });
});

/** A tree of 2^53 − 1 identical leaves whose nodes are computed per level, counting lookups. */
class UniformTree implements NodeSource {
  lookups = 0;
  readonly #levels: Uint8Array[] = [leafOf(0)];
  constructor(readonly size: number) {
    for (let l = 1; l < 54; l++) this.#levels.push(hashChildren(this.#levels[l - 1]!, this.#levels[l - 1]!));
  }
  leafCount(): number {
    return this.size;
  }
  node(level: number, index: number): Uint8Array {
    this.lookups++;
    if ((index + 1) * 2 ** level > this.size) throw new Error(`incomplete node ${level}/${index}`);
    return this.#levels[level]!;
  }
}

describe('stored trees: O(log n) node lookups, sizes up to 2^53 − 1', () => {
  const bits = (n: number): number => n.toString(2).length;
  const huge = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });

  it('root, inclusion and consistency proofs need at most 2·log2(n) + 2 lookups, and verify (property)', () => {
    fc.assert(
      fc.property(huge, fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (n, a, b) => {
        const source = new UniformTree(n);
        const index = Math.min(n - 1, Math.floor(a * n));
        const m = Math.min(n, Math.floor(b * (n + 1)));
        const limit = 2 * bits(n) + 2;

        source.lookups = 0;
        const root = rootFromSource(source, n);
        expect(source.lookups).toBeLessThanOrEqual(bits(n));

        source.lookups = 0;
        const proof = inclusionProofFromSource(source, index, n);
        expect(source.lookups).toBeLessThanOrEqual(limit);
        expect(verifyInclusion(source.node(0, 0), index, n, proof, root)).toEqual({ ok: true });

        source.lookups = 0;
        const cproof = consistencyProofFromSource(source, m, n);
        expect(source.lookups).toBeLessThanOrEqual(limit);
        expect(verifyConsistency(m, n, cproof, rootFromSource(source, m), root)).toEqual({ ok: true });
        expect(cproof.length).toBeLessThanOrEqual(LEDGER_LIMITS.proofHashesMax);
      }),
      { numRuns: 200 },
    );
  });

  it('the largest tree, 2^53 − 1 leaves: first and last leaf', () => {
    const n = Number.MAX_SAFE_INTEGER;
    const source = new UniformTree(n);
    const root = rootFromSource(source, n);
    const leaf = source.node(0, 0);
    const first = inclusionProofFromSource(source, 0, n);
    expect(first).toHaveLength(53); // ceil(log2(n))
    expect(verifyInclusion(leaf, 0, n, first, root)).toEqual({ ok: true });
    const last = inclusionProofFromSource(source, n - 1, n);
    expect(last).toHaveLength(52); // one sibling per complete subtree to its left
    expect(verifyInclusion(leaf, n - 1, n, last, root)).toEqual({ ok: true });
    expect(verifyInclusion(leaf, n - 2, n, last, root)).toMatchObject({ ok: false });
    expect(verifyInclusion(leaf, n, n, last, root)).toMatchObject({ code: 'BAD_INDEX' });
  });
});

describe('verifier properties (fast-check, a 200-leaf tree)', () => {
  const big = new MerkleTree();
  const bigLeaves = Array.from({ length: 200 }, (_, i) => leafOf(1000 + i));
  for (const h of bigLeaves) big.append(h);
  const sizeAndIndex = fc.integer({ min: 1, max: 200 }).chain((size) => fc.tuple(fc.constant(size), fc.nat(size - 1)));
  const sizePair = fc.integer({ min: 1, max: 200 }).chain((n) => fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n)));

  it('every inclusion proof verifies; any single flipped bit of a proof element, the leaf or the root fails', () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.nat(), fc.nat(255), ([size, index], pick, bit) => {
        const proof = big.inclusionProof(index, size);
        const root = big.root(size);
        const leaf = bigLeaves[index]!;
        expect(verifyInclusion(leaf, index, size, proof, root)).toEqual({ ok: true });
        expect(verifyInclusion(flipBit(leaf, bit), index, size, proof, root)).toMatchObject({ code: 'ROOT_MISMATCH' });
        expect(verifyInclusion(leaf, index, size, proof, flipBit(root, bit))).toMatchObject({ code: 'ROOT_MISMATCH' });
        if (proof.length > 0) {
          const i = pick % proof.length;
          const bad = proof.map((p, j) => (j === i ? flipBit(p, bit) : p));
          expect(verifyInclusion(leaf, index, size, bad, root)).toMatchObject({ code: 'ROOT_MISMATCH' });
        }
      }),
      { numRuns: 300 },
    );
  });

  it("a wrong index, or a wrong size with that size's own root, fails", () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.nat(199), fc.integer({ min: 1, max: 200 }), ([size, index], otherIndex, otherSize) => {
        const proof = big.inclusionProof(index, size);
        const leaf = bigLeaves[index]!;
        if (otherIndex !== index) expect(verifyInclusion(leaf, otherIndex, size, proof, big.root(size)).ok).toBe(false);
        // A different size with its own root must fail. (With the original root a different size can
        // pass when both sizes give the same path shape, e.g. leaf 0 in sizes 3 and 4: RFC 9162
        // proofs bind the root, and a checkpoint binds the root to its size.)
        if (otherSize !== size && otherSize > index) {
          expect(verifyInclusion(leaf, index, otherSize, proof, big.root(otherSize)).ok).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('every consistency proof verifies; a flipped bit in a proof element or either root fails', () => {
    fc.assert(
      fc.property(sizePair, fc.nat(), fc.nat(255), ([m, n], pick, bit) => {
        const proof = big.consistencyProof(m, n);
        const rootM = big.root(m);
        const rootN = big.root(n);
        expect(verifyConsistency(m, n, proof, rootM, rootN)).toEqual({ ok: true });
        expect(verifyConsistency(m, n, proof, flipBit(rootM, bit), rootN).ok).toBe(false);
        expect(verifyConsistency(m, n, proof, rootM, flipBit(rootN, bit)).ok).toBe(false);
        if (proof.length > 0) {
          const i = pick % proof.length;
          const bad = proof.map((p, j) => (j === i ? flipBit(p, bit) : p));
          expect(verifyConsistency(m, n, bad, rootM, rootN).ok).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a consistency proof does not verify for other sizes with their own roots', () => {
    fc.assert(
      fc.property(sizePair, fc.integer({ min: 1, max: 200 }), ([m, n], other) => {
        const proof = big.consistencyProof(m, n);
        if (m === n) return;
        if (other !== m && other <= n) expect(verifyConsistency(other, n, proof, big.root(other), big.root(n)).ok).toBe(false);
        if (other !== n && other >= m) expect(verifyConsistency(m, other, proof, big.root(m), big.root(other)).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('verifiers never throw, whatever they are given', () => {
    const arb = fc.oneof(fc.anything(), fc.integer(), fc.double(), fc.array(fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.string())));
    fc.assert(
      fc.property(arb, arb, arb, arb, arb, (a, b, c, d, e) => {
        const r1 = verifyInclusion(a, b, c, d, e);
        const r2 = verifyConsistency(a, b, c, d, e);
        return r1.ok === false && r2.ok === false;
      }),
      { numRuns: 500 },
    );
  });

  it('over-long proofs are refused before any hashing', () => {
    const long = Array.from({ length: LEDGER_LIMITS.proofHashesMax + 1 }, () => EMPTY_ROOT);
    expect(verifyInclusion(bigLeaves[0], 0, 200, long, big.root())).toMatchObject({ code: 'BAD_PROOF' });
    expect(verifyConsistency(3, 200, long, big.root(3), big.root())).toMatchObject({ code: 'BAD_PROOF' });
    expect(LEAF_PREFIX).toBe(0);
  });
});
