/**
 * The checkers: what a ledger must look like from outside, after anything (a crash, a storage
 * fault, a race, a long concurrent run).
 *
 *  - `checkLog`: genesis hashes to the ledger id, every seq 0…n-1 is there once, hash-linked, in
 *    time order; the checkpoint verifies under genesis's node key, covers exactly the log, and its
 *    root is the RFC 9162 root recomputed from the entries; every checkpoint seen before is a
 *    prefix of this log; no op id is on the ledger twice.
 *  - `checkModel`: the history against the pure domain model (src/domain). Every entry is replayed
 *    through `parseOp` + `decide` + `MemoryState` and must be accepted; §7's rules are checked
 *    after every entry (`checkVouchers` on each root it touched); the served state (every voucher,
 *    every party) must equal the model's; every acknowledged op must be on the ledger at the seq
 *    its receipt gave, and its receipt (op id, seq, entry hash, time, tree size, effects) must be
 *    exactly the model's; and every refusal must be one the model gives at some point where the
 *    refused op can have been decided (Jepsen-style: after every op acknowledged before the
 *    refused op was sent, before every op first sent after its answer came).
 *
 * Checkers return findings (plain sentences) instead of throwing, so a long run can gather them;
 * an empty list is a pass.
 */
import { isDeepStrictEqual } from 'node:util';
import { REFUSAL_HTTP_STATUS } from '../../../src/domain/codes.js';
import { decide } from '../../../src/domain/decide.js';
import { parseOp } from '../../../src/domain/schema.js';
import { MemoryState } from '../../../src/domain/state.js';
import type { Op, Party } from '../../../src/domain/types.js';
import { voucherToWire, type ReceiptEffects, type WireVoucher } from '../../../src/domain/wire.js';
import { verifyCheckpoint } from '../../../src/ledger/checkpoint.js';
import { verifyNode } from '../../../src/ledger/node/ed25519-node.js';
import { entryHash, verifyChain, ZERO_HASH } from '../../../src/ledger/entry.js';
import { fromHex, toHex } from '../../../src/ledger/hex.js';
import { canonicalize } from '../../../src/ledger/jcs.js';
import { rootOf } from '../../../src/ledger/merkle.js';
import { opId as opIdOfPayload, opPreimage } from '../../../src/ledger/op.js';
import { getOk, type Envelope, type Key, type Target } from './target.js';
import type { Call } from './workload.js';

export interface EntryItem {
  readonly entry: { v: number; seq: number; time: string; prev: string; op: Envelope };
  readonly hash: string;
}

export interface LedgerInfo {
  readonly ledgerId: string;
  readonly nodeKey: string;
  readonly operatorKey: string;
  readonly size: number;
  readonly currency: string;
  readonly maxTenorDays: number;
}

/** Everything a checker reads from a quiet service. */
export interface Snapshot {
  readonly info: LedgerInfo;
  readonly checkpoint: string;
  readonly entries: readonly EntryItem[];
  /** Op id → seq, from the entries. */
  readonly opSeq: ReadonlyMap<string, number>;
  readonly parties: readonly Party[];
  /** Every voucher, from the lists of every core (every voucher's issuer is a core). */
  readonly vouchers: readonly WireVoucher[];
  /** Each core's list as served (ids, in order). */
  readonly lists: ReadonlyMap<string, readonly string[]>;
}

const pages = async <T>(t: Target, base: string, as: Key): Promise<T[]> => {
  const items: T[] = [];
  let cursor: string | null = null;
  for (;;) {
    const sep = base.includes('?') ? '&' : '?';
    const page = (await getOk(t, `${base}${sep}limit=1000${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, as)) as {
      items: T[];
      next: string | null;
    };
    items.push(...page.items);
    if (page.next === null) return items;
    cursor = page.next;
  }
};

/** Reads the whole ledger as `reader` (the operator or an auditor). The service must be quiet. */
export const readSnapshot = async (t: Target, reader: Key): Promise<Snapshot> => {
  const info = (await getOk(t, '/v1/ledger')) as LedgerInfo;
  const note = await t.get('/v1/checkpoint');
  if (note.status !== 200) throw new Error(`GET /v1/checkpoint: ${note.status}`);
  const entries: EntryItem[] = [];
  for (let from = 0; ; ) {
    const page = (await getOk(t, `/v1/entries?from=${from}&limit=1000`, reader)) as { entries: EntryItem[]; next: number | string | null };
    entries.push(...page.entries);
    if (page.next === null) break;
    const next = Number(page.next);
    if (!(next > from)) throw new Error(`GET /v1/entries: next ${String(page.next)} after ${from}`);
    from = next;
  }
  const opSeq = new Map<string, number>();
  for (const { entry } of entries) {
    const id = opIdOfPayload(entry.op.payload);
    if (!opSeq.has(id)) opSeq.set(id, entry.seq);
  }
  const parties = await pages<Party>(t, '/v1/parties', reader);
  const lists = new Map<string, string[]>();
  const vouchers: WireVoucher[] = [];
  for (const p of parties.filter((x) => x.role === 'core')) {
    const items = await pages<WireVoucher>(t, `/v1/parties/${p.id}/vouchers`, reader);
    // A core's list also holds vouchers it holds or is paid for, issued by another core.
    lists.set(
      p.id,
      items.filter((v) => v.issuer === p.id).map((v) => v.id),
    );
    vouchers.push(...items.filter((v) => v.issuer === p.id));
  }
  return { info, checkpoint: note.text, entries, opSeq, parties, vouchers, lists };
};

const genesisOf = (snap: Snapshot): { nodeKey: string; operatorKey: string; currency: string; maxTenorDays: number } | undefined => {
  const p = snap.entries[0]?.entry.op.payload as Record<string, unknown> | undefined;
  if (!p || p.type !== 'ledger.genesis') return undefined;
  return { nodeKey: String(p.nodeKey), operatorKey: String(p.operatorKey), currency: String(p.currency), maxTenorDays: Number(p.maxTenorDays) };
};

export interface SignedSize {
  readonly size: number;
  readonly root: string;
}

/** The log, the chain, the checkpoint and the Merkle root. Returns the checkpoint it verified. */
export const checkLog = (snap: Snapshot, earlier: readonly SignedSize[] = []): { findings: string[]; signed: SignedSize | undefined } => {
  const f: string[] = [];
  const n = snap.entries.length;
  if (n !== snap.info.size) f.push(`GET /v1/ledger says ${snap.info.size} entries, GET /v1/entries served ${n}`);
  const genesis = genesisOf(snap);
  if (!genesis) return { findings: [...f, 'entry 0 is not a ledger.genesis op'], signed: undefined };
  if (snap.entries[0]?.hash !== snap.info.ledgerId || entryHash(snap.entries[0].entry as never) !== snap.info.ledgerId) {
    f.push('entry 0 does not hash to the ledger id');
  }
  const chain = verifyChain(snap.entries, ZERO_HASH, { startSeq: 0 });
  if (!chain.ok) f.push(`the log is broken at seq ${(chain as { seq?: number }).seq}: ${chain.code} ${chain.detail}`);
  else if (chain.nextSeq !== n) f.push(`the log ends at seq ${chain.nextSeq}, not ${n}`);
  const cp = verifyCheckpoint(snap.checkpoint, { ledgerId: snap.info.ledgerId, nodePublicKey: genesis.nodeKey, verify: verifyNode });
  if (!cp.ok) return { findings: [...f, `the checkpoint does not verify: ${cp.code} ${cp.detail}`], signed: undefined };
  const hashes = snap.entries.map((e) => fromHex(e.hash, 32));
  if (cp.size !== n) f.push(`the checkpoint covers ${cp.size} entries, the log has ${n}`);
  else if (toHex(rootOf(hashes)) !== cp.root) f.push(`the Merkle root recomputed from the ${n} entries is not the signed checkpoint's`);
  for (const e of earlier) {
    if (e.size > n) f.push(`a checkpoint of size ${e.size} was signed before, but the log now has ${n} entries`);
    else if (toHex(rootOf(hashes, e.size)) !== e.root) f.push(`the checkpoint signed before at size ${e.size} is not a prefix of the log`);
  }
  const seen = new Map<string, number>();
  for (const { entry } of snap.entries) {
    const id = opIdOfPayload(entry.op.payload);
    const first = seen.get(id);
    if (first !== undefined) f.push(`op ${id} is on the ledger twice: seq ${first} and ${entry.seq}`);
    else seen.set(id, entry.seq);
  }
  return { findings: f, signed: { size: cp.size, root: cp.root } };
};

// ---- §7 invariants over voucher states, written apart from src/domain ----

const cmp = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * §7's rules over a set of voucher states (all of them, or every voucher of some roots):
 * ids, ranges, partition of every split voucher's range by its children in order, conservation
 * of each root's range by its non-split vouchers (so no unit is pledged twice), status fields,
 * inheritance, invoice ids held by at most one live root, and the parties named.
 */
export const checkVouchers = (vouchers: Iterable<WireVoucher>, parties: ReadonlyMap<string, Party> | undefined, size: number): string[] => {
  const f: string[] = [];
  const byId = new Map<string, WireVoucher>();
  for (const v of vouchers) {
    if (byId.has(v.id)) f.push(`voucher ${v.id} is listed twice`);
    byId.set(v.id, v);
  }
  const children = new Map<string, WireVoucher[]>();
  for (const v of byId.values()) {
    if (v.parentId !== null) {
      let list = children.get(v.parentId);
      if (!list) children.set(v.parentId, (list = []));
      list.push(v);
    }
  }
  const live = new Map<string, string>();
  for (const v of byId.values()) {
    const at = `voucher ${v.id}`;
    let start: bigint, end: bigint, amount: bigint;
    try {
      start = BigInt(v.range.start);
      end = BigInt(v.range.end);
      amount = BigInt(v.amount);
    } catch {
      f.push(`${at}: amounts are not integers`);
      continue;
    }
    if (!/^(0|[1-9][0-9]*)$/.test(v.amount) || amount < 1n || end - start !== amount)
      f.push(`${at}: amount ${v.amount} is not its range [${v.range.start}, ${v.range.end})`);
    const root = byId.get(v.rootId);
    if (v.parentId === null) {
      if (!/^v[0-9a-f]{24}$/.test(v.id) || v.rootId !== v.id) f.push(`${at}: a root's id must be v + 24 hex and its own rootId`);
      if (start !== 0n) f.push(`${at}: a root's range starts at ${start}`);
      if (v.status !== 'cancelled') {
        for (const inv of v.invoiceIds) {
          const other = live.get(inv);
          if (other !== undefined) f.push(`invoice ${inv} backs two live roots: ${other} and ${v.id}`);
          live.set(inv, v.id);
        }
      }
      if (v.status === 'cancelled' && v.holder !== v.issuer) f.push(`${at}: cancelled, but it was accepted (holder ${v.holder})`);
      if (parties && parties.get(v.issuer)?.role !== 'core') f.push(`${at}: issuer ${v.issuer} is not a core`);
    } else {
      if (v.id !== `${v.rootId}:${v.range.start}-${v.range.end}`) f.push(`${at}: id is not rootId:start-end`);
      const parent = byId.get(v.parentId);
      if (parent) {
        if (parent.status !== 'split') f.push(`${at}: its parent ${parent.id} is ${parent.status}, not split`);
        if (parent.rootId !== v.rootId) f.push(`${at}: its parent is of another root`);
        if (v.createdSeq !== parent.updatedSeq) f.push(`${at}: created at ${v.createdSeq}, but its parent split at ${parent.updatedSeq}`);
      }
      if (v.status === 'cancelled') f.push(`${at}: only a root can be cancelled`);
      if (
        root &&
        (v.issuer !== root.issuer || v.currency !== root.currency || v.dueDate !== root.dueDate || !isDeepStrictEqual(v.invoiceIds, root.invoiceIds))
      ) {
        f.push(`${at}: does not inherit its root's issuer, currency, due date and invoice ids`);
      }
    }
    if ((v.status === 'offered') !== (v.offeredTo !== null)) f.push(`${at}: status ${v.status} with offeredTo ${v.offeredTo}`);
    if (v.status === 'offered' && v.offeredTo === v.holder) f.push(`${at}: offered to its holder`);
    if ((v.status === 'pledged') !== (v.pledge !== null)) f.push(`${at}: status ${v.status} with pledge ${JSON.stringify(v.pledge)}`);
    if (v.pledge && v.pledge.bank === v.holder) f.push(`${at}: pledged to its holder`);
    if ((v.status === 'settled') !== (v.settlement !== null)) f.push(`${at}: status ${v.status} with settlement ${JSON.stringify(v.settlement)}`);
    if (!(v.createdSeq <= v.updatedSeq && v.updatedSeq < size)) f.push(`${at}: createdSeq ${v.createdSeq}, updatedSeq ${v.updatedSeq}, ledger size ${size}`);
    if (parties) {
      for (const id of [v.holder, v.offeredTo, v.pledge?.bank, v.settlement?.payee]) {
        if (id && !parties.has(id)) f.push(`${at}: names ${id}, who is not a party`);
      }
      if (v.pledge && parties.get(v.pledge.bank)?.role !== 'bank') f.push(`${at}: pledged to ${v.pledge.bank}, not a bank`);
    }
    const kids = (children.get(v.id) ?? []).sort((a, b) => cmp(BigInt(a.range.start), BigInt(b.range.start)));
    if (v.status === 'split') {
      if (kids.length < 2) f.push(`${at}: split into ${kids.length} vouchers`);
      let at2 = start;
      for (const k of kids) {
        if (BigInt(k.range.start) !== at2) f.push(`${at}: its children do not partition its range (gap or overlap at ${at2})`);
        at2 = BigInt(k.range.end);
      }
      if (kids.length > 0 && at2 !== end) f.push(`${at}: its children end at ${at2}, not ${end}`);
    } else if (kids.length > 0) {
      f.push(`${at}: ${v.status}, yet it has children`);
    }
  }
  // Conservation (rule 2): per root, the non-split vouchers tile [0, amount) exactly once.
  const leaves = new Map<string, WireVoucher[]>();
  for (const v of byId.values()) {
    if (v.status === 'split') continue;
    let list = leaves.get(v.rootId);
    if (!list) leaves.set(v.rootId, (list = []));
    list.push(v);
  }
  for (const [rootId, list] of leaves) {
    const root = byId.get(rootId);
    if (!root) continue;
    list.sort((a, b) => cmp(BigInt(a.range.start), BigInt(b.range.start)));
    let at = 0n;
    for (const v of list) {
      if (BigInt(v.range.start) !== at) {
        f.push(
          `root ${rootId}: units ${at < BigInt(v.range.start) ? `[${at}, ${v.range.start}) are in no voucher` : `from ${v.range.start} are in two vouchers`} (conservation)`,
        );
      }
      at = BigInt(v.range.end);
    }
    if (at !== BigInt(root.amount)) f.push(`root ${rootId}: its vouchers end at ${at}, not at ${root.amount} (conservation)`);
  }
  return f;
};

// ---- the model check ----

const DECIDE_CODES = new Set(Object.keys(REFUSAL_HTTP_STATUS));

export interface ModelOptions {
  /** 503 LEDGER_UNAVAILABLE answers are expected (storage faults); otherwise any 5xx is a finding. */
  readonly allowUnavailable?: boolean;
  /** Calls that are known to be lost with a 503 and must not be on the ledger (a failed batch that did not survive). */
  readonly mustBeAbsent?: ReadonlySet<string>;
  /** Refusal windows longer than this are checked at their ends only (time). Default 4000. */
  readonly windowMax?: number;
}

export interface ModelReport {
  readonly findings: string[];
  /** Distinct ops acknowledged (201) and found again; and acknowledged but missing. */
  readonly acked: number;
  readonly lost: number;
  readonly receiptsChecked: number;
  readonly refusalsChecked: number;
  /** Refusal codes seen, for reports. */
  readonly codes: Record<string, number>;
  readonly serverErrors: number;
  readonly model: MemoryState;
}

interface Window {
  readonly call: Call;
  readonly op: Op;
  readonly code: string;
  readonly lo: number;
  readonly hi: number;
  matched: boolean;
  seen: Set<string>;
}

/** Finds the largest index i with xs[i].t < t in a list sorted by t (or -1). */
const lastBefore = (xs: readonly { t: number }[], t: number): number => {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((xs[mid] as { t: number }).t < t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
};

export const checkModel = (snap: Snapshot, calls: readonly Call[], o: ModelOptions = {}): ModelReport => {
  const f: string[] = [];
  const n = snap.entries.length;
  const genesis = genesisOf(snap);
  const codes: Record<string, number> = {};
  let serverErrors = 0;
  if (!genesis)
    return {
      findings: ['no genesis'],
      acked: 0,
      lost: 0,
      receiptsChecked: 0,
      refusalsChecked: 0,
      codes,
      serverErrors,
      model: new MemoryState({ operatorPublicKey: '00'.repeat(32) }),
    };

  // 1. Answers: what each call claims.
  const ackedIds = new Set<string>();
  let lost = 0;
  const acks: { t: number; seq: number }[] = [];
  const firstStart = new Map<string, number>();
  for (const c of calls) {
    const s = firstStart.get(c.opId);
    if (s === undefined || c.start < s) firstStart.set(c.opId, c.start);
  }
  const receipts: Call[] = [];
  const refusals: Call[] = [];
  for (const c of calls) {
    const a = c.answer;
    if (!a) continue;
    const at = `${c.intent} (call ${c.n}, ${c.tag}, op ${c.opId.slice(0, 12)})`;
    if (a.status === 201 || a.status === 200) {
      if (a.status === 200 && a.body?.duplicate !== true) f.push(`${at}: 200 without duplicate: true`);
      if (a.status === 201 && a.body?.duplicate !== undefined) f.push(`${at}: 201 with a duplicate field`);
      const seq = a.body?.seq;
      if (typeof seq !== 'number') {
        f.push(`${at}: ${a.status} without a seq`);
        continue;
      }
      acks.push({ t: c.end, seq });
      ackedIds.add(c.opId);
      receipts.push(c);
    } else if (a.status === 503 && a.body?.code === 'LEDGER_UNAVAILABLE' && o.allowUnavailable) {
      codes.LEDGER_UNAVAILABLE = (codes.LEDGER_UNAVAILABLE ?? 0) + 1;
    } else if (a.status >= 500) {
      serverErrors += 1;
      f.push(`${at}: ${a.status} ${a.text.slice(0, 200)}`);
    } else {
      const code = a.body?.code;
      codes[String(code)] = (codes[String(code)] ?? 0) + 1;
      if (typeof code !== 'string' || !DECIDE_CODES.has(code) || REFUSAL_HTTP_STATUS[code as keyof typeof REFUSAL_HTTP_STATUS] !== a.status) {
        f.push(`${at}: an answer that is no §7 refusal: ${a.status} ${a.text.slice(0, 200)}`);
      } else if (code === 'MALFORMED_REQUEST' || code === 'WRONG_LEDGER' || code === 'RATE_LIMITED') {
        f.push(`${at}: ${code} for an op the workload made well-formed: ${a.text.slice(0, 200)}`);
      } else {
        refusals.push(c);
      }
    }
  }
  for (const id of o.mustBeAbsent ?? []) {
    if (snap.opSeq.has(id)) f.push(`op ${id.slice(0, 12)} of a batch that did not survive is on the ledger at seq ${snap.opSeq.get(id)}`);
  }

  // 2. Where each refusal can have been decided: after every op acknowledged before it was sent,
  //    and before every op first sent after its answer came.
  acks.sort((a, b) => a.t - b.t);
  const ackMax: number[] = [];
  for (const a of acks) ackMax.push(Math.max(ackMax.at(-1) ?? 0, a.seq));
  const logged = calls
    .filter((c) => snap.opSeq.has(c.opId) && firstStart.get(c.opId) === c.start)
    .map((c) => ({ t: c.start, seq: snap.opSeq.get(c.opId) as number }))
    .sort((a, b) => a.t - b.t);
  const suffixMin: number[] = new Array<number>(logged.length + 1).fill(n);
  for (let i = logged.length - 1; i >= 0; i--) suffixMin[i] = Math.min(suffixMin[i + 1] as number, (logged[i] as { seq: number }).seq);
  const windows: Window[] = [];
  for (const c of refusals) {
    const parsed = parseOp(c.env);
    if (!parsed.ok) {
      f.push(`${c.intent} (call ${c.n}): the model cannot parse the op: ${parsed.code}`);
      continue;
    }
    const i = lastBefore(acks, c.start);
    const lo = Math.max(1, i < 0 ? 1 : (ackMax[i] as number) + 1);
    // The first op sent strictly after this answer came.
    let j = lastBefore(logged, c.end) + 1;
    while (j < logged.length && (logged[j] as { t: number }).t <= c.end) j++;
    const hi = suffixMin[j] as number;
    if (lo > hi) {
      f.push(
        `${c.intent} (call ${c.n}, ${c.tag}): refused ${c.answer?.body?.code}, but it must have been decided after seq ${lo - 1} and before seq ${hi}: the history is not linearizable`,
      );
      continue;
    }
    windows.push({ call: c, op: parsed.op, code: c.answer?.body?.code as string, lo, hi, matched: false, seen: new Set() });
  }
  windows.sort((a, b) => a.lo - b.lo);
  const windowMax = o.windowMax ?? 4000;

  // 3. Replay, checking §7 after every entry and the refusals at every point of their windows.
  const model = new MemoryState({ operatorPublicKey: genesis.operatorKey });
  const effectsBySeq: (ReceiptEffects | undefined)[] = new Array<ReceiptEffects | undefined>(n);
  const verified = new Map<string, boolean>();
  const verifier =
    (preimage: Uint8Array, tag: string) =>
    (publicKey: string, sig: string): boolean => {
      const k = `${tag}${publicKey}${sig}`;
      let ok = verified.get(k);
      if (ok === undefined) verified.set(k, (ok = verifyNode(publicKey, preimage, sig)));
      return ok;
    };
  const roots = new Map<string, Map<string, WireVoucher>>();
  let open: Window[] = [];
  let nextWindow = 0;
  const timeAt = (p: number): string[] => {
    const times = [snap.entries[p - 1]?.entry.time, snap.entries[p]?.entry.time].filter((t): t is string => t !== undefined);
    return [...new Set(times)];
  };
  const evaluate = (p: number) => {
    while (nextWindow < windows.length && (windows[nextWindow] as Window).lo <= p) open.push(windows[nextWindow++] as Window);
    if (open.length === 0) return;
    const still: Window[] = [];
    for (const w of open) {
      if (w.hi < p) {
        if (!w.matched) report(w);
        continue;
      }
      if (!w.matched && (w.hi - w.lo <= windowMax || p === w.lo || p === w.hi)) {
        const preimage = opPreimage(w.call.env.payload);
        for (const time of timeAt(p)) {
          const d = decide(model, w.op, {
            ledgerId: snap.info.ledgerId,
            currency: genesis.currency,
            maxTenorDays: genesis.maxTenorDays,
            seq: p,
            time,
            opId: w.call.opId,
            nodeKey: genesis.nodeKey,
            verifySignature: verifier(preimage, w.call.opId),
          });
          const got = d.ok ? 'accepted' : d.code;
          if (got === w.code) w.matched = true;
          else w.seen.add(got);
        }
      }
      if (w.matched) continue;
      still.push(w);
    }
    open = still;
  };
  const report = (w: Window) =>
    f.push(
      `${w.call.intent} (call ${w.call.n}, ${w.call.tag}, op ${w.call.opId.slice(0, 12)}): refused ${w.code}, but the model at every seq from ${w.lo} to ${w.hi} says ${[...w.seen].join(' / ')}`,
    );

  for (let seq = 1; seq < n; seq++) {
    evaluate(seq);
    const { entry } = snap.entries[seq] as EntryItem;
    const parsed = parseOp(entry.op);
    if (!parsed.ok) {
      f.push(`entry ${seq}: the model cannot parse its op: ${parsed.code} ${parsed.detail}`);
      return { findings: f, acked: 0, lost: 0, receiptsChecked: 0, refusalsChecked: 0, codes, serverErrors, model };
    }
    const id = opIdOfPayload(entry.op.payload);
    const d = decide(model, parsed.op, {
      ledgerId: snap.info.ledgerId,
      currency: genesis.currency,
      maxTenorDays: genesis.maxTenorDays,
      seq,
      time: entry.time,
      opId: id,
      nodeKey: genesis.nodeKey,
      verifySignature: verifier(opPreimage(entry.op.payload), id),
    });
    if (!d.ok) {
      f.push(`entry ${seq} (${String(entry.op.payload.type)}): the model refuses it: ${d.code} ${d.detail}`);
      return { findings: f, acked: 0, lost: 0, receiptsChecked: 0, refusalsChecked: 0, codes, serverErrors, model };
    }
    model.apply(d.effects);
    const effects: ReceiptEffects = { vouchers: d.effects.vouchers.map(voucherToWire), parties: [...d.effects.parties] };
    effectsBySeq[seq] = effects;
    // §7 after this entry, on every root it touched.
    const touched = new Set<string>();
    for (const v of effects.vouchers) {
      let m = roots.get(v.rootId);
      if (!m) roots.set(v.rootId, (m = new Map()));
      m.set(v.id, v);
      touched.add(v.rootId);
    }
    for (const r of touched) {
      // (Invoice ids shared by two live roots are checked on the final state, which has every root.)
      for (const b of checkVouchers((roots.get(r) as Map<string, WireVoucher>).values(), undefined, seq + 1)) f.push(`after entry ${seq}: ${b}`);
    }
  }
  evaluate(n);
  for (const w of open) if (!w.matched) report(w);

  // 4. Every acknowledged op is on the ledger at its seq, and its receipt is the model's.
  let receiptsChecked = 0;
  for (const c of receipts) {
    const body = c.answer?.body as { opId: string; seq: number; entryHash: string; time: string; treeSize: number; effects: unknown };
    const at = `${c.intent} (call ${c.n}, ${c.tag}, ${c.answer?.status} at seq ${body.seq})`;
    const seq = snap.opSeq.get(c.opId);
    if (seq === undefined) {
      lost += 1;
      f.push(`${at}: acknowledged, but not on the ledger (LOST)`);
      continue;
    }
    const item = snap.entries[seq] as EntryItem;
    if (body.seq !== seq) f.push(`${at}: the receipt says seq ${body.seq}, the ledger has it at ${seq}`);
    if (body.opId !== c.opId) f.push(`${at}: the receipt's opId is ${body.opId}`);
    if (canonicalize(item.entry.op) !== canonicalize(c.env)) f.push(`${at}: the entry's op is not the envelope that was sent`);
    if (body.entryHash !== item.hash) f.push(`${at}: the receipt's entry hash is not the entry's`);
    if (body.time !== item.entry.time) f.push(`${at}: the receipt's time ${body.time} is not the entry's ${item.entry.time}`);
    if (body.treeSize !== seq + 1) f.push(`${at}: treeSize ${body.treeSize}`);
    const want = effectsBySeq[seq];
    if (!want || !isDeepStrictEqual(body.effects, want)) {
      f.push(
        `${at}: the receipt's effects are not the model's:\n  served ${JSON.stringify(body.effects).slice(0, 600)}\n  model  ${JSON.stringify(want).slice(0, 600)}`,
      );
    }
    receiptsChecked += 1;
  }

  // 5. The served state is the model's, and obeys §7 as a whole.
  const wanted = new Map(model.allVouchers().map((v) => [v.id, voucherToWire(v)] as const));
  const served = new Map(snap.vouchers.map((v) => [v.id, v] as const));
  let diffs = 0;
  for (const [id, v] of wanted) {
    const s = served.get(id);
    if (!isDeepStrictEqual(s, v) && diffs++ < 10) f.push(`voucher ${id}: served ${JSON.stringify(s)}\n  model  ${JSON.stringify(v)}`);
  }
  for (const id of served.keys()) if (!wanted.has(id) && diffs++ < 10) f.push(`voucher ${id} is served but not in the model`);
  if (diffs > 10) f.push(`… ${diffs} vouchers differ in all`);
  for (const [core, ids] of snap.lists) {
    const order = model
      .allVouchers()
      .filter((v) => v.issuer === core)
      .map((v) => v.id);
    if (!isDeepStrictEqual(ids, order)) f.push(`GET /v1/parties/${core}/vouchers: not in the model's order (createdSeq, then range start)`);
  }
  const parties = model.allParties();
  const servedParties = [...snap.parties].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (!isDeepStrictEqual(servedParties, parties))
    f.push(
      `the served parties are not the model's:\n  served ${JSON.stringify(servedParties).slice(0, 800)}\n  model  ${JSON.stringify(parties).slice(0, 800)}`,
    );
  f.push(...checkVouchers(snap.vouchers, new Map(snap.parties.map((p) => [p.id, p])), n));

  return { findings: f, acked: ackedIds.size, lost, receiptsChecked, refusalsChecked: windows.length, codes, serverErrors, model };
};

/** Both checks on a fresh snapshot. */
export const checkAll = async (
  t: Target,
  reader: Key,
  calls: readonly Call[],
  o: ModelOptions & { earlier?: readonly SignedSize[] } = {},
): Promise<{ snap: Snapshot; log: ReturnType<typeof checkLog>; model: ModelReport; findings: string[] }> => {
  const snap = await readSnapshot(t, reader);
  const log = checkLog(snap, o.earlier);
  const model = checkModel(snap, calls, o);
  return { snap, log, model, findings: [...log.findings, ...model.findings] };
};
