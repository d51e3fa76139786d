/**
 * Which op ids are on the ledger, in memory, so that the duplicate check of every new op (§4)
 * costs no store lookup. LevelDB answers a lookup of an absent key in about 30–50 µs of the event
 * loop; a new op's id is absent by definition, so that lookup was paid on every write.
 *
 * The index keeps the first 52 bits of each op id (13 hex digits, exact in a double) in an
 * open-addressing table. "Absent" is exact once the index is complete; "present" means "maybe":
 * the caller confirms it in the store (two ids share a prefix with odds of about n / 2^52).
 *
 * It becomes complete in the background: the service adds every op it commits from the moment it
 * starts, while `fill` streams the ids already stored. Until `complete` is set the caller must ask
 * the store for every id.
 */

const EMPTY = 0;

/** 13 hex digits of an op id → a positive integer below 2^52 + 1 (0 marks an empty slot). */
const slotKey = (opId: string): number => Number.parseInt(opId.slice(0, 13), 16) + 1;

export class OpIndex {
  #table: Float64Array;
  #mask: number;
  #count = 0;
  #complete = false;

  constructor(capacity = 1 << 16) {
    let size = 1 << 4;
    while (size < capacity * 2) size *= 2;
    this.#table = new Float64Array(size);
    this.#mask = size - 1;
  }

  get size(): number {
    return this.#count;
  }

  /** True once every stored op id has been added: then `mayContain` false is exact. */
  get complete(): boolean {
    return this.#complete;
  }

  markComplete(): void {
    this.#complete = true;
  }

  add(opId: string): void {
    this.#insert(slotKey(opId));
    if (this.#count * 2 > this.#table.length) this.#grow();
  }

  /** False only if `opId` is certainly not on the ledger (once complete). */
  mayContain(opId: string): boolean {
    const key = slotKey(opId);
    const t = this.#table;
    for (let i = this.#slot(key); ; i = (i + 1) & this.#mask) {
      const v = t[i]!;
      if (v === EMPTY) return false;
      if (v === key) return true;
    }
  }

  /** Bytes the table holds (for metrics and the scale benchmark). */
  get bytes(): number {
    return this.#table.byteLength;
  }

  #slot(key: number): number {
    // The key's low bits are hex digits of a SHA-256: already uniform.
    return key % this.#table.length;
  }

  #insert(key: number): void {
    const t = this.#table;
    for (let i = this.#slot(key); ; i = (i + 1) & this.#mask) {
      const v = t[i]!;
      if (v === key) return;
      if (v === EMPTY) {
        t[i] = key;
        this.#count += 1;
        return;
      }
    }
  }

  #grow(): void {
    const old = this.#table;
    this.#table = new Float64Array(old.length * 2);
    this.#mask = this.#table.length - 1;
    this.#count = 0;
    for (const v of old) if (v !== EMPTY) this.#insert(v);
  }
}
