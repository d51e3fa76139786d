/**
 * The writer's view of state while it builds one group commit: records prefetched from the cache or
 * the store, with the changes of the batch's earlier ops laid over them. `decide` reads it
 * synchronously; `apply` records an accepted op's effects and the store writes they imply (indexes,
 * visibility, invoice ids). Nothing here touches the store: the writer builds its commit from the
 * `changed…()` records, `invoiceWrites()` and the index fields (`listed`, `unlisted`, `partySeqs`).
 */
import {
  grantViewers,
  involvedParties,
  maySeeVoucher,
  voucherFromWire,
  voucherToWire,
  type Effects,
  type LedgerView,
  type Party,
  type ViewerRecords,
  type Voucher,
} from '../domain/index.js';
import { InvariantError } from '../domain/decide.js';
import type { ListPlace, Listing, VoucherRecord } from '../store/port.js';

/** Records that a batch reads: `null` means "known to be absent". */
export interface Prefetched {
  readonly parties: Map<string, Party | null>;
  readonly keyOwners: Map<string, string | null>;
  readonly vouchers: Map<string, VoucherRecord | null>;
  readonly invoices: Map<string, string | null>;
}

export const emptyPrefetch = (): Prefetched => ({
  parties: new Map(),
  keyOwners: new Map(),
  vouchers: new Map(),
  invoices: new Map(),
});

/** The parties a voucher lists under (§8 `GET /v1/parties/:id/vouchers`): its current fields. */
const listedParties = (v: Voucher): Set<string> => new Set(involvedParties(v));

const missingAncestor = (id: string): never => {
  throw new InvariantError(`ancestor ${id} is missing`);
};

const missing = (what: string): never => {
  throw new InvariantError(`${what} was not prefetched`);
};

export class BatchView implements LedgerView {
  readonly #base: Prefetched;
  readonly #parties = new Map<string, Party>();
  readonly #keyOwners = new Map<string, string>();
  readonly #vouchers = new Map<string, VoucherRecord>();
  readonly #invoices = new Map<string, string | null>();
  /** Decoded vouchers, so `decide` does not convert the same record twice. */
  readonly #decoded = new Map<VoucherRecord, Voucher>();

  // Index writes accumulated over the batch, list rows by party and place (a later op's row for
  // the same place replaces an earlier one's).
  readonly listed = new Map<string, Listing>();
  readonly unlisted = new Map<string, ListPlace & { readonly party: string }>();
  readonly partySeqs: [partyId: string, seq: number][] = [];

  constructor(base: Prefetched) {
    this.#base = base;
  }

  party(id: string): Party | undefined {
    const changed = this.#parties.get(id);
    if (changed) return changed;
    const base = this.#base.parties.get(id);
    return base === undefined ? missing(`party ${id}`) : (base ?? undefined);
  }

  keyOwner(publicKey: string): string | undefined {
    const changed = this.#keyOwners.get(publicKey);
    if (changed !== undefined) return changed;
    const base = this.#base.keyOwners.get(publicKey);
    return base === undefined ? missing(`key owner of ${publicKey}`) : (base ?? undefined);
  }

  record(id: string): VoucherRecord | undefined {
    const changed = this.#vouchers.get(id);
    if (changed) return changed;
    const base = this.#base.vouchers.get(id);
    return base === undefined ? missing(`voucher ${id}`) : (base ?? undefined);
  }

  voucher(id: string): Voucher | undefined {
    const record = this.record(id);
    return record && this.#decodedOf(record);
  }

  #decodedOf(record: VoucherRecord): Voucher {
    let decoded = this.#decoded.get(record);
    if (!decoded) this.#decoded.set(record, (decoded = voucherFromWire(record.state)));
    return decoded;
  }

  invoiceRoot(invoiceId: string): string | undefined {
    if (this.#invoices.has(invoiceId)) return this.#invoices.get(invoiceId) ?? undefined;
    const base = this.#base.invoices.get(invoiceId);
    return base === undefined ? missing(`invoice ${invoiceId}`) : (base ?? undefined);
  }

  maySee(partyId: string, voucherId: string): boolean {
    const role = this.party(partyId)?.role;
    return maySeeVoucher(partyId, role, this.record(voucherId)?.viewers);
  }

  /** Records the effects of the op accepted at `seq`. */
  apply(effects: Effects, seq: number): void {
    for (const party of effects.parties) {
      this.#parties.set(party.id, party);
      this.#keyOwners.set(party.publicKey, party.id);
      this.partySeqs.push([party.id, seq]);
    }
    const born = new Map<string, Voucher[]>();
    for (const voucher of effects.vouchers) {
      const before = this.#vouchers.get(voucher.id) ?? this.#base.vouchers.get(voucher.id) ?? undefined;
      const viewers = new Set(before?.viewers ?? []);
      const involved = involvedParties(voucher);
      for (const p of involved) viewers.add(p);
      const record: VoucherRecord = {
        state: voucherToWire(voucher),
        viewers: [...viewers],
        seqs: [...(before?.seqs ?? []), seq],
        children: before?.children ?? [],
      };
      this.#vouchers.set(voucher.id, record);
      this.#decoded.set(record, voucher);
      if (!before && voucher.parentId !== null) {
        const siblings = born.get(voucher.parentId);
        if (siblings) siblings.push(voucher);
        else born.set(voucher.parentId, [voucher]);
      }
      this.#relist(before ? this.#decodedOf(before) : undefined, voucher);
      grantViewers(voucher.parentId, involved, this.#viewerRecords);
    }
    for (const [parentId, kids] of born) this.#adopt(parentId, kids);
    for (const id of effects.invoicesFreed) this.#invoices.set(id, null);
    for (const id of effects.invoicesUsed) {
      const root = effects.vouchers.find((v) => v.parentId === null && v.invoiceIds.includes(id));
      if (!root) throw new InvariantError(`invoice ${id} is used by no root of the same op`);
      this.#invoices.set(id, root.id);
    }
  }

  /** Records new children in their parent's record, ordered by range start. */
  #adopt(parentId: string, kids: Voucher[]): void {
    const parent = this.record(parentId);
    if (!parent) throw new InvariantError(`parent ${parentId} is missing`);
    kids.sort((a, b) => (a.range.start < b.range.start ? -1 : a.range.start > b.range.start ? 1 : 0));
    const updated: VoucherRecord = { ...parent, children: [...parent.children, ...kids.map((k) => k.id)] };
    this.#vouchers.set(parentId, updated);
    const decoded = this.#decoded.get(parent);
    if (decoded) this.#decoded.set(updated, decoded);
  }

  /** Moves a voucher's rows in the per-party lists from its old fields to its new ones. */
  #relist(before: Voucher | undefined, after: Voucher): void {
    // A voucher's place in every list is the same; its rows differ only in the party.
    const place = { createdSeq: after.createdSeq, start: after.range.start };
    const tail = `\u0000${after.createdSeq}\u0000${after.range.start}`;
    const now = listedParties(after);
    if (before) {
      for (const party of listedParties(before)) {
        if (!now.has(party)) {
          const key = party + tail;
          this.listed.delete(key);
          this.unlisted.set(key, { party, ...place });
        }
      }
    }
    for (const party of now) {
      const key = party + tail;
      this.unlisted.delete(key);
      this.listed.set(key, { party, ...place, voucherId: after.id, status: after.status });
    }
  }

  /** The records as `grantViewers` walks them: a grant replaces the record with a new one. */
  readonly #viewerRecords: ViewerRecords<VoucherRecord> = {
    record: (id) => this.record(id) ?? missingAncestor(id),
    viewers: (record) => record.viewers,
    parentId: (record) => record.state.parentId,
    add: (id, record, parties) => {
      const updated: VoucherRecord = { ...record, viewers: [...record.viewers, ...parties] };
      this.#vouchers.set(id, updated);
      const decoded = this.#decoded.get(record);
      if (decoded) this.#decoded.set(updated, decoded);
    },
  };

  /** This batch's own change to a record, if it made one (a later batch decides on top of it). */
  changedRecord(id: string): VoucherRecord | undefined {
    return this.#vouchers.get(id);
  }

  changedParty(id: string): Party | undefined {
    return this.#parties.get(id);
  }

  changedKeyOwner(publicKey: string): string | undefined {
    return this.#keyOwners.get(publicKey);
  }

  /** The invoice's root after this batch (null: freed), or undefined if the batch did not touch it. */
  changedInvoice(invoiceId: string): string | null | undefined {
    return this.#invoices.has(invoiceId) ? (this.#invoices.get(invoiceId) ?? null) : undefined;
  }

  changedParties(): Party[] {
    return [...this.#parties.values()];
  }

  changedKeyOwners(): [string, string][] {
    return [...this.#keyOwners.entries()];
  }

  changedVouchers(): VoucherRecord[] {
    return [...this.#vouchers.values()];
  }

  invoiceWrites(): { used: [string, string][]; freed: string[] } {
    const used: [string, string][] = [];
    const freed: string[] = [];
    for (const [id, root] of this.#invoices) {
      if (root === null) freed.push(id);
      else used.push([id, root]);
    }
    return { used, freed };
  }
}
