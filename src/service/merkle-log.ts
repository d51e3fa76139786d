/**
 * The ledger's RFC 9162 tree on disk. Appends keep only the right edge (the "frontier": one
 * complete-subtree hash per set bit of the size) in memory and emit the complete nodes that each
 * leaf closes, O(1) amortised; the store keeps every complete node, so any proof for any prefix
 * reads O(log n) nodes.
 */
import { EMPTY_ROOT, hashChildren, nodesCompletedByAppend, type NodeSource } from '../ledger/merkle.js';
import type { TreeNode, TreeNodeAt } from '../store/port.js';

/** Reads stored tree nodes, in the order asked. */
export type ReadNodes = (at: readonly TreeNodeAt[]) => Promise<(Uint8Array | undefined)[]>;

/** The right edge of a tree of `size` leaves, and the appends that extend it. */
export class Frontier {
  /** frontier[level] is the root of the complete subtree at that level, if bit `level` of size is set. */
  #frontier: (Uint8Array | undefined)[];
  #size: number;

  constructor(size = 0, frontier: (Uint8Array | undefined)[] = []) {
    this.#size = size;
    this.#frontier = frontier;
  }

  get size(): number {
    return this.#size;
  }

  /** A copy that can be extended without touching this one (a batch that may fail). */
  fork(): Frontier {
    return new Frontier(this.#size, [...this.#frontier]);
  }

  /** Appends a leaf hash; returns the complete nodes it creates, the leaf first. */
  append(leaf: Uint8Array): TreeNode[] {
    // The left sibling of each node the leaf completes is the frontier's node at that level.
    const completed = nodesCompletedByAppend(this.#size, leaf, (level) => {
      const left = this.#frontier[level];
      if (!left) throw new Error(`frontier has no node at level ${level} for size ${this.#size}`);
      return left;
    });
    for (const n of completed) this.#frontier[n.level] = undefined;
    const top = completed[completed.length - 1];
    if (top) this.#frontier[top.level] = top.hash;
    this.#size += 1;
    return completed.map((n) => ({ level: n.level, index: n.index, hash: n.hash }));
  }

  /** The root hash of the whole tree (RFC 9162 §2.1.1). */
  root(): Uint8Array {
    let acc: Uint8Array | undefined;
    for (const node of this.#frontier) {
      if (!node) continue;
      acc = acc ? hashChildren(node, acc) : node;
    }
    return acc ?? EMPTY_ROOT;
  }

  /**
   * Rebuilds the frontier of a tree of `size` leaves from its stored complete nodes: for each set
   * bit, the node that covers that part of the leaves.
   */
  static async load(size: number, read: ReadNodes): Promise<Frontier> {
    const at: TreeNodeAt[] = [];
    let start = 0;
    for (let level = 52; level >= 0; level -= 1) {
      const width = 2 ** level;
      if (size - start >= width) {
        at.push({ level, index: start / width });
        start += width;
      }
    }
    const nodes = await read(at);
    const frontier: (Uint8Array | undefined)[] = [];
    nodes.forEach((node, i) => {
      const n = at[i];
      if (!node || n === undefined) throw new Error(`the stored tree lacks node ${n?.level}/${n?.index} for size ${size}`);
      frontier[n.level] = node;
    });
    return new Frontier(size, frontier);
  }
}

/**
 * Runs a proof algorithm written against a synchronous `NodeSource` over nodes that live in the
 * store: a first pass records which nodes it reads (which does not depend on their values), one
 * `getMany` fetches them, and a second pass computes the answer.
 */
export const withStoredNodes = async <T>(size: number, read: ReadNodes, compute: (source: NodeSource) => T): Promise<T> => {
  const key = (level: number, index: number): string => `${level}/${index}`;
  const wanted = new Map<string, TreeNodeAt>();
  const placeholder = new Uint8Array(32);
  compute({
    leafCount: () => size,
    node: (level, index) => {
      wanted.set(key(level, index), { level, index });
      return placeholder;
    },
  });
  const at = [...wanted.values()];
  const values = await read(at);
  const nodes = new Map<string, Uint8Array>();
  at.forEach((n, i) => {
    const value = values[i];
    if (!value) throw new Error(`the stored tree lacks node ${n.level}/${n.index}`);
    nodes.set(key(n.level, n.index), value);
  });
  return compute({
    leafCount: () => size,
    node: (level, index) => {
      const node = nodes.get(key(level, index));
      if (!node) throw new Error(`node ${level}/${index} was not planned`);
      return node;
    },
  });
};
