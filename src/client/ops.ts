/**
 * Building and signing ops (docs/protocol.md §3, §4, §7), portable.
 *
 * Builders take typed parameters (amounts as `bigint` minor units) and return the wire payload
 * (amounts as decimal strings, §2) with `ledger`, a fresh random `nonce` and an optional
 * `expiresAt`. Each builder checks its result with the domain's own strict schema (`parseOp`), so
 * a payload the service would refuse as `MALFORMED_REQUEST` is refused here, before anything is
 * signed, with an `InvalidOpError`.
 *
 * `signEnvelope` signs one preimage (`"rvl/op/v1\n" ‖ JCS(payload)`) with every key;
 * `addSignature` adds a co-signer to a prepared envelope (a pledge is prepared by the holder and
 * co-signed by the bank, or the other way round). `opIdOf` and `voucherIdsOf` compute, before
 * submitting, the op's identity and the ids of the vouchers it will create (§7 rule 3).
 */
import { base64url } from 'jose';

import { parseOp } from '../domain/schema.js';
import { LIMITS, PATTERNS } from '../domain/limits.js';
import type { Payload } from '../domain/types.js';
import type { WireVoucher } from '../domain/wire.js';
import { sign, verify } from '../ledger/ed25519.js';
import { opId, opPreimage } from '../ledger/op.js';
import type { Signer } from './keys.js';

// ---- wire types ----

type WireValue<T> = T extends bigint ? string : T extends readonly bigint[] ? string[] : T extends readonly (infer U)[] ? U[] : T;
/** A domain payload type as it travels: bigint amounts become decimal strings. */
export type WireOf<P> = { -readonly [K in keyof P]: WireValue<P[K]> };
/** Any client payload of §7, as JSON. */
export type WirePayload = WireOf<Payload>;
export type WirePayloadOf<T extends WirePayload['type']> = Extract<WirePayload, { type: T }>;

export interface WireSignature {
  signer: string;
  sig: string;
}

/** §4: a payload and the signatures of its required signers. */
export interface SignedEnvelope<P extends WirePayload = WirePayload> {
  payload: P;
  signatures: WireSignature[];
}

/** A builder's input was not a valid op: the service would answer `MALFORMED_REQUEST`. */
export class InvalidOpError extends Error {
  override readonly name = 'InvalidOpError';
  readonly code = 'MALFORMED_REQUEST';
  constructor(readonly detail: string) {
    super(`MALFORMED_REQUEST: ${detail}`);
  }
}

// ---- common fields ----

/** Bytes of randomness in a nonce: 16 bytes are 22 base64url chars (§2 allows 8–64). */
const NONCE_BYTES = 16;

/** A fresh nonce: 16 random bytes (crypto.getRandomValues), base64url without padding. */
export const newNonce = (): string => base64url.encode(crypto.getRandomValues(new Uint8Array(NONCE_BYTES)));

export interface CommonParams {
  /** The ledger id (§6). */
  readonly ledger: string;
  /** Default: a fresh random nonce. Give one only to rebuild a known op. */
  readonly nonce?: string;
  /** The op is refused once ledger time passes this (§4). */
  readonly expiresAt?: string | Date;
}

/** A domain payload's own fields (bigint amounts), without `type` and the common fields: what its builder takes. */
type PayloadFields<T extends Payload['type']> = Omit<Extract<Payload, { type: T }>, 'type' | keyof CommonParams>;

const common = (p: CommonParams): { ledger: string; nonce: string; expiresAt?: string } => {
  const out: { ledger: string; nonce: string; expiresAt?: string } = { ledger: p.ledger, nonce: p.nonce ?? newNonce() };
  if (p.expiresAt !== undefined) {
    out.expiresAt = p.expiresAt instanceof Date ? p.expiresAt.toISOString() : p.expiresAt;
  }
  return out;
};

/** §2: an amount in minor units, 1 … 10^15, as its decimal string. */
export const amountToWire = (amount: bigint): string => {
  if (typeof amount !== 'bigint') throw new InvalidOpError('amounts are bigint minor units');
  if (amount < LIMITS.amountMinMinor || amount > LIMITS.amountMaxMinor) {
    throw new InvalidOpError(`amount ${amount} is outside ${LIMITS.amountMinMinor} … ${LIMITS.amountMaxMinor}`);
  }
  return amount.toString();
};

/** Checks a built payload with the service's own strict schema; returns it unchanged. */
const checked = <P extends WirePayload>(payload: P): P => {
  // parseOp checks a whole envelope; a placeholder signature lets it check just the payload.
  const parsed = parseOp({ payload, signatures: [{ signer: 'placeholder', sig: '0'.repeat(128) }] });
  if (!parsed.ok) throw new InvalidOpError(parsed.detail);
  return payload;
};

/** Drops optional fields left `undefined`, so the payload's JSON is exactly what is hashed. */
const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

// ---- builders, one per op type of §7 ----

export interface PartyRegisterParams extends CommonParams, PayloadFields<'party.register'> {}
export const partyRegister = (p: PartyRegisterParams): WirePayloadOf<'party.register'> =>
  checked({
    type: 'party.register',
    ...common(p),
    party: { id: p.party.id, name: p.party.name, role: p.party.role, publicKey: p.party.publicKey },
  });

export interface PartyUpdateParams extends CommonParams, PayloadFields<'party.update'> {}
export const partyUpdate = (p: PartyUpdateParams): WirePayloadOf<'party.update'> =>
  checked(defined({ type: 'party.update' as const, ...common(p), partyId: p.partyId, publicKey: p.publicKey, status: p.status }));

/**
 * `issuer`, `to`, `amount` (bigint minor units), `currency` (the ledger's, from `GET /v1/ledger`,
 * e.g. CNY), `dueDate` (YYYY-MM-DD), `invoiceIds` and an optional `memo`: the domain payload's
 * own fields.
 */
export interface VoucherIssueParams extends CommonParams, PayloadFields<'voucher.issue'> {}
export const voucherIssue = (p: VoucherIssueParams): WirePayloadOf<'voucher.issue'> =>
  checked(
    defined({
      type: 'voucher.issue' as const,
      ...common(p),
      issuer: p.issuer,
      to: p.to,
      amount: amountToWire(p.amount),
      currency: p.currency,
      dueDate: p.dueDate,
      invoiceIds: [...p.invoiceIds],
      memo: p.memo,
    }),
  );

export interface VoucherParams extends CommonParams {
  readonly voucherId: string;
}
export const voucherAccept = (p: VoucherParams): WirePayloadOf<'voucher.accept'> => checked({ type: 'voucher.accept', ...common(p), voucherId: p.voucherId });

export interface VoucherRejectParams extends VoucherParams {
  readonly reason?: string;
}
export const voucherReject = (p: VoucherRejectParams): WirePayloadOf<'voucher.reject'> =>
  checked(defined({ type: 'voucher.reject' as const, ...common(p), voucherId: p.voucherId, reason: p.reason }));

export const voucherCancel = (p: VoucherParams): WirePayloadOf<'voucher.cancel'> => checked({ type: 'voucher.cancel', ...common(p), voucherId: p.voucherId });

export interface VoucherSplitParams extends VoucherParams {
  readonly amounts: readonly bigint[];
}
export const voucherSplit = (p: VoucherSplitParams): WirePayloadOf<'voucher.split'> =>
  checked({ type: 'voucher.split', ...common(p), voucherId: p.voucherId, amounts: p.amounts.map(amountToWire) });

export interface VoucherTransferParams extends VoucherParams {
  readonly to: string;
  /** A partial transfer: this much goes to `to`, the rest stays (§7). Omit to move the whole. */
  readonly amount?: bigint;
}
export const voucherTransfer = (p: VoucherTransferParams): WirePayloadOf<'voucher.transfer'> =>
  checked(
    defined({
      type: 'voucher.transfer' as const,
      ...common(p),
      voucherId: p.voucherId,
      to: p.to,
      amount: p.amount === undefined ? undefined : amountToWire(p.amount),
    }),
  );

export interface VoucherPledgeParams extends VoucherParams {
  readonly bank: string;
  readonly loanRef: string;
  readonly amount?: bigint;
}
export const voucherPledge = (p: VoucherPledgeParams): WirePayloadOf<'voucher.pledge'> =>
  checked(
    defined({
      type: 'voucher.pledge' as const,
      ...common(p),
      voucherId: p.voucherId,
      bank: p.bank,
      loanRef: p.loanRef,
      amount: p.amount === undefined ? undefined : amountToWire(p.amount),
    }),
  );

export const voucherRelease = (p: VoucherParams): WirePayloadOf<'voucher.release'> =>
  checked({ type: 'voucher.release', ...common(p), voucherId: p.voucherId });

export interface VoucherSettleParams extends VoucherParams {
  readonly paymentRef: string;
}
export const voucherSettle = (p: VoucherSettleParams): WirePayloadOf<'voucher.settle'> =>
  checked({ type: 'voucher.settle', ...common(p), voucherId: p.voucherId, paymentRef: p.paymentRef });

/** A builder's name: `voucher.settle` → `voucherSettle`. */
type BuilderName<T extends string> = T extends `${infer A}.${infer B}` ? `${A}${Capitalize<B>}` : never;

/** Every builder, by op type. */
export const build = {
  partyRegister,
  partyUpdate,
  voucherIssue,
  voucherAccept,
  voucherReject,
  voucherCancel,
  voucherSplit,
  voucherTransfer,
  voucherPledge,
  voucherRelease,
  voucherSettle,
} as const satisfies { readonly [T in Payload['type'] as BuilderName<T>]: (p: never) => WirePayloadOf<T> };

// ---- identity and signatures ----

/** §3: the op's id, hex SHA-256 of `"rvl/op/v1\n" ‖ JCS(payload)`. */
export const opIdOf = (payload: WirePayload | Readonly<Record<string, unknown>>): string => opId(payload);

const signatureOf = (payload: object, key: Signer): WireSignature => {
  if (!PATTERNS.partyId.test(key.party)) throw new TypeError(`signer "${key.party}" is not a party id`);
  return { signer: key.party, sig: sign(key.secretKey, opPreimage(payload)) };
};

/**
 * §3–§4: every key signs the same preimage. The keys must be exactly the op's required signers
 * (§7), each once; the service checks which ones those are.
 */
export const signEnvelope = <P extends WirePayload>(payload: P, keys: readonly Signer[]): SignedEnvelope<P> => {
  if (keys.length < LIMITS.signaturesMin || keys.length > LIMITS.signaturesMax) {
    throw new TypeError(`an envelope has ${LIMITS.signaturesMin}–${LIMITS.signaturesMax} signatures`);
  }
  if (new Set(keys.map((k) => k.party)).size !== keys.length) throw new TypeError('a party signs an envelope once');
  return { payload, signatures: keys.map((k) => signatureOf(payload, k)) };
};

/**
 * Co-signs a prepared envelope (e.g. the bank's half of a pledge). Returns a new envelope; the
 * payload is untouched, so the op id does not change. Signing twice with the same key is a no-op;
 * a different signature already there for the same party is an error.
 */
export const addSignature = <P extends WirePayload>(envelope: SignedEnvelope<P>, key: Signer): SignedEnvelope<P> => {
  const signature = signatureOf(envelope.payload, key);
  const existing = envelope.signatures.find((s) => s.signer === key.party);
  if (existing) {
    if (existing.sig === signature.sig) return envelope;
    throw new TypeError(`the envelope already holds another signature by ${key.party}`);
  }
  if (envelope.signatures.length >= LIMITS.signaturesMax) {
    throw new TypeError(`an envelope has at most ${LIMITS.signaturesMax} signatures`);
  }
  return { payload: envelope.payload, signatures: [...envelope.signatures, signature] };
};

/**
 * Does `signer`'s signature in the envelope verify under `publicKey`? For a co-signer to check the
 * other half before adding its own. False when the signer has not signed.
 */
export const hasValidSignature = (envelope: SignedEnvelope, signer: string, publicKey: string): boolean => {
  const s = envelope.signatures.find((x) => x.signer === signer);
  return s !== undefined && verify(publicKey, opPreimage(envelope.payload), s.sig);
};

// ---- voucher ids (§7 rule 3) ----

const VOUCHER_ID = /^(v[0-9a-f]{24})(?::(0|[1-9][0-9]{0,15})-([1-9][0-9]{0,15}))?$/;

/** The root id and range of a voucher id, when the id says them (a root id does not say its end). */
export const parseVoucherId = (id: string): { rootId: string; start: bigint; end: bigint | undefined } | undefined => {
  const m = VOUCHER_ID.exec(id);
  if (!m || !PATTERNS.voucherId.test(id)) return undefined;
  const rootId = m[1]!;
  if (m[2] === undefined) return { rootId, start: 0n, end: undefined };
  return { rootId, start: BigInt(m[2]), end: BigInt(m[3]!) };
};

/** §7 rule 3: a root's id is "v" + the first 24 hex chars of the issuing op id. */
export const rootIdOf = (issueOpId: string): string => `v${issueOpId.slice(0, 24)}`;

/**
 * The ids of the vouchers the op will create, in the order §7 creates them: for `voucher.issue`
 * the root; for `voucher.split` the children in the order of `amounts`; for a partial transfer or
 * pledge `[moved, rest]`. Ops that create no voucher give `[]`.
 *
 * Children need the parent's range. A child id says it; a root id does not say its end, so a
 * partial transfer or pledge of a root needs `current` (the voucher as read, e.g. `client.voucher`).
 */
export const voucherIdsOf = (payload: WirePayload, current?: Pick<WireVoucher, 'id' | 'range'>): string[] => {
  if (payload.type === 'voucher.issue') return [rootIdOf(opIdOf(payload))];
  if (payload.type !== 'voucher.split' && payload.type !== 'voucher.transfer' && payload.type !== 'voucher.pledge') return [];
  if (payload.type !== 'voucher.split' && payload.amount === undefined) return [];

  const parent = parseVoucherId(payload.voucherId);
  if (!parent) throw new InvalidOpError(`${payload.voucherId} is not a voucher id`);
  if (current !== undefined && current.id !== payload.voucherId) {
    throw new TypeError(`current is ${current.id}, not the op's voucher ${payload.voucherId}`);
  }
  const start = current ? BigInt(current.range.start) : parent.start;
  const end = current ? BigInt(current.range.end) : parent.end;
  const parts =
    payload.type === 'voucher.split'
      ? payload.amounts.map((a) => BigInt(a))
      : ((): bigint[] => {
          if (end === undefined) {
            throw new TypeError(`a partial ${payload.type} of root ${payload.voucherId} needs the voucher's current state`);
          }
          const moved = BigInt(payload.amount!);
          if (moved >= end - start) throw new TypeError(`a partial amount must be below the voucher's ${end - start}`);
          return [moved, end - start - moved];
        })();
  const ids: string[] = [];
  let at = start;
  for (const part of parts) {
    ids.push(`${parent.rootId}:${at}-${at + part}`);
    at += part;
  }
  return ids;
};

/** The voucher an op leaves with the recipient: the moved child of a partial move, else the voucher itself. */
export const movedVoucherIdOf = (payload: WirePayload, current?: Pick<WireVoucher, 'id' | 'range'>): string | undefined => {
  if (payload.type !== 'voucher.transfer' && payload.type !== 'voucher.pledge') return undefined;
  return payload.amount === undefined ? payload.voucherId : voucherIdsOf(payload, current)[0];
};
