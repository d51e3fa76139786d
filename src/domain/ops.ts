/**
 * One declaration per op type (docs/protocol.md §7): the parties it names, who must sign it in
 * which voucher status, and the records `decide` reads for it. `decide` checks names and signers
 * from here, the writer prefetches exactly the records listed here, and the console offers a
 * voucher op to the party that starts it here. Adding an op type starts with an entry in `OPS`;
 * the compiler then points at every table and switch that needs a case for it.
 */
import { OPERATOR_ID } from './limits.js';
import type { OpType, Payload, Voucher, VoucherStatus } from './types.js';

type PayloadOf<T extends OpType> = Extract<Payload, { type: T }>;

/** A party the payload names besides the signers. */
export interface NamedParty {
  readonly id: string;
  /** The payload field that names it, for the `UNKNOWN_PARTY` and `PARTY_SUSPENDED` details. */
  readonly field: string;
  /** False only where the op may name a suspended party (`party.update`, to reactivate it). */
  readonly mustBeActive: boolean;
}

/** The records `decide` reads for an op besides its signers and named parties. */
export interface RecordsRead {
  readonly parties?: readonly string[];
  /** Public keys whose owner `decide` looks up. */
  readonly keys?: readonly string[];
  /** Invoice ids whose root voucher `decide` looks up (and that root's lineage). */
  readonly invoices?: readonly string[];
  /** A voucher `decide` reads, with its ancestors (visibility, lineage). */
  readonly lineageOf?: string;
}

/** A party a voucher names in its current fields: the one who signs a voucher op. */
export type VoucherSigner = 'holder' | 'offeredTo' | 'pledgee' | 'issuer';

/** The voucher fields that say who signs; the domain `Voucher` and the wire voucher both have them. */
export interface SignerFields {
  readonly status: VoucherStatus;
  readonly issuer: string;
  readonly holder: string;
  readonly offeredTo: string | null;
  readonly pledge: { readonly bank: string } | null;
}

/** Who must sign an op, for the §7 table. */
export type Signers<P> =
  /** Parties the payload itself determines (the operator, the issuer). */
  | { readonly from: 'payload'; readonly of: (p: P) => readonly string[]; readonly inWords: string }
  | {
      /** The party the voucher names in `signer`, then `cosigner` from the payload if any. */
      readonly from: 'voucher';
      readonly signer: VoucherSigner;
      readonly cosigner?: (p: P) => string;
      /**
       * The status without which `signer` does not exist (the first `VOUCHER_STATE_CONFLICT` row):
       * an offer's offeree or offerer, a pledge's bank.
       */
      readonly onlyIn?: VoucherStatus;
      /** The statuses in which the op can be accepted: `decide`'s status check, and where the console offers it. */
      readonly acceptedIn: readonly VoucherStatus[];
      readonly inWords: string;
    };

export interface OpSpec<P extends Payload> {
  /** The parties the op names besides its signers, in the order §7 lists them. */
  readonly names: (p: P) => readonly NamedParty[];
  readonly signers: Signers<P>;
  readonly reads: (p: P) => RecordsRead;
}

const named = (id: string, field: string, mustBeActive = true): NamedParty => ({ id, field, mustBeActive });
const none = (): readonly NamedParty[] => [];
const theVoucher = (p: { readonly voucherId: string }): RecordsRead => ({ lineageOf: p.voucherId });

/** Accepting and rejecting an offer: the same parties, signer and records; only the effect differs. */
const answerToOffer: OpSpec<PayloadOf<'voucher.accept'> | PayloadOf<'voucher.reject'>> = {
  names: none,
  signers: {
    from: 'voucher',
    signer: 'offeredTo',
    onlyIn: 'offered',
    acceptedIn: ['offered'],
    inWords: 'the party the voucher is offered to',
  },
  reads: theVoucher,
};

export const OPS: { readonly [T in OpType]: OpSpec<PayloadOf<T>> } = {
  'party.register': {
    names: none,
    signers: { from: 'payload', of: () => [OPERATOR_ID], inWords: 'the operator' },
    reads: (p) => ({ parties: [p.party.id], keys: [p.party.publicKey] }),
  },
  'party.update': {
    names: (p) => [named(p.partyId, 'partyId', false)],
    signers: { from: 'payload', of: () => [OPERATOR_ID], inWords: 'the operator' },
    reads: (p) => ({ keys: p.publicKey === undefined ? [] : [p.publicKey] }),
  },
  'voucher.issue': {
    names: (p) => [named(p.issuer, 'issuer'), named(p.to, 'to')],
    signers: { from: 'payload', of: (p) => [p.issuer], inWords: 'the issuer' },
    reads: (p) => ({ invoices: p.invoiceIds }),
  },
  'voucher.accept': answerToOffer,
  'voucher.reject': answerToOffer,
  'voucher.cancel': {
    names: none,
    signers: {
      from: 'voucher',
      signer: 'holder',
      onlyIn: 'offered',
      acceptedIn: ['offered'],
      inWords: 'the holder that offered the voucher',
    },
    reads: theVoucher,
  },
  'voucher.split': {
    names: none,
    signers: { from: 'voucher', signer: 'holder', acceptedIn: ['active'], inWords: "the voucher's holder" },
    reads: theVoucher,
  },
  'voucher.transfer': {
    names: (p) => [named(p.to, 'to')],
    signers: { from: 'voucher', signer: 'holder', acceptedIn: ['active'], inWords: "the voucher's holder" },
    reads: theVoucher,
  },
  'voucher.pledge': {
    names: (p) => [named(p.bank, 'bank')],
    signers: {
      from: 'voucher',
      signer: 'holder',
      cosigner: (p) => p.bank,
      acceptedIn: ['active'],
      inWords: "the voucher's holder and the bank",
    },
    reads: theVoucher,
  },
  'voucher.release': {
    names: none,
    signers: {
      from: 'voucher',
      signer: 'pledgee',
      onlyIn: 'pledged',
      acceptedIn: ['pledged'],
      inWords: 'the bank the voucher is pledged to',
    },
    reads: theVoucher,
  },
  'voucher.settle': {
    names: none,
    signers: { from: 'voucher', signer: 'issuer', acceptedIn: ['active', 'pledged'], inWords: "the voucher's issuer" },
    reads: theVoucher,
  },
};

/**
 * The declaration of `p`'s own type. `OPS[p.type]` is a union of declarations, each for one payload
 * type; TypeScript cannot correlate it with `p`, so the one cast lives here.
 */
export const specOf = (p: Payload): OpSpec<Payload> => OPS[p.type] as OpSpec<Payload>;

/** The party a voucher names as `role`, or null when it names none now. */
export const signerOf = (v: SignerFields, role: VoucherSigner): string | null => {
  switch (role) {
    case 'holder':
      return v.holder;
    case 'offeredTo':
      return v.offeredTo;
    case 'pledgee':
      return v.pledge?.bank ?? null;
    case 'issuer':
      return v.issuer;
    default: {
      const _exhaustive: never = role;
      return _exhaustive;
    }
  }
};

/** The statuses in which an op on an existing voucher can be accepted (none for the others). */
export const acceptedIn = (type: OpType): readonly VoucherStatus[] => {
  const signers = OPS[type].signers;
  return signers.from === 'voucher' ? signers.acceptedIn : [];
};

/** The parties an op names besides its signers (§7 `UNKNOWN_PARTY`, `PARTY_SUSPENDED`). */
export const namedParties = (p: Payload): readonly NamedParty[] => specOf(p).names(p);

/**
 * The op's required signers (§7 table), or `null` when the required signer does not exist in the
 * voucher's current status (the first `VOUCHER_STATE_CONFLICT` row). `voucher` is the op's voucher,
 * present for every op whose signers the voucher names.
 */
export const requiredSigners = (p: Payload, voucher: Voucher | undefined): readonly string[] | null => {
  const signers = specOf(p).signers;
  if (signers.from === 'payload') return signers.of(p);
  if (voucher === undefined) return null;
  if (signers.onlyIn !== undefined && voucher.status !== signers.onlyIn) return null;
  const first = signerOf(voucher, signers.signer);
  if (first === null) return null;
  return signers.cosigner ? [first, signers.cosigner(p)] : [first];
};

/** Every record `decide` reads for `p` besides its signers: named parties first, then the rest. */
export interface AllRecordsRead {
  readonly parties: readonly string[];
  readonly keys: readonly string[];
  readonly invoices: readonly string[];
  readonly lineageOf: string | undefined;
}

export const recordsRead = (p: Payload): AllRecordsRead => {
  const spec = specOf(p);
  const extra = spec.reads(p);
  return {
    parties: [...spec.names(p).map((n) => n.id), ...(extra.parties ?? [])],
    keys: extra.keys ?? [],
    invoices: extra.invoices ?? [],
    lineageOf: extra.lineageOf,
  };
};

/**
 * Whether `me` starts `type` on voucher `v` in its current status: the op's first signer, in a
 * status where the op can be accepted. The console offers exactly these; the ledger still decides.
 */
export const startsOp = (type: OpType, v: SignerFields, me: string): boolean => {
  const signers = OPS[type].signers;
  if (signers.from !== 'voucher' || !acceptedIn(type).includes(v.status)) return false;
  if (signers.onlyIn !== undefined && v.status !== signers.onlyIn) return false;
  return signerOf(v, signers.signer) === me;
};
