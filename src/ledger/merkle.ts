import { fail, LedgerError, type LedgerResult } from './errors.js';
import { bytesEqual, parseHex } from './hex.js';
import { LEDGER_LIMITS } from './limits.js';
import { sha256 } from './sha256.js';

/**
 * RFC 9162 §2.1 Merkle tree over entry hashes (docs/protocol.md §5).
 *
 *   MTH({})     = SHA-256()                                  (EMPTY_ROOT)
 *   MTH({d0})   = SHA-256(0x00 ‖ d0)                         (the leaf hash = the entry hash)
 *   MTH(D[n])   = SHA-256(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n]))  k = largest power of two < n
 *
 * Two implementations of the proofs: the literal recursive definitions over an array of leaf
 * hashes (`rootOf`, `inclusionProof`, `consistencyProof`, RFC 9162 §2.1.3.1 PATH and §2.1.4.1
 * SUBPROOF), and the same recursions over a `NodeSource` of stored complete subtrees (`MerkleTree`
 * in memory; the service's stored tree, src/service/merkle-log.ts) that need O(log n) node
 * lookups. The verifiers are the RFC 9162 §2.1.3.2 and §2.1.4.2 algorithms; they take untrusted
 * input and never throw.
 */

/** RFC 9162 §2.1.1: prefix of a leaf hash. */
export const LEAF_PREFIX = 0x00;
/** RFC 9162 §2.1.1: prefix of an interior node hash. */
export const NODE_PREFIX = 0x01;
export const HASH_BYTES = 32;
/** RFC 9162 §2.1.1: the hash of an empty tree, SHA-256 of the empty string. */
export const EMPTY_ROOT: Uint8Array = sha256();

const LEAF_PREFIX_BYTES = Uint8Array.of(LEAF_PREFIX);
const NODE_PREFIX_BYTES = Uint8Array.of(NODE_PREFIX);

export const hashLeaf = (data: Uint8Array): Uint8Array => sha256(LEAF_PREFIX_BYTES, data);
export const hashChildren = (left: Uint8Array, right: Uint8Array): Uint8Array => sha256(NODE_PREFIX_BYTES, left, right);

// Sizes go up to 2^53 − 1, past the 32 bits of JS bitwise operators: use arithmetic.
const isOdd = (x: number): boolean => x % 2 === 1;
const half = (x: number): number => Math.floor(x / 2);
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** The largest power of two smaller than n (n ≥ 2): the RFC 9162 split point k, k < n ≤ 2k. */
const splitPoint = (n: number): number => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};

/** log2(n) if n is a power of two, else -1. */
const exactLog2 = (n: number): number => {
  let level = 0;
  let p = 1;
  while (p < n) {
    p *= 2;
    level++;
  }
  return p === n ? level : -1;
};

const requireHash = (h: unknown, what: string): Uint8Array => {
  if (!(h instanceof Uint8Array) || h.length !== HASH_BYTES) throw new LedgerError('BAD_HASH', `${what} is not a 32-byte hash`);
  return h;
};

const requireSizes = (condition: boolean, code: 'BAD_SIZE' | 'BAD_INDEX', detail: string): void => {
  if (!condition) throw new LedgerError(code, detail);
};

// ---------------------------------------------------------------------------------------------
// Reference implementation: RFC 9162 §2.1 recursions over an array of leaf hashes.

const mth = (leaves: readonly Uint8Array[], start: number, end: number): Uint8Array => {
  const n = end - start;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return requireHash(leaves[start], `leaf ${start}`);
  const k = splitPoint(n);
  return hashChildren(mth(leaves, start, start + k), mth(leaves, start + k, end));
};

/** RFC 9162 §2.1.3.1 PATH(m, D[start:end]). */
const path = (leaves: readonly Uint8Array[], m: number, start: number, end: number): Uint8Array[] => {
  const n = end - start;
  if (n <= 1) return [];
  const k = splitPoint(n);
  return m < k ? [...path(leaves, m, start, start + k), mth(leaves, start + k, end)] : [...path(leaves, m - k, start + k, end), mth(leaves, start, start + k)];
};

/** RFC 9162 §2.1.4.1 SUBPROOF(m, D[start:end], b). */
const subproof = (leaves: readonly Uint8Array[], m: number, start: number, end: number, b: boolean): Uint8Array[] => {
  const n = end - start;
  if (m === n) return b ? [] : [mth(leaves, start, end)];
  const k = splitPoint(n);
  return m <= k
    ? [...subproof(leaves, m, start, start + k, b), mth(leaves, start + k, end)]
    : [...subproof(leaves, m - k, start + k, end, false), mth(leaves, start, start + k)];
};

/** MTH of the first `size` leaf hashes (default: all). */
export const rootOf = (leafHashes: readonly Uint8Array[], size: number = leafHashes.length): Uint8Array => {
  requireSizes(isCount(size) && size <= leafHashes.length, 'BAD_SIZE', `size ${size} outside 0..${leafHashes.length}`);
  return mth(leafHashes, 0, size);
};

/** RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of the first `size` leaves. */
export const inclusionProof = (leafHashes: readonly Uint8Array[], index: number, size: number): Uint8Array[] => {
  requireSizes(isCount(size) && size <= leafHashes.length, 'BAD_SIZE', `size ${size} outside 0..${leafHashes.length}`);
  requireSizes(isCount(index) && index < size, 'BAD_INDEX', `index ${index} outside 0..${size - 1}`);
  return path(leafHashes, index, 0, size);
};

/** RFC 9162 §2.1.4.1 consistency proof from size m to size n (empty when m = 0 or m = n). */
export const consistencyProof = (leafHashes: readonly Uint8Array[], m: number, n: number): Uint8Array[] => {
  requireSizes(isCount(n) && n <= leafHashes.length, 'BAD_SIZE', `size ${n} outside 0..${leafHashes.length}`);
  requireSizes(isCount(m) && m <= n, 'BAD_SIZE', `size ${m} outside 0..${n}`);
  return m === 0 || m === n ? [] : subproof(leafHashes, m, 0, n, true);
};

// ---------------------------------------------------------------------------------------------
// Stored trees: the same recursions over complete subtrees.

/**
 * Where the tree's node hashes live. `node(level, index)` is the hash of the complete subtree
 * over leaves [index·2^level, (index+1)·2^level); it is only asked for subtrees that are complete
 * within `leafCount()` leaves. Level 0 holds the leaf hashes.
 */
export interface NodeSource {
  leafCount(): number;
  node(level: number, index: number): Uint8Array;
}

/**
 * Hash of D[start:end]. In every range the RFC recursions visit, the left part [start, start+k)
 * is a complete aligned subtree, so this costs one lookup per set bit of (end − start).
 */
const rangeHash = (source: NodeSource, start: number, end: number): Uint8Array => {
  const n = end - start;
  if (n === 0) return EMPTY_ROOT;
  const level = exactLog2(n);
  if (level >= 0 && start % n === 0) return requireHash(source.node(level, start / n), `node ${level}/${start / n}`);
  const k = splitPoint(n);
  return hashChildren(rangeHash(source, start, start + k), rangeHash(source, start + k, end));
};

const sourcePath = (source: NodeSource, m: number, start: number, end: number, out: Uint8Array[]): void => {
  const n = end - start;
  if (n <= 1) return;
  const k = splitPoint(n);
  if (m < k) {
    sourcePath(source, m, start, start + k, out);
    out.push(rangeHash(source, start + k, end));
  } else {
    sourcePath(source, m - k, start + k, end, out);
    out.push(rangeHash(source, start, start + k));
  }
};

const sourceSubproof = (source: NodeSource, m: number, start: number, end: number, b: boolean, out: Uint8Array[]): void => {
  const n = end - start;
  if (m === n) {
    if (!b) out.push(rangeHash(source, start, end));
    return;
  }
  const k = splitPoint(n);
  if (m <= k) {
    sourceSubproof(source, m, start, start + k, b, out);
    out.push(rangeHash(source, start + k, end));
  } else {
    sourceSubproof(source, m - k, start + k, end, false, out);
    out.push(rangeHash(source, start, start + k));
  }
};

const checkSourceSize = (source: NodeSource, size: number): void =>
  requireSizes(isCount(size) && size <= source.leafCount(), 'BAD_SIZE', `size ${size} outside 0..${source.leafCount()}`);

/** Root of the first `size` leaves of a stored tree. */
export const rootFromSource = (source: NodeSource, size: number): Uint8Array => {
  checkSourceSize(source, size);
  return rangeHash(source, 0, size);
};

export const inclusionProofFromSource = (source: NodeSource, index: number, size: number): Uint8Array[] => {
  checkSourceSize(source, size);
  requireSizes(isCount(index) && index < size, 'BAD_INDEX', `index ${index} outside 0..${size - 1}`);
  const out: Uint8Array[] = [];
  sourcePath(source, index, 0, size, out);
  return out;
};

export const consistencyProofFromSource = (source: NodeSource, m: number, n: number): Uint8Array[] => {
  checkSourceSize(source, n);
  requireSizes(isCount(m) && m <= n, 'BAD_SIZE', `size ${m} outside 0..${n}`);
  const out: Uint8Array[] = [];
  if (m !== 0 && m !== n) sourceSubproof(source, m, 0, n, true, out);
  return out;
};

export interface StoredNode {
  readonly level: number;
  readonly index: number;
  readonly hash: Uint8Array;
}

/**
 * The nodes that become complete when leaf `index` (= the tree's size before the append) is
 * appended: the leaf itself at level 0, then each parent whose right child it completes. A store
 * writes exactly these. `node` must return the already stored nodes (left siblings).
 */
export const nodesCompletedByAppend = (index: number, leafHash: Uint8Array, node: (level: number, index: number) => Uint8Array): StoredNode[] => {
  requireSizes(isCount(index), 'BAD_INDEX', `index ${index} is not a count`);
  const out: StoredNode[] = [{ level: 0, index, hash: requireHash(leafHash, 'leaf') }];
  let level = 0;
  let i = index;
  let hash = leafHash;
  while (isOdd(i)) {
    hash = hashChildren(requireHash(node(level, i - 1), `node ${level}/${i - 1}`), hash);
    level++;
    i = half(i);
    out.push({ level, index: i, hash });
  }
  return out;
};

/**
 * In-memory append-only tree: each level's completed node hashes in an array, so append is
 * O(1) amortised and `root`, `inclusionProof` and `consistencyProof` of any prefix size take
 * O(log n) lookups.
 */
export class MerkleTree implements NodeSource {
  readonly #levels: Uint8Array[][] = [[]];

  /** Appends a leaf hash (an entry hash); returns the new size. */
  append(leafHash: Uint8Array): number {
    const index = this.leafCount();
    const completed = nodesCompletedByAppend(index, Uint8Array.from(requireHash(leafHash, 'leaf')), (level, i) => this.node(level, i));
    for (const { level, hash } of completed) {
      (this.#levels[level] ??= []).push(hash);
    }
    return index + 1;
  }

  leafCount(): number {
    return this.#levels[0]!.length;
  }

  node(level: number, index: number): Uint8Array {
    const hash = this.#levels[level]?.[index];
    if (hash === undefined) throw new LedgerError('BAD_INDEX', `no complete node ${level}/${index}`);
    return hash;
  }

  root(size: number = this.leafCount()): Uint8Array {
    return rootFromSource(this, size);
  }

  inclusionProof(index: number, size: number = this.leafCount()): Uint8Array[] {
    return inclusionProofFromSource(this, index, size);
  }

  consistencyProof(m: number, n: number = this.leafCount()): Uint8Array[] {
    return consistencyProofFromSource(this, m, n);
  }
}

// ---------------------------------------------------------------------------------------------
// Verifiers (untrusted input). Hashes may be 32-byte Uint8Arrays or 64-char lowercase hex.

const asHash = (h: unknown): Uint8Array | undefined => {
  if (h instanceof Uint8Array) return h.length === HASH_BYTES ? h : undefined;
  return parseHex(h, HASH_BYTES);
};

const asProof = (proof: unknown): LedgerResult<{ hashes: Uint8Array[] }> => {
  if (!Array.isArray(proof)) return fail('BAD_PROOF', 'proof is not an array');
  if (proof.length > LEDGER_LIMITS.proofHashesMax) {
    return fail('BAD_PROOF', `proof has more than ${LEDGER_LIMITS.proofHashesMax} hashes`);
  }
  const hashes: Uint8Array[] = [];
  for (let i = 0; i < proof.length; i++) {
    const h = asHash(proof[i]);
    if (h === undefined) return fail('BAD_HASH', `proof[${i}] is not a 32-byte hash`);
    hashes.push(h);
  }
  return { ok: true, hashes };
};

/** RFC 9162 §2.1.3.2: does `proof` show leaf `index` with hash `leafHash` in the tree of `size` with `root`? */
export const verifyInclusion = (leafHash: unknown, index: unknown, size: unknown, proof: unknown, root: unknown): LedgerResult => {
  if (!isCount(size)) return fail('BAD_SIZE', 'tree size is not a safe non-negative integer');
  if (!isCount(index)) return fail('BAD_INDEX', 'leaf index is not a safe non-negative integer');
  // Step 1: leaf_index ≥ tree_size fails.
  if (index >= size) return fail('BAD_INDEX', `leaf index ${index} is not below tree size ${size}`);
  const leaf = asHash(leafHash);
  if (leaf === undefined) return fail('BAD_HASH', 'leaf is not a 32-byte hash');
  const rootHash = asHash(root);
  if (rootHash === undefined) return fail('BAD_HASH', 'root is not a 32-byte hash');
  const parsed = asProof(proof);
  if (!parsed.ok) return parsed;

  // Steps 2–3.
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  // Step 4.
  for (const p of parsed.hashes) {
    if (sn === 0) return fail('BAD_PROOF_LENGTH', 'proof is too long'); // 4a
    if (isOdd(fn) || fn === sn) {
      r = hashChildren(p, r); // 4b i
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = half(fn); // 4c
    sn = half(sn);
  }
  // Step 5.
  if (sn !== 0) return fail('BAD_PROOF_LENGTH', 'proof is too short');
  if (!bytesEqual(r, rootHash)) return fail('ROOT_MISMATCH', 'proof does not lead to the root');
  return { ok: true };
};

/**
 * RFC 9162 §2.1.4.2: is the tree of size `n` with `rootN` an append-only extension of the tree of
 * size `m` with `rootM`? For m = 0 the proof must be empty and `rootM` the empty root; for m = n
 * it must be empty and the roots equal (docs/protocol.md §8: those proofs are `[]`).
 */
export const verifyConsistency = (m: unknown, n: unknown, proof: unknown, rootM: unknown, rootN: unknown): LedgerResult => {
  if (!isCount(m) || !isCount(n)) return fail('BAD_SIZE', 'tree size is not a safe non-negative integer');
  if (m > n) return fail('BAD_SIZE', `first size ${m} is greater than second size ${n}`);
  const first = asHash(rootM);
  const second = asHash(rootN);
  if (first === undefined || second === undefined) return fail('BAD_HASH', 'root is not a 32-byte hash');
  const parsed = asProof(proof);
  if (!parsed.ok) return parsed;
  const path = parsed.hashes;

  if (m === 0 || m === n) {
    if (path.length !== 0) return fail('BAD_PROOF_LENGTH', `proof from size ${m} to ${n} must be empty`);
    const same = m === 0 ? bytesEqual(first, EMPTY_ROOT) : bytesEqual(first, second);
    return same ? { ok: true } : fail('ROOT_MISMATCH', m === 0 ? 'root of size 0 is not the empty root' : 'roots differ');
  }

  // Step 1.
  if (path.length === 0) return fail('BAD_PROOF_LENGTH', 'proof is empty');
  // Step 2: if m is an exact power of 2, prepend first_hash.
  const nodes = exactLog2(m) >= 0 ? [first, ...path] : path;
  // Step 3.
  let fn = m - 1;
  let sn = n - 1;
  // Step 4.
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // Step 5.
  let fr = nodes[0]!;
  let sr = nodes[0]!;
  // Step 6.
  for (const c of nodes.slice(1)) {
    if (sn === 0) return fail('BAD_PROOF_LENGTH', 'proof is too long'); // 6a
    if (isOdd(fn) || fn === sn) {
      fr = hashChildren(c, fr); // 6b i
      sr = hashChildren(c, sr); // 6b ii
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = half(fn); // 6c
    sn = half(sn);
  }
  // Step 7.
  if (sn !== 0) return fail('BAD_PROOF_LENGTH', 'proof is too short');
  if (!bytesEqual(fr, first)) return fail('ROOT_MISMATCH', 'proof does not lead to the first root');
  if (!bytesEqual(sr, second)) return fail('ROOT_MISMATCH', 'proof does not lead to the second root');
  return { ok: true };
};
