/**
 * The whole ledger state in memory: a `LedgerView` that `decide` reads and `apply` advances.
 * Tests, replay (proof bundles, audits) and the property suites use it; the service keeps the same
 * records in LevelDB. Pure: maps only, no I/O.
 */
import { OPERATOR_ID } from './limits.js';
import type { Effects, LedgerView, Party, Voucher } from './types.js';
import { grantViewers, involvedParties, maySeeVoucher, type ViewerRecords } from './visibility.js';

const NO_VIEWERS: ReadonlySet<string> = new Set();

export interface GenesisState {
  readonly operatorPublicKey: string;
  /** The operator's display name; genesis has none, so the default is "Operator". */
  readonly operatorName?: string;
}

/** The operator party that genesis creates (§6). */
export const operatorParty = (g: GenesisState): Party => ({
  id: OPERATOR_ID,
  name: g.operatorName ?? 'Operator',
  role: 'operator',
  publicKey: g.operatorPublicKey,
  status: 'active',
});

export class MemoryState implements LedgerView {
  readonly #parties = new Map<string, Party>();
  readonly #keyOwners = new Map<string, string>();
  readonly #vouchers = new Map<string, Voucher>();
  readonly #invoices = new Map<string, string>();
  /** Voucher id → the parties involved with it or with any of its descendants. */
  readonly #viewers = new Map<string, Set<string>>();

  constructor(genesis: GenesisState) {
    this.#putParty(operatorParty(genesis));
  }

  party(id: string): Party | undefined {
    return this.#parties.get(id);
  }

  keyOwner(publicKey: string): string | undefined {
    return this.#keyOwners.get(publicKey);
  }

  voucher(id: string): Voucher | undefined {
    return this.#vouchers.get(id);
  }

  invoiceRoot(invoiceId: string): string | undefined {
    return this.#invoices.get(invoiceId);
  }

  maySee(partyId: string, voucherId: string): boolean {
    const viewers = this.#vouchers.has(voucherId) ? (this.#viewers.get(voucherId) ?? NO_VIEWERS) : undefined;
    return maySeeVoucher(partyId, this.#parties.get(partyId)?.role, viewers);
  }

  /** Applies the effects of an accepted op. */
  apply(effects: Effects): void {
    for (const party of effects.parties) this.#putParty(party);
    for (const voucher of effects.vouchers) {
      this.#vouchers.set(voucher.id, voucher);
      grantViewers(voucher.id, involvedParties(voucher), this.#viewerRecords);
    }
    for (const invoiceId of effects.invoicesFreed) this.#invoices.delete(invoiceId);
    for (const invoiceId of effects.invoicesUsed) {
      const root = effects.vouchers.find((v) => v.parentId === null && v.invoiceIds.includes(invoiceId));
      if (!root) throw new Error(`invoice ${invoiceId} is used by no root in the same effects`);
      this.#invoices.set(invoiceId, root.id);
    }
  }

  allParties(): Party[] {
    return [...this.#parties.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Every voucher, in the §8 list order: `createdSeq`, then range start. */
  allVouchers(): Voucher[] {
    return [...this.#vouchers.values()].sort((a, b) =>
      a.createdSeq !== b.createdSeq ? a.createdSeq - b.createdSeq : a.range.start < b.range.start ? -1 : a.range.start > b.range.start ? 1 : 0,
    );
  }

  usedInvoices(): string[] {
    return [...this.#invoices.keys()].sort();
  }

  #putParty(party: Party): void {
    this.#parties.set(party.id, party);
    this.#keyOwners.set(party.publicKey, party.id);
  }

  /** The voucher records as `grantViewers` walks them. */
  readonly #viewerRecords: ViewerRecords<Voucher> = {
    record: (id) => {
      const voucher = this.#vouchers.get(id);
      if (!voucher) throw new Error(`ancestor ${id} is missing`);
      return voucher;
    },
    viewers: (voucher) => this.#viewers.get(voucher.id) ?? NO_VIEWERS,
    parentId: (voucher) => voucher.parentId,
    add: (id, _voucher, parties) => {
      let viewers = this.#viewers.get(id);
      if (!viewers) this.#viewers.set(id, (viewers = new Set()));
      for (const p of parties) viewers.add(p);
    },
  };
}
