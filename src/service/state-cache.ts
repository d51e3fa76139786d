/**
 * Durable state in memory, in front of the store: every party and key owner (few, read on every
 * op), and the most recently used voucher records. It is updated only after a commit is durable,
 * so whatever it answers is durable too.
 */
import type { Party } from '../domain/index.js';
import type { Store, VoucherRecord } from '../store/port.js';

export class StateCache {
  readonly #store: Store;
  readonly #parties = new Map<string, Party>();
  readonly #keyOwners = new Map<string, string>();
  readonly #vouchers = new Map<string, VoucherRecord>();
  readonly #vouchersMax: number;

  /**
   * `vouchersMax` bounds memory: a record is about 1–2 KB of objects on the heap, and writes only
   * touch a voucher and its few ancestors, so the hot set is small; a miss costs one LevelDB read.
   */
  constructor(store: Store, vouchersMax = 20_000) {
    this.#store = store;
    this.#vouchersMax = vouchersMax;
  }

  async party(id: string): Promise<Party | undefined> {
    const cached = this.#parties.get(id);
    if (cached) return cached;
    const party = await this.#store.party(id);
    // Absent parties are not remembered: ids in requests are unbounded input.
    if (party) this.#parties.set(id, party);
    return party;
  }

  async keyOwner(publicKey: string): Promise<string | undefined> {
    const cached = this.#keyOwners.get(publicKey);
    if (cached !== undefined) return cached;
    const owner = await this.#store.keyOwner(publicKey);
    if (owner !== undefined) this.#keyOwners.set(publicKey, owner);
    return owner;
  }

  async voucher(id: string): Promise<VoucherRecord | undefined> {
    const cached = this.#vouchers.get(id);
    if (cached) {
      // Refresh its place in the LRU order.
      this.#vouchers.delete(id);
      this.#vouchers.set(id, cached);
      return cached;
    }
    const record = await this.#store.voucher(id);
    if (record) this.#remember(record);
    return record;
  }

  /** After a durable commit: the new records replace the old. */
  committed(parties: readonly Party[], keyOwners: readonly (readonly [string, string])[], vouchers: readonly VoucherRecord[]): void {
    for (const p of parties) this.#parties.set(p.id, p);
    for (const [key, owner] of keyOwners) this.#keyOwners.set(key, owner);
    for (const v of vouchers) {
      this.#vouchers.delete(v.state.id);
      this.#remember(v);
    }
  }

  #remember(record: VoucherRecord): void {
    this.#vouchers.set(record.state.id, record);
    if (this.#vouchers.size > this.#vouchersMax) {
      const oldest = this.#vouchers.keys().next().value;
      if (oldest !== undefined) this.#vouchers.delete(oldest);
    }
  }
}
