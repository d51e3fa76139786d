/**
 * Rebuilds the state seal of a stopped ledger (src/service/state-seal.ts) after proving, from the
 * log alone, that every stored record is the one the log gives. The service refuses writes on a
 * folder without a valid seal (one written by an older version, or edited); this is the way back.
 *
 *  1. the node key must be this ledger's, and the stored facts genesis's;
 *  2. the whole log against what the node signed (the stored checkpoint and the one kept beside
 *     the node key): every entry's hash, seq, `prev` link and time, the Merkle roots;
 *  3. a replay of every entry in seq order, checking in full: its op parses and is for this
 *     ledger, its text rebuilt from the op is the stored text byte for byte, every signature
 *     verifies under its signer's key in force at that entry (node:crypto), and §7 (`decide`, at
 *     the entry's seq and time, against the state of the entries before it) accepts it; its
 *     effects are applied as the writer applies them (BatchView);
 *  4. every stored record of the derived sublevels (parties, key owners, vouchers, invoices, the
 *     per-party lists and registration index, op ids, receipts) must be exactly the replay's, and
 *     none may be missing or extra;
 *  5. only then: a fresh seal over the replayed state (and a checkpoint over the log if the
 *     stored one is missing or shorter), written in one fsync'd commit.
 *
 * It stops at the first difference, naming its seq (and the record) and writes nothing. The
 * replay holds the whole state in memory.
 */
import path from 'node:path';
import { decide, OPERATOR_ID, operatorParty, parseOp, voucherToWire, type Party } from '../domain/index.js';
import { signCheckpoint, verifyCheckpoint } from '../ledger/checkpoint.js';
import { signNode, verifyNode } from '../ledger/node/ed25519-node.js';
import { entryHashOfText, entryTextFromPayloadJcs } from '../ledger/entry.js';
import { toHex } from '../ledger/hex.js';
import { canonicalize } from '../ledger/jcs.js';
import { opId, opPreimageFromJcs } from '../ledger/op.js';
import { installNodeSha256 } from '../ledger/node/sha256-node.js';
import { partySeqKey, partyVoucherKey, seqKey } from '../store/keys.js';
import { LevelStore } from '../store/level-store.js';
import { ANY_HEAD, emptyBatch, type LedgerMeta, type VoucherRecord } from '../store/port.js';
import { BatchView, type Prefetched } from '../service/batch-view.js';
import { readKeyFile } from '../service/keyfile.js';
import { checkMeta, keptClaim, StartupError, verifyWholeLog, type Claim } from '../service/open.js';
import { applyWrites, Digest, SealKey } from '../service/state-seal.js';

export class ResealError extends Error {
  override readonly name = 'ResealError';
  constructor(
    message: string,
    /** The first bad seq, where one is known. */
    readonly seq?: number,
  ) {
    super(message);
  }
}

export interface ResealOptions {
  readonly dataDir: string;
  readonly nodeKeyFile: string;
  readonly onProgress?: (replayed: number, size: number) => void;
}

export interface Resealed {
  readonly ledgerId: string;
  readonly size: number;
  readonly records: number;
  readonly signedCheckpoint: boolean;
  readonly ms: number;
}

/** A map whose absent keys read as null ("known absent"), so a BatchView over it needs no prefetch. */
class Total<V> extends Map<string, V | null> {
  override get(key: string): V | null {
    return super.get(key) ?? null;
  }
}

/** The derived records the replay makes, as the store would hold them (values as stored). */
interface Derived {
  readonly parties: Total<Party>;
  readonly keyOwners: Total<string>;
  readonly vouchers: Total<VoucherRecord>;
  readonly invoices: Total<string>;
  readonly pv: Map<string, string>;
  readonly ps: Map<string, string>;
  readonly op: Map<string, string>;
  readonly fx: Map<string, string>;
}

const replay = async (store: LevelStore, meta: LedgerMeta, size: number, onProgress?: ResealOptions['onProgress']): Promise<Derived> => {
  const operator = operatorParty({ operatorPublicKey: meta.operatorKey });
  const d: Derived = {
    parties: new Total([[OPERATOR_ID, operator]]),
    keyOwners: new Total([[meta.operatorKey, OPERATOR_ID]]),
    vouchers: new Total(),
    invoices: new Total(),
    pv: new Map(),
    ps: new Map([[partySeqKey(OPERATOR_ID, 0), '']]),
    op: new Map(),
    fx: new Map([[seqKey(0), JSON.stringify({ vouchers: [], parties: [operator] })]]),
  };
  const genesis = await store.entry(0);
  d.op.set(opId((JSON.parse(genesis!) as { op: { payload: unknown } }).op.payload), seqKey(0));
  const base: Prefetched = { parties: d.parties, keyOwners: d.keyOwners, vouchers: d.vouchers, invoices: d.invoices };
  let prev = '';
  for await (const { seq, text } of store.allEntries()) {
    if (seq >= size) break;
    if (seq === 0) {
      prev = meta.ledgerId;
      continue;
    }
    const fail = (why: string): never => {
      throw new ResealError(`entry ${seq}: ${why}`, seq);
    };
    const entry = JSON.parse(text) as { time: string; op: { payload: unknown; signatures: unknown } };
    const parsed = parseOp(entry.op);
    if (!parsed.ok) fail(`holds no valid op (${parsed.ok ? '' : `${parsed.code} ${parsed.detail}`})`);
    const op = parsed.ok ? parsed.op : fail('unreachable');
    if (op.payload.ledger !== meta.ledgerId) fail(`its op is for ledger ${op.payload.ledger}`);
    const payloadJcs = canonicalize(entry.op.payload);
    const preimage = opPreimageFromJcs(payloadJcs);
    const id = opId(entry.op.payload);
    if (entryTextFromPayloadJcs(payloadJcs, op.signatures, prev, seq, entry.time) !== text) fail('its stored text is not the entry its op makes');
    const view = new BatchView(base);
    for (const { signer, sig } of op.signatures) {
      const party = view.party(signer);
      if (!party) fail(`signed by ${signer}, who has no key at that entry`);
      if (!verifyNode(party!.publicKey, preimage, sig)) fail(`the signature of ${signer} does not verify under its key at that entry`);
    }
    const decision = decide(view, op, {
      ledgerId: meta.ledgerId,
      currency: meta.currency,
      maxTenorDays: meta.maxTenorDays,
      seq,
      time: entry.time,
      opId: id,
      nodeKey: meta.nodeKey,
      verifySignature: (publicKey, sig) => verifyNode(publicKey, preimage, sig),
    });
    if (!decision.ok) fail(`${op.payload.type} is refused by the rules: ${decision.code} ${decision.detail}`);
    const effects = decision.ok ? decision.effects : fail('unreachable');
    view.apply(effects, seq);
    for (const p of view.changedParties()) d.parties.set(p.id, p);
    for (const [k, owner] of view.changedKeyOwners()) d.keyOwners.set(k, owner);
    for (const v of view.changedVouchers()) d.vouchers.set(v.state.id, v);
    const inv = view.invoiceWrites();
    for (const i of inv.freed) d.invoices.delete(i);
    for (const [i, root] of inv.used) d.invoices.set(i, root);
    for (const r of view.unlisted.values()) d.pv.delete(partyVoucherKey(r.party, r.createdSeq, r.start));
    for (const r of view.listed.values()) d.pv.set(partyVoucherKey(r.party, r.createdSeq, r.start), `${r.voucherId}\u0000${r.status}`);
    for (const [partyId, at] of view.partySeqs) d.ps.set(partySeqKey(partyId, at), '');
    d.op.set(id, seqKey(seq));
    d.fx.set(seqKey(seq), JSON.stringify({ vouchers: effects.vouchers.map(voucherToWire), parties: [...effects.parties] }));
    prev = toHex(entryHashOfText(text));
    if (seq % 10_000 === 0) onProgress?.(seq, size);
  }
  return d;
};

const SUBLEVELS = ['p', 'k', 'v', 'inv', 'pv', 'ps', 'op', 'fx'] as const;
const NAMES: Record<(typeof SUBLEVELS)[number], string> = {
  p: 'party',
  k: 'key owner',
  v: 'voucher',
  inv: 'invoice',
  pv: 'party list row',
  ps: 'party registration index',
  op: 'op id index',
  fx: 'receipt',
};

/** The replay's value of a record, as the store writes it; undefined if the replay has none. */
const expectedOf = (d: Derived, name: (typeof SUBLEVELS)[number], key: string): string | undefined => {
  switch (name) {
    case 'p': {
      const v = d.parties.get(key);
      return v ? JSON.stringify(v) : undefined;
    }
    case 'k':
      return d.keyOwners.get(key) ?? undefined;
    case 'v': {
      const v = d.vouchers.get(key);
      return v ? JSON.stringify(v) : undefined;
    }
    case 'inv':
      return d.invoices.get(key) ?? undefined;
    case 'pv':
      return d.pv.get(key);
    case 'ps':
      return d.ps.get(key);
    case 'op':
      return d.op.get(key);
    case 'fx':
      return d.fx.get(key);
  }
};

const countOf = (d: Derived, name: (typeof SUBLEVELS)[number]): number =>
  ({ p: d.parties, k: d.keyOwners, v: d.vouchers, inv: d.invoices, pv: d.pv, ps: d.ps, op: d.op, fx: d.fx })[name].size;

/** The seq a differing record points at, where it names one. */
const seqOf = (d: Derived, name: (typeof SUBLEVELS)[number], key: string): number | undefined => {
  if (name === 'fx') return Number.parseInt(key, 16);
  if (name === 'op') return d.op.has(key) ? Number.parseInt(d.op.get(key)!, 16) : undefined;
  if (name === 'v') return d.vouchers.get(key)?.seqs.at(-1);
  return undefined;
};

const compare = async (store: LevelStore, d: Derived): Promise<number> => {
  let records = 0;
  for (const name of SUBLEVELS) {
    let seen = 0;
    for await (const chunk of store.sublevelRecords(name, 1024)) {
      for (const [key, value] of chunk) {
        const expected = expectedOf(d, name, key);
        if (expected !== value) {
          const seq = seqOf(d, name, key);
          throw new ResealError(
            `the stored ${NAMES[name]} record ${JSON.stringify(key)} ${expected === undefined ? 'is not one the log makes' : 'differs from what the log makes'}` +
              (seq === undefined ? '' : ` (entry ${seq})`),
            seq,
          );
        }
        seen += 1;
      }
    }
    if (seen !== countOf(d, name)) throw new ResealError(`${countOf(d, name) - seen} ${NAMES[name]} record(s) the log makes are missing from the store`);
    records += seen;
  }
  return records;
};

export const reseal = async (o: ResealOptions): Promise<Resealed> => {
  installNodeSha256();
  const started = performance.now();
  const key = await readKeyFile(o.nodeKeyFile);
  const store = new LevelStore(path.join(o.dataDir, 'db'));
  await store.open();
  try {
    const meta = await store.meta();
    if (!meta) throw new ResealError(`${o.dataDir} holds no ledger`);
    if (key.publicKey !== meta.nodeKey) throw new ResealError(`${o.nodeKeyFile} is not this ledger's node key (${meta.nodeKey})`);
    const sealKey = SealKey.fromSeed(key.secretKey);
    const claims: Claim[] = [];
    const note = await store.checkpoint();
    let signedSize = 0;
    try {
      await checkMeta(store, meta);
      if (note !== undefined) {
        const cp = verifyCheckpoint(note, { ledgerId: meta.ledgerId, nodePublicKey: meta.nodeKey, verify: verifyNode });
        if (!cp.ok) throw new ResealError(`the stored checkpoint does not verify under the node key: ${cp.code}`);
        claims.push({ what: 'the checkpoint', size: cp.size, root: cp.root });
        signedSize = cp.size;
      }
      const kept = await keptClaim(o.nodeKeyFile, meta);
      if (kept) claims.push(kept);
    } catch (err) {
      if (err instanceof StartupError) throw new ResealError(err.message, err.seq);
      throw err;
    }
    let end;
    try {
      end = await verifyWholeLog(store, meta, claims);
    } catch (err) {
      if (err instanceof StartupError) throw new ResealError(err.message, err.seq);
      throw err;
    }
    const size = end.head.size;
    const derived = await replay(store, meta, size, o.onProgress);
    const records = await compare(store, derived);

    const digest = Digest.zero();
    applyWrites(
      sealKey,
      digest,
      {
        parties: [...derived.parties.values()].filter((v): v is Party => v !== null),
        keyOwners: [...derived.keyOwners.entries()].filter((e): e is [string, string] => e[1] !== null),
        vouchers: [...derived.vouchers.values()].filter((v): v is VoucherRecord => v !== null),
        invoicesUsed: [...derived.invoices.entries()].filter((e): e is [string, string] => e[1] !== null),
        invoicesFreed: [],
      },
      { party: () => null, keyOwner: () => null, voucher: () => null, invoice: () => null },
    );
    const root = end.frontier.root();
    const signAgain = note === undefined || signedSize !== size;
    const checkpoint = signAgain ? signCheckpoint({ ledgerId: meta.ledgerId, size, root }, key.secretKey, signNode, key.publicKey) : note;
    await store.commit(emptyBatch(ANY_HEAD, end.head, checkpoint, sealKey.seal(size, toHex(root), digest)));
    return { ledgerId: meta.ledgerId, size, records, signedCheckpoint: signAgain, ms: Math.round(performance.now() - started) };
  } finally {
    await store.close();
  }
};
