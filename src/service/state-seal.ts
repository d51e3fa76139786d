/**
 * The state seal: an authenticated digest of the records `decide` reads (parties, key owners,
 * vouchers, invoices, tagged `p`, `k`, `v` and `inv` in their terms), so that the node never decides — and never signs a
 * checkpoint — over derived state that was edited in its data folder.
 *
 *   kState   = HMAC-SHA256(node seed, "rvl/state-seal/v1")
 *   term(r)  = HMAC-SHA256(kState, tag ‖ 0x00 ‖ id ‖ 0x00 ‖ value bytes as stored)
 *   D        = Σ term(r) mod 2^256 over every sealed record r
 *   seal     = { size, root, digest: D, mac: HMAC-SHA256(kState, "seal" ‖ 0x00 ‖ size ‖ 0x00 ‖ root ‖ 0x00 ‖ D) }
 *
 * The sum is a multiset hash: the writer keeps it incrementally (a changed record subtracts its old
 * term and adds its new one), and a start-up scan recomputes it from the raw stored bytes without
 * parsing them. The terms are keyed, so without the node seed no one can craft records whose
 * terms keep the sum (an unkeyed sum would fall to a generalized-birthday search). kState never
 * leaves the process and is never logged. The value bytes are the store's: JSON.stringify of the
 * record for parties and vouchers (a record decoded and stringified again gives the same bytes),
 * the UTF-8 string for the others.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Party } from '../domain/index.js';
import { fromHex } from '../ledger/hex.js';
import { SEALED_KINDS, type SealedKind, type StateSeal, type Store, type VoucherRecord } from '../store/port.js';

/** Domain separation of kState from every other use of the node seed. */
export const STATE_SEAL_TAG = 'rvl/state-seal/v1';
const SEP = Buffer.from([0x00]);

/** Each sealed kind's tag in its terms (part of every stored seal: never change one). */
const TAG: Readonly<Record<SealedKind, string>> = { parties: 'p', keyOwners: 'k', vouchers: 'v', invoices: 'inv' };
const LIMBS = 8;

/** A sum of terms mod 2^256, as eight 32-bit limbs, least significant first. */
export class Digest {
  readonly #limbs: Uint32Array;

  private constructor(limbs: Uint32Array) {
    this.#limbs = limbs;
  }

  static zero(): Digest {
    return new Digest(new Uint32Array(LIMBS));
  }

  /** Parses 64 hex characters; undefined for anything else. */
  static fromHex(hex: string): Digest | undefined {
    if (!/^[0-9a-f]{64}$/.test(hex)) return undefined;
    const limbs = new Uint32Array(LIMBS);
    for (let i = 0; i < LIMBS; i += 1) limbs[i] = Number.parseInt(hex.slice(64 - 8 * (i + 1), 64 - 8 * i), 16);
    return new Digest(limbs);
  }

  copy(): Digest {
    return new Digest(new Uint32Array(this.#limbs));
  }

  /** Adds a 32-byte big-endian term. */
  add(term: Uint8Array): void {
    let carry = 0;
    for (let i = 0; i < LIMBS; i += 1) {
      const at = 28 - 4 * i;
      const t = ((term[at]! << 24) >>> 0) + (term[at + 1]! << 16) + (term[at + 2]! << 8) + term[at + 3]!;
      const sum = this.#limbs[i]! + t + carry;
      this.#limbs[i] = sum >>> 0;
      carry = sum > 0xffffffff ? 1 : 0;
    }
  }

  /** Subtracts a 32-byte big-endian term. */
  sub(term: Uint8Array): void {
    let borrow = 0;
    for (let i = 0; i < LIMBS; i += 1) {
      const at = 28 - 4 * i;
      const t = ((term[at]! << 24) >>> 0) + (term[at + 1]! << 16) + (term[at + 2]! << 8) + term[at + 3]!;
      const diff = this.#limbs[i]! - t - borrow;
      this.#limbs[i] = diff >>> 0;
      borrow = diff < 0 ? 1 : 0;
    }
  }

  hex(): string {
    let out = '';
    for (let i = LIMBS - 1; i >= 0; i -= 1) out += this.#limbs[i]!.toString(16).padStart(8, '0');
    return out;
  }
}

/** kState and what is keyed with it. */
export class SealKey {
  readonly #key: KeyObject;

  private constructor(key: KeyObject) {
    this.#key = key;
  }

  /** kState = HMAC-SHA256(seed, tag), from the node's hex seed. */
  static fromSeed(seedHex: string): SealKey {
    const derived = createHmac('sha256', fromHex(seedHex, 32)).update(STATE_SEAL_TAG).digest();
    return new SealKey(createSecretKey(derived));
  }

  /** A record's term: HMAC(kState, tag ‖ 0x00 ‖ id ‖ 0x00 ‖ value); strings are hashed as UTF-8. */
  term(kind: SealedKind, id: string, value: string | Uint8Array): Buffer {
    return createHmac('sha256', this.#key).update(TAG[kind]).update(SEP).update(id).update(SEP).update(value).digest();
  }

  #mac(size: number, root: string, digest: string): Buffer {
    return createHmac('sha256', this.#key).update(`seal\u0000${size}\u0000${root}\u0000${digest}`).digest();
  }

  seal(size: number, root: string, digest: Digest): StateSeal {
    const hex = digest.hex();
    return { size, root, digest: hex, mac: this.#mac(size, root, hex).toString('hex') };
  }

  /** True if the seal's fields are well formed and its MAC is ours. */
  verify(seal: StateSeal): boolean {
    if (
      typeof seal !== 'object' ||
      seal === null ||
      !Number.isSafeInteger(seal.size) ||
      seal.size < 0 ||
      typeof seal.root !== 'string' ||
      !/^[0-9a-f]{64}$/.test(seal.root) ||
      typeof seal.digest !== 'string' ||
      !/^[0-9a-f]{64}$/.test(seal.digest) ||
      typeof seal.mac !== 'string' ||
      !/^[0-9a-f]{64}$/.test(seal.mac)
    ) {
      return false;
    }
    return timingSafeEqual(this.#mac(seal.size, seal.root, seal.digest), Buffer.from(seal.mac, 'hex'));
  }
}

/** The sealed records a batch writes (the store's CommitBatch fields of the same names). */
export interface SealedWrites {
  readonly parties: readonly Party[];
  readonly keyOwners: readonly (readonly [publicKey: string, partyId: string])[];
  readonly vouchers: readonly VoucherRecord[];
  readonly invoicesUsed: readonly (readonly [invoiceId: string, rootId: string])[];
  readonly invoicesFreed: readonly string[];
}

/** The records as they were before a batch (null: absent). */
export interface SealedOriginals {
  party(id: string): Party | null;
  keyOwner(publicKey: string): string | null;
  voucher(id: string): VoucherRecord | null;
  invoice(invoiceId: string): string | null;
}

/** Moves `digest` over one batch's writes: each record's old term out, its new one in. */
export const applyWrites = (key: SealKey, digest: Digest, writes: SealedWrites, before: SealedOriginals): void => {
  for (const party of writes.parties) {
    const old = before.party(party.id);
    if (old) digest.sub(key.term('parties', party.id, JSON.stringify(old)));
    digest.add(key.term('parties', party.id, JSON.stringify(party)));
  }
  for (const [publicKey, owner] of writes.keyOwners) {
    const old = before.keyOwner(publicKey);
    if (old !== null) digest.sub(key.term('keyOwners', publicKey, old));
    digest.add(key.term('keyOwners', publicKey, owner));
  }
  for (const record of writes.vouchers) {
    const id = record.state.id;
    const old = before.voucher(id);
    if (old) digest.sub(key.term('vouchers', id, JSON.stringify(old)));
    digest.add(key.term('vouchers', id, JSON.stringify(record)));
  }
  for (const id of writes.invoicesFreed) {
    const old = before.invoice(id);
    if (old !== null) digest.sub(key.term('invoices', id, old));
  }
  for (const [id, root] of writes.invoicesUsed) {
    const old = before.invoice(id);
    if (old !== null) digest.sub(key.term('invoices', id, old));
    digest.add(key.term('invoices', id, root));
  }
};

/** Records hashed per store call while scanning. */
const SCAN_CHUNK = 1024;

/**
 * Recomputes D from every sealed record as stored (raw bytes, one pass per kind).
 * `onProgress` sees the count of records hashed; it may throw to stop the scan.
 */
export const scanState = async (store: Store, key: SealKey, onProgress?: (records: number) => void): Promise<{ digest: Digest; records: number }> => {
  const digest = Digest.zero();
  let records = 0;
  for (const kind of SEALED_KINDS) {
    for await (const chunk of store.sealedRecords(kind, SCAN_CHUNK)) {
      for (const [k, value] of chunk) digest.add(key.term(kind, k, value));
      records += chunk.length;
      onProgress?.(records);
    }
  }
  return { digest, records };
};

/**
 * After a digest mismatch: a cheap second pass that names a record the log does not account for,
 * where one can be found. A voucher's state is exactly what the entry of its last seq made it
 * (its receipt effects hold that state), its seqs lie inside the log, and a party's record is what
 * its last registration or update made it. Returns undefined if every record passes (the edit
 * is then one these checks do not see, e.g. a key owner or invoice record, or a removed record).
 */
export const findBadRecord = async (store: Store, size: number): Promise<{ detail: string; seq?: number } | undefined> => {
  const effectsAt = new Map<number, { vouchers?: { id: string }[]; parties?: { id: string }[] } | undefined>();
  const effects = async (seq: number) => {
    if (!effectsAt.has(seq)) {
      const text = await store.effects(seq);
      effectsAt.set(seq, text === undefined ? undefined : (JSON.parse(text) as never));
      if (effectsAt.size > 10_000) effectsAt.clear();
    }
    return effectsAt.get(seq);
  };
  for await (const chunk of store.sealedRecords('vouchers', SCAN_CHUNK)) {
    for (const [id, value] of chunk) {
      let record: VoucherRecord;
      try {
        record = JSON.parse(Buffer.from(value).toString('utf8')) as VoucherRecord;
      } catch {
        return { detail: `voucher record ${id} is not JSON` };
      }
      const seqs = Array.isArray(record.seqs) ? record.seqs : [];
      const past = seqs.find((s) => !Number.isSafeInteger(s) || s < 0 || s >= size);
      if (past !== undefined) return { detail: `voucher record ${id} names entry ${past}, past the log's end (size ${size})`, seq: size };
      const last = seqs.at(-1);
      if (last === undefined || record.state?.updatedSeq !== last) {
        return { detail: `voucher record ${id} was last changed at seq ${String(record.state?.updatedSeq)}, which its entry list does not say` };
      }
      const fx = await effects(last);
      const made = fx?.vouchers?.find((v) => v.id === id);
      if (!made || JSON.stringify(made) !== JSON.stringify(record.state)) {
        return { detail: `voucher record ${id} is not the state entry ${last} gave it`, seq: last };
      }
    }
  }
  for await (const chunk of store.sealedRecords('parties', SCAN_CHUNK)) {
    for (const [id, value] of chunk) {
      const seqs = await store.partySeqs(id);
      const last = seqs.at(-1);
      const past = seqs.find((s) => s >= size);
      if (past !== undefined) return { detail: `party ${id} names entry ${past}, past the log's end (size ${size})`, seq: size };
      const fx = last === undefined ? undefined : await effects(last);
      const made = fx?.parties?.find((p) => p.id === id);
      if (!made || JSON.stringify(made) !== Buffer.from(value).toString('utf8')) {
        return {
          detail: `party record ${id} is not what its last registration or update (seq ${String(last)}) made it`,
          ...(last === undefined ? {} : { seq: last }),
        };
      }
    }
  }
  return undefined;
};
