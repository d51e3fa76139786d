/**
 * The bank's offline check of a proof bundle (docs/protocol.md §9), trusting ONLY the ledger id.
 *
 * A checklist, in this order; each step is one entry of `checks`, and `firstFailure` is the first
 * failing one:
 *
 *  1. bundle shape     the bundle is the §9 shape, entries in strictly increasing seq order  MALFORMED_BUNDLE
 *  2. voucher          the bundle is for the voucher the caller asked about (if it asked)     WRONG_VOUCHER
 *  3. genesis          entry 0 is present, hashes to the ledger id, and is a ledger.genesis   GENESIS_MISMATCH
 *                      op; it gives the node key, the operator key, currency and tenor
 *  4. checkpoint       the note is a checkpoint of this ledger signed by genesis's node key   BAD_CHECKPOINT
 *  5. ledger info      `bundle.ledger` says what genesis and the checkpoint say               GENESIS_MISMATCH
 *  6. entry hashes     each entry's hash, recomputed from the entry (RFC 9162 leaf), is the    ENTRY_HASH_MISMATCH
 *                      hash the bundle gives
 *  7. inclusion        each recomputed hash is in the checkpoint's tree at its seq             NOT_INCLUDED
 *  8. hash links       where seqs are consecutive, `prev` is the previous entry's hash;       CHAIN_BROKEN
 *                      time never decreases
 *  9. signatures       every signature verifies under the signer's key in force AT THAT       UNKNOWN_SIGNER,
 *                      entry (genesis's operator key, then party.register / party.update      BAD_SIGNATURE
 *                      of the bundle in seq order; a key rotated away later still signs
 *                      earlier entries)
 * 10. state entries    the entries `state` cites as its creation and its latest change         MISSING_ENTRY
 *                      (createdSeq, updatedSeq) are in the bundle and under the checkpoint
 * 11. replay           every entry after genesis, decided by the domain's `decide` against a  REPLAY_REFUSED,
 *                      `MemoryState` seeded from genesis at the entry's seq, time and op id,   MISSING_ENTRY
 *                      is ACCEPTED (they are on the ledger). A refusal because a voucher or
 *                      party does not exist in the replay is MISSING_ENTRY (the history is
 *                      incomplete); any other refusal is REPLAY_REFUSED (the history is
 *                      incomplete in a way that changes the outcome, or the ledger accepted
 *                      an op §7 refuses)
 * 12. state            the replayed state of `voucherId` (voucherToWire) equals `state`       STATE_MISMATCH
 *                      exactly (JCS of both)
 *
 * Never throws: any input, however malformed, gives a report with `ok: false` and a coded
 * failure. Steps 4–12 need a genesis, so a failure at step 1–3 ends the list there; a bad
 * checkpoint skips only the inclusion step. A replay refusal ends the replay, and the state is
 * then not compared (the replayed state would be meaningless).
 *
 * What a passing report proves is inclusion, not completeness: these entries are in the log
 * (under a checkpoint the node signed), signed by their parties, and they replay under §7 to
 * `state` — the state THESE entries give, as of the newest of them (`asOf`). It does not prove
 * that nothing changed since: §9 has no non-membership proof, so a bundle from which the newest
 * entries (a pledge, say) were dropped, with `state` rolled back to match, still passes under
 * the same, newest checkpoint. A recent checkpoint does not help; only the ledger can say what
 * changed: `compareWithCurrent` (freshness.ts) compares the state with the ledger's current one
 * where it can be reached, and the ledger itself refuses a pledge of a pledged voucher
 * (VOUCHER_PLEDGED) when it is submitted.
 */
import { decide } from '../domain/decide.js';
import { parseOp } from '../domain/schema.js';
import { MemoryState } from '../domain/state.js';
import { OPERATOR_ID, PATTERNS } from '../domain/limits.js';
import type { Decision, DecideContext, Pledge, Settlement, VoucherStatus } from '../domain/types.js';
import { voucherToWire } from '../domain/wire.js';
import { verify as verifyPortable } from '../ledger/ed25519.js';
import { verifyCheckpoint, type VerifyFn } from '../ledger/checkpoint.js';
import { entryHash, entryShapeProblem, type Entry } from '../ledger/entry.js';
import { isHex } from '../ledger/hex.js';
import { canonicalize } from '../ledger/jcs.js';
import { LEDGER_LIMITS } from '../ledger/limits.js';
import { verifyInclusion } from '../ledger/merkle.js';
import { opId, opPreimage } from '../ledger/op.js';
import { genesisOf, type Genesis } from './genesis.js';

/**
 * The closed list of failure codes, each one reason:
 *
 * | code                | meaning                                                                  |
 * |---------------------|--------------------------------------------------------------------------|
 * | MALFORMED_BUNDLE    | not the §9 shape (or entries out of seq order, duplicated, over limits)  |
 * | WRONG_VOUCHER       | a bundle for another voucher than the one asked about                    |
 * | GENESIS_MISMATCH    | no genesis, genesis does not hash to the ledger id or is not a genesis   |
 * |                     | op, or `bundle.ledger` contradicts genesis or the checkpoint             |
 * | BAD_CHECKPOINT      | the checkpoint is not this ledger's, or not signed by the node key       |
 * | ENTRY_HASH_MISMATCH | an entry does not hash to the hash the bundle gives for it               |
 * | NOT_INCLUDED        | an entry's inclusion proof does not lead to the checkpoint's root        |
 * | CHAIN_BROKEN        | consecutive entries not hash-linked, or time going backwards             |
 * | UNKNOWN_SIGNER      | a signer with no key in force at that entry (no registration in bundle)  |
 * | BAD_SIGNATURE       | a signature that does not verify under the signer's key at that entry    |
 * | MISSING_ENTRY       | the history is incomplete: an entry the state or an op relies on is absent |
 * | REPLAY_REFUSED      | an entry that §7 would refuse against the replayed state                 |
 * | STATE_MISMATCH      | `state` is not the replayed state                                        |
 */
export type BundleFailureCode =
  | 'MALFORMED_BUNDLE'
  | 'WRONG_VOUCHER'
  | 'GENESIS_MISMATCH'
  | 'BAD_CHECKPOINT'
  | 'ENTRY_HASH_MISMATCH'
  | 'NOT_INCLUDED'
  | 'CHAIN_BROKEN'
  | 'UNKNOWN_SIGNER'
  | 'BAD_SIGNATURE'
  | 'MISSING_ENTRY'
  | 'REPLAY_REFUSED'
  | 'STATE_MISMATCH';

export type BundleCheckName =
  | 'bundle shape'
  | 'voucher'
  | 'genesis'
  | 'checkpoint'
  | 'ledger info'
  | 'entry hashes'
  | 'inclusion'
  | 'hash links'
  | 'signatures'
  | 'state entries'
  | 'replay'
  | 'state';

export interface BundleCheck {
  readonly name: BundleCheckName;
  readonly ok: boolean;
  readonly detail: string;
  /** On failure: the code, and where known the entry's seq and the signer. */
  readonly code?: BundleFailureCode;
  readonly seq?: number;
  readonly signer?: string;
}

export interface BundleFailure {
  readonly code: BundleFailureCode;
  readonly detail: string;
  readonly check: BundleCheckName;
  readonly seq?: number;
  readonly signer?: string;
}

/** What the bank learns when the bundle verifies. Amounts are decimal minor units (§2). */
export interface BundleVerdict {
  readonly voucherId: string;
  readonly issuer: string;
  readonly holder: string;
  readonly offeredTo: string | null;
  readonly amount: string;
  readonly currency: string;
  readonly dueDate: string;
  readonly status: VoucherStatus;
  readonly pledge: Pledge | null;
  readonly settlement: Settlement | null;
  /** Voucher ids from the root down to this voucher. */
  readonly path: readonly string[];
  /** The size and root of the signed checkpoint the bundle's entries are included in. */
  readonly checkpointSize: number;
  readonly checkpointRoot: string;
}

/**
 * How old the state is: the seq and ledger time of the newest entry in the bundle (the state is
 * the one the bundle's entries give, as of that entry), and the size of the checkpoint they are
 * included in. Entries left out of the bundle, before or after that checkpoint, may have changed
 * the voucher; `compareWithCurrent` (freshness.ts) says how, where the ledger can be reached.
 */
export interface BundleAsOf {
  readonly seq: number;
  readonly time: string;
  readonly treeSize: number;
}

export interface BundleReport {
  readonly ok: boolean;
  readonly checks: readonly BundleCheck[];
  readonly firstFailure?: BundleFailure;
  readonly verdict?: BundleVerdict;
  /** Set whenever `ok`. */
  readonly asOf?: BundleAsOf;
}

export interface VerifyBundleOptions {
  /** The voucher the caller asks about; a bundle for another one is `WRONG_VOUCHER`. */
  readonly voucherId?: string;
  /** Signature verifier (op signatures and the checkpoint); default the portable one. */
  readonly verify?: VerifyFn;
}

/** At most this many entries in a bundle; a voucher's lineage and its parties fit easily. */
export const BUNDLE_ENTRIES_MAX = 100_000;

type Json = Record<string, unknown>;

const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

interface Item {
  readonly entry: Entry;
  readonly hash: string;
  readonly inclusion: readonly string[];
}

class Stop extends Error {}

/** Runs the checklist. Steps push into `checks`; `Stop` ends the list early. */
class BundleVerifier {
  readonly checks: BundleCheck[] = [];
  verdict: BundleVerdict | undefined;
  /** The newest entry of a bundle that passed the shape check. */
  newest: { readonly seq: number; readonly time: string } | undefined;
  readonly #verify: VerifyFn;

  constructor(
    readonly bundle: unknown,
    readonly ledgerId: string,
    readonly options: VerifyBundleOptions,
  ) {
    this.#verify = options.verify ?? verifyPortable;
  }

  pass(name: BundleCheckName, detail: string): void {
    this.checks.push({ name, ok: true, detail });
  }

  fail(name: BundleCheckName, code: BundleFailureCode, detail: string, where: { seq?: number; signer?: string } = {}): void {
    this.checks.push({ name, ok: false, code, detail, ...where });
  }

  run(): void {
    const { items, voucherId, state, ledger, note } = this.shape();
    const last = items.at(-1);
    if (last) this.newest = { seq: last.entry.seq, time: last.entry.time };
    this.wantedVoucher(voucherId);
    const genesis = this.genesis(items);
    const checkpoint = this.checkpoint(note, genesis);
    this.ledgerInfo(ledger, genesis, checkpoint);
    const hashes = this.entryHashes(items);
    if (checkpoint) this.inclusion(items, hashes, checkpoint);
    this.links(items, hashes);
    const verified = this.signatures(items, genesis);
    this.stateEntries(items, state, checkpoint);
    const replayed = this.replay(items, genesis, voucherId, verified);
    if (replayed) this.state(replayed, state, voucherId, checkpoint);
  }

  // 1.
  shape(): { items: Item[]; voucherId: string; state: unknown; ledger: unknown; note: string } {
    const bad = (detail: string): never => {
      this.fail('bundle shape', 'MALFORMED_BUNDLE', detail);
      throw new Stop();
    };
    if (!isHex(this.ledgerId, 32)) {
      this.fail('genesis', 'GENESIS_MISMATCH', 'the trusted ledger id is not 64 lowercase hex characters');
      throw new Stop();
    }
    const b = this.bundle;
    if (!isObject(b)) return bad('the bundle is not a JSON object');
    const { ledger, checkpoint, voucherId, entries, state } = b;
    if (typeof checkpoint !== 'string') return bad('"checkpoint" is not a string');
    if (typeof voucherId !== 'string' || !PATTERNS.voucherId.test(voucherId)) return bad('"voucherId" is not a voucher id');
    if (!isObject(ledger)) return bad('"ledger" is not an object');
    if (!isObject(state)) return bad('"state" is not an object');
    if (!Array.isArray(entries) || entries.length === 0) return bad('"entries" is not a non-empty array');
    if (entries.length > BUNDLE_ENTRIES_MAX) return bad(`more than ${BUNDLE_ENTRIES_MAX} entries`);
    const items: Item[] = [];
    for (let i = 0; i < entries.length; i++) {
      const item: unknown = entries[i];
      if (!isObject(item)) return bad(`entries[${i}] is not an object`);
      const problem = entryShapeProblem(item.entry);
      if (problem !== undefined) return bad(`entries[${i}].entry: ${problem}`);
      if (!isHex(item.hash, 32)) return bad(`entries[${i}].hash is not 64 lowercase hex characters`);
      const inclusion = item.inclusion;
      if (!Array.isArray(inclusion) || inclusion.length > LEDGER_LIMITS.proofHashesMax || !inclusion.every((h) => isHex(h, 32))) {
        return bad(`entries[${i}].inclusion is not a list of at most ${LEDGER_LIMITS.proofHashesMax} hashes`);
      }
      const entry = item.entry as Entry;
      const previous = items[i - 1];
      if (previous && entry.seq <= previous.entry.seq) return bad(`entries are not in strictly increasing seq order at entries[${i}]`);
      items.push({ entry, hash: item.hash, inclusion: inclusion as string[] });
    }
    this.pass('bundle shape', `${items.length} entries for ${voucherId}`);
    return { items, voucherId, state, ledger, note: checkpoint };
  }

  // 2.
  wantedVoucher(voucherId: string): void {
    const wanted = this.options.voucherId;
    if (wanted === undefined) return;
    if (voucherId !== wanted) {
      this.fail('voucher', 'WRONG_VOUCHER', `the bundle is for ${voucherId}, not ${wanted}`);
      throw new Stop();
    }
    this.pass('voucher', `the bundle is for ${wanted}`);
  }

  // 3.
  genesis(items: readonly Item[]): Genesis {
    const bad = (detail: string): never => {
      this.fail('genesis', 'GENESIS_MISMATCH', detail, { seq: 0 });
      throw new Stop();
    };
    const first = items[0];
    if (!first || first.entry.seq !== 0) return bad('the bundle has no genesis (entry 0)');
    const hash = safeEntryHash(first.entry);
    if (hash !== this.ledgerId) return bad(`genesis hashes to ${hash ?? '(nothing)'}, not to the ledger id ${this.ledgerId}`);
    const genesis = genesisOf(first.entry);
    if (!genesis) return bad('entry 0 hashes to the ledger id but is not a ledger.genesis entry of §6');
    this.pass('genesis', `entry 0 hashes to the ledger id; node key ${genesis.nodeKey}`);
    return genesis;
  }

  // 4.
  checkpoint(note: string, genesis: Genesis): { size: number; root: string } | undefined {
    const verified = verifyCheckpoint(note, { ledgerId: this.ledgerId, nodePublicKey: genesis.nodeKey, verify: this.#verify });
    if (!verified.ok) {
      this.fail('checkpoint', 'BAD_CHECKPOINT', `${verified.code}: ${verified.detail}`);
      return undefined;
    }
    this.pass('checkpoint', `signed by the node key: size ${verified.size}, root ${verified.root}`);
    return { size: verified.size, root: verified.root };
  }

  // 5.
  ledgerInfo(ledger: unknown, genesis: Genesis, checkpoint: { size: number } | undefined): void {
    const l = ledger as Json;
    const expected: Json = {
      ledgerId: this.ledgerId,
      name: genesis.name,
      nodeKey: genesis.nodeKey,
      operatorKey: genesis.operatorKey,
      currency: genesis.currency,
      maxTenorDays: genesis.maxTenorDays,
      ...(checkpoint ? { size: checkpoint.size } : {}),
    };
    const wrong = Object.keys(expected).filter((k) => l[k] !== expected[k]);
    if (wrong.length > 0) {
      this.fail('ledger info', 'GENESIS_MISMATCH', `bundle.ledger contradicts genesis or the checkpoint in: ${wrong.join(', ')}`);
      return;
    }
    this.pass('ledger info', 'bundle.ledger agrees with genesis and the checkpoint');
  }

  // 6.
  entryHashes(items: readonly Item[]): (string | undefined)[] {
    const hashes = items.map((it) => safeEntryHash(it.entry));
    const bad = items.findIndex((it, i) => hashes[i] !== it.hash);
    if (bad >= 0) {
      const item = items[bad]!;
      const count = items.filter((it, i) => hashes[i] !== it.hash).length;
      this.fail(
        'entry hashes',
        'ENTRY_HASH_MISMATCH',
        `entry ${item.entry.seq} hashes to ${hashes[bad] ?? '(not canonicalizable)'}, not ${item.hash}${more(count)}`,
        { seq: item.entry.seq },
      );
    } else {
      this.pass('entry hashes', `${items.length} entries hash to the hashes given`);
    }
    return hashes;
  }

  // 7.
  inclusion(items: readonly Item[], hashes: readonly (string | undefined)[], cp: { size: number; root: string }): void {
    let first: { seq: number; detail: string } | undefined;
    let count = 0;
    items.forEach((it, i) => {
      const r = verifyInclusion(hashes[i] ?? '', it.entry.seq, cp.size, it.inclusion, cp.root);
      if (!r.ok) {
        count += 1;
        first ??= { seq: it.entry.seq, detail: `entry ${it.entry.seq} is not in the checkpoint's tree of ${cp.size}: ${r.code}` };
      }
    });
    if (first) this.fail('inclusion', 'NOT_INCLUDED', `${first.detail}${more(count)}`, { seq: first.seq });
    else this.pass('inclusion', `${items.length} entries are in the tree of size ${cp.size}`);
  }

  // 8.
  links(items: readonly Item[], hashes: readonly (string | undefined)[]): void {
    for (let i = 1; i < items.length; i++) {
      const prev = items[i - 1]!.entry;
      const cur = items[i]!.entry;
      if (cur.time < prev.time) {
        this.fail('hash links', 'CHAIN_BROKEN', `entry ${cur.seq} has time ${cur.time}, before entry ${prev.seq}'s ${prev.time}`, { seq: cur.seq });
        return;
      }
      if (cur.seq === prev.seq + 1 && cur.prev !== hashes[i - 1]) {
        this.fail('hash links', 'CHAIN_BROKEN', `entry ${cur.seq}'s prev is not entry ${prev.seq}'s hash`, { seq: cur.seq });
        return;
      }
    }
    this.pass('hash links', 'consecutive entries are linked; time never decreases');
  }

  // 9.
  signatures(items: readonly Item[], genesis: Genesis): Map<number, Map<string, boolean>> {
    const keys = new Map<string, string>([[OPERATOR_ID, genesis.operatorKey]]);
    const results = new Map<number, Map<string, boolean>>();
    const problems: { code: BundleFailureCode; detail: string; seq: number; signer?: string }[] = [];
    let checked = 0;
    const note = (code: BundleFailureCode, detail: string, seq: number, signer?: string): void => {
      problems.push({ code, detail, seq, ...(signer === undefined ? {} : { signer }) });
    };
    for (const { entry } of items.slice(1)) {
      const seq = entry.seq;
      const payload = entry.op.payload;
      let preimage: Uint8Array | undefined;
      try {
        preimage = opPreimage(payload);
      } catch {
        preimage = undefined;
      }
      const byKey = new Map<string, boolean>();
      results.set(seq, byKey);
      if (entry.op.signatures.length === 0) note('BAD_SIGNATURE', `entry ${seq} has no signature`, seq);
      for (const s of entry.op.signatures as readonly unknown[]) {
        if (!isObject(s) || typeof s.signer !== 'string' || typeof s.sig !== 'string') {
          note('BAD_SIGNATURE', `entry ${seq} has a malformed signature`, seq);
          continue;
        }
        const key = keys.get(s.signer);
        if (key === undefined) {
          note('UNKNOWN_SIGNER', `entry ${seq} is signed by ${s.signer}, who has no key in the bundle at that entry`, seq, s.signer);
          continue;
        }
        checked += 1;
        const ok = preimage !== undefined && this.#verify(key, preimage, s.sig);
        byKey.set(`${key}|${s.sig}`, ok);
        if (!ok) note('BAD_SIGNATURE', `the signature of ${s.signer} on entry ${seq} does not verify under its key at that entry`, seq, s.signer);
      }
      // Keys in force from the next entry on.
      const p = payload as Json;
      if (p.type === 'party.register' && isObject(p.party) && typeof p.party.id === 'string' && typeof p.party.publicKey === 'string') {
        keys.set(p.party.id, p.party.publicKey);
      } else if (p.type === 'party.update' && typeof p.partyId === 'string' && typeof p.publicKey === 'string') {
        keys.set(p.partyId, p.publicKey);
      }
    }
    const f = problems[0];
    if (f) {
      this.fail('signatures', f.code, `${f.detail}${more(problems.length)}`, { seq: f.seq, ...(f.signer === undefined ? {} : { signer: f.signer }) });
    } else {
      this.pass('signatures', `${checked} signatures verify under the keys in force at their entries`);
    }
    return results;
  }

  // 10.
  stateEntries(items: readonly Item[], state: unknown, cp: { size: number } | undefined): void {
    const s = state as Json;
    const seqs = new Set(items.map((it) => it.entry.seq));
    for (const field of ['createdSeq', 'updatedSeq'] as const) {
      const seq = s[field];
      if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
        this.fail('state entries', 'STATE_MISMATCH', `state.${field} is not a seq`);
        return;
      }
      if (cp && seq >= cp.size) {
        this.fail('state entries', 'STATE_MISMATCH', `state.${field} ${seq} is past the checkpoint's size ${cp.size}`, { seq });
        return;
      }
      if (!seqs.has(seq)) {
        this.fail('state entries', 'MISSING_ENTRY', `state.${field} is ${seq}, but entry ${seq} is not in the bundle`, { seq });
        return;
      }
    }
    this.pass('state entries', "the entries that state's createdSeq and updatedSeq name are in the bundle");
  }

  // 11.
  replay(items: readonly Item[], genesis: Genesis, voucherId: string, verified: ReadonlyMap<number, ReadonlyMap<string, boolean>>): MemoryState | undefined {
    const state = new MemoryState({ operatorPublicKey: genesis.operatorKey });
    for (const { entry } of items.slice(1)) {
      const seq = entry.seq;
      const parsed = parseOp(entry.op);
      if (!parsed.ok) {
        this.fail('replay', 'REPLAY_REFUSED', `entry ${seq} is not a valid op: ${parsed.code}: ${parsed.detail}`, { seq });
        return undefined;
      }
      const op = parsed.op;
      const payload = entry.op.payload;
      let preimage: Uint8Array | undefined;
      const cache = verified.get(seq);
      const context: DecideContext = {
        ledgerId: this.ledgerId,
        currency: genesis.currency,
        maxTenorDays: genesis.maxTenorDays,
        seq,
        time: entry.time,
        opId: opId(payload),
        nodeKey: genesis.nodeKey,
        verifySignature: (publicKey, sig) => {
          const known = cache?.get(`${publicKey}|${sig}`);
          if (known !== undefined) return known;
          preimage ??= opPreimage(payload);
          return this.#verify(publicKey, preimage, sig);
        },
      };
      let decision: Decision;
      try {
        decision = decide(state, op, context);
      } catch (err) {
        // decide asserts its invariants; the bundle's state broke one.
        this.fail('replay', 'REPLAY_REFUSED', `entry ${seq} (${op.payload.type}) breaks an invariant: ${err instanceof Error ? err.message : String(err)}`, {
          seq,
        });
        return undefined;
      }
      if (!decision.ok) {
        const absent =
          decision.code === 'UNKNOWN_PARTY' ||
          (decision.code === 'VOUCHER_NOT_FOUND' && 'voucherId' in op.payload && state.voucher(op.payload.voucherId) === undefined);
        this.fail(
          'replay',
          absent ? 'MISSING_ENTRY' : 'REPLAY_REFUSED',
          absent
            ? `entry ${seq} (${op.payload.type}) relies on an entry the bundle lacks: ${decision.code}: ${decision.detail}`
            : `entry ${seq} (${op.payload.type}) would be refused: ${decision.code}: ${decision.detail}`,
          { seq },
        );
        return undefined;
      }
      try {
        state.apply(decision.effects);
      } catch (err) {
        this.fail('replay', 'REPLAY_REFUSED', `entry ${seq} cannot be applied: ${err instanceof Error ? err.message : String(err)}`, { seq });
        return undefined;
      }
    }
    if (state.voucher(voucherId) === undefined) {
      this.fail('replay', 'MISSING_ENTRY', `no entry of the bundle creates ${voucherId}`);
      return undefined;
    }
    this.pass('replay', `${items.length - 1} entries replay under §7, each accepted`);
    return state;
  }

  // 12.
  state(replayed: MemoryState, claimed: unknown, voucherId: string, cp: { size: number; root: string } | undefined): void {
    const voucher = replayed.voucher(voucherId)!;
    const wire = voucherToWire(voucher);
    let claimedText: string | undefined;
    try {
      claimedText = canonicalize(claimed);
    } catch {
      claimedText = undefined;
    }
    if (claimedText !== canonicalize(wire)) {
      const c = claimed as Json;
      const differing = Object.keys({ ...wire, ...c }).filter((k) => safeCanonical(c[k]) !== safeCanonical((wire as unknown as Json)[k]));
      this.fail('state', 'STATE_MISMATCH', `state differs from the replayed state in: ${differing.join(', ') || '(encoding)'}`);
      return;
    }
    this.pass('state', `state is the replayed state of ${voucherId}`);
    if (!cp) return;
    const path: string[] = [];
    for (let v = replayed.voucher(voucherId); v !== undefined; v = v.parentId === null ? undefined : replayed.voucher(v.parentId)) {
      path.unshift(v.id);
    }
    this.verdict = {
      voucherId,
      issuer: wire.issuer,
      holder: wire.holder,
      offeredTo: wire.offeredTo,
      amount: wire.amount,
      currency: wire.currency,
      dueDate: wire.dueDate,
      status: wire.status,
      pledge: wire.pledge,
      settlement: wire.settlement,
      path,
      checkpointSize: cp.size,
      checkpointRoot: cp.root,
    };
  }
}

const more = (count: number): string => (count > 1 ? ` (and ${count - 1} more)` : '');

const safeEntryHash = (entry: Entry): string | undefined => {
  try {
    return entryHash(entry);
  } catch {
    return undefined;
  }
};

const safeCanonical = (x: unknown): string | undefined => {
  try {
    return x === undefined ? undefined : canonicalize(x);
  } catch {
    return undefined;
  }
};

/**
 * Verifies a §9 proof bundle trusting only `ledgerId`. Never throws; see the module comment for
 * the checklist and `BundleFailureCode` for the codes.
 */
export const verifyBundle = (bundle: unknown, ledgerId: string, options: VerifyBundleOptions = {}): BundleReport => {
  const v = new BundleVerifier(bundle, ledgerId, options);
  try {
    v.run();
  } catch (err) {
    if (!(err instanceof Stop)) {
      // Not reachable with JSON input as far as we know; a report, never a throw.
      v.fail('bundle shape', 'MALFORMED_BUNDLE', `verification stopped: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const failed = v.checks.find((c) => !c.ok);
  const firstFailure: BundleFailure | undefined = failed
    ? {
        code: failed.code!,
        detail: failed.detail,
        check: failed.name,
        ...(failed.seq === undefined ? {} : { seq: failed.seq }),
        ...(failed.signer === undefined ? {} : { signer: failed.signer }),
      }
    : undefined;
  const ok = failed === undefined && v.verdict !== undefined && v.newest !== undefined;
  const asOf: BundleAsOf | undefined = ok ? { seq: v.newest!.seq, time: v.newest!.time, treeSize: v.verdict!.checkpointSize } : undefined;
  return { ok, checks: v.checks, ...(firstFailure ? { firstFailure } : {}), ...(ok ? { verdict: v.verdict, asOf } : {}) };
};
