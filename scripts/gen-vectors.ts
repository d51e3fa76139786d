/**
 * Writes `test/vectors/rvl-v1.json`: our own test vectors for protocol rvl/op/v1, so that an
 * implementation in another language can check itself against them. Everything is derived from
 * fixed seeds and fixed times, so running this again gives the same bytes (a test checks that).
 *
 *   npm run vectors           # rewrite the file
 *   npm run vectors -- --check  # exit 1 if the file differs from what this would write
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryState, decide, parseOp, voucherToWire, type Role } from '../src/domain/index.js';
import { operatorParty } from '../src/domain/state.js';
import { checkpointText, keyId, signCheckpoint } from '../src/ledger/checkpoint.js';
import { publicKeyFromSeed, sign, verify } from '../src/ledger/ed25519.js';
import { ZERO_HASH, entryHash, type Entry } from '../src/ledger/entry.js';
import { toHex } from '../src/ledger/hex.js';
import { canonicalize } from '../src/ledger/jcs.js';
import { MerkleTree } from '../src/ledger/merkle.js';
import { opId, opPreimage } from '../src/ledger/op.js';

const OUT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'test', 'vectors', 'rvl-v1.json');

/** A seed anyone can recompute: SHA-256 of "rvl-vector-key:<name>". */
const seedOf = (name: string): string => createHash('sha256').update(`rvl-vector-key:${name}`).digest('hex');

interface VKey {
  id: string;
  role: Role;
  seed: string;
  publicKey: string;
}
const vkey = (id: string, role: Role): VKey => {
  const seed = seedOf(id);
  return { id, role, seed, publicKey: publicKeyFromSeed(seed) };
};

export const buildVectors = (): unknown => {
  const node = vkey('node', 'operator'); // the node key signs checkpoints; it is no party
  const operator = vkey('operator', 'operator');
  const core = vkey('gz-motors', 'core');
  const tier1 = vkey('dongguan-parts', 'supplier');
  const tier2 = vkey('chen-electronics', 'supplier');
  const bank = vkey('icbc-gz', 'bank');
  const bank2 = vkey('cmb-sz', 'bank');

  const createdAt = '2026-11-28T09:30:00.000Z';
  const genesisPayload = {
    type: 'ledger.genesis',
    name: 'vectors',
    operatorKey: operator.publicKey,
    nodeKey: node.publicKey,
    currency: 'CNY',
    maxTenorDays: 365,
    createdAt,
  };
  const genesis: Entry = { v: 1, seq: 0, time: createdAt, prev: ZERO_HASH, op: { payload: genesisPayload, signatures: [] } };
  const ledgerId = entryHash(genesis);

  const state = new MemoryState({ operatorPublicKey: operator.publicKey });
  const entries: Entry[] = [genesis];
  const ops: unknown[] = [];
  const refusals: unknown[] = [];
  let timeMs = Date.parse(createdAt);
  let nonce = 0;

  /** Decides an op at the next seq and a time one minute later; appends it if accepted. */
  const step = (payload: Record<string, unknown>, signers: VKey[], expect: 'ok' | string): Record<string, unknown> => {
    nonce += 1;
    const full = { ledger: ledgerId, nonce: `vector-nonce-${String(nonce).padStart(3, '0')}`, ...payload };
    const preimage = opPreimage(full);
    const envelope = { payload: full, signatures: signers.map((k) => ({ signer: k.id, sig: sign(k.seed, preimage) })) };
    const parsed = parseOp(envelope);
    if (!parsed.ok) throw new Error(`vector op does not parse: ${parsed.detail}`);
    timeMs += 60_000;
    const time = new Date(timeMs).toISOString();
    const seq = entries.length;
    const id = opId(full);
    const decision = decide(state, parsed.op, {
      ledgerId,
      currency: 'CNY',
      maxTenorDays: 365,
      seq,
      time,
      opId: id,
      nodeKey: node.publicKey,
      verifySignature: (publicKey, sig) => verify(publicKey, preimage, sig),
    });
    const outcome = decision.ok ? 'ok' : decision.code;
    if (outcome !== expect) throw new Error(`vector ${String(payload.type)} expected ${expect}, got ${outcome}`);
    if (!decision.ok) {
      refusals.push({ atSeq: seq, time, envelope, code: decision.code });
      return full;
    }
    state.apply(decision.effects);
    const prev = entryHash(entries[entries.length - 1] as Entry);
    const entry: Entry = { v: 1, seq, time, prev, op: envelope };
    entries.push(entry);
    ops.push({
      type: payload.type,
      payload: full,
      canonicalPayload: canonicalize(full),
      preimageHex: toHex(preimage),
      opId: id,
      envelope,
      effects: { vouchers: decision.effects.vouchers.map(voucherToWire), parties: decision.effects.parties },
    });
    return full;
  };
  const register = (k: VKey) => step({ type: 'party.register', party: { id: k.id, name: k.id, role: k.role, publicKey: k.publicKey } }, [operator], 'ok');

  for (const k of [core, tier1, tier2, bank, bank2]) register(k);
  const issue = step(
    {
      type: 'voucher.issue',
      issuer: core.id,
      to: tier1.id,
      amount: '100000000',
      currency: 'CNY',
      dueDate: '2027-02-26',
      invoiceIds: ['INV-001', 'INV-002'],
      memo: '货款 Q4',
    },
    [core],
    'ok',
  );
  const root = `v${opId(issue).slice(0, 24)}`;
  step({ type: 'voucher.accept', voucherId: root }, [tier1], 'ok');
  step({ type: 'voucher.split', voucherId: root, amounts: ['60000000', '40000000'] }, [tier1], 'ok');
  step({ type: 'voucher.transfer', voucherId: `${root}:0-60000000`, to: tier2.id, amount: '25000000' }, [tier1], 'ok');
  step({ type: 'voucher.accept', voucherId: `${root}:0-25000000` }, [tier2], 'ok');
  step({ type: 'voucher.pledge', voucherId: `${root}:0-25000000`, bank: bank.id, loanRef: 'LOAN-7', amount: '20000000' }, [tier2, bank], 'ok');
  step({ type: 'voucher.pledge', voucherId: `${root}:0-20000000`, bank: bank2.id, loanRef: 'LOAN-9' }, [tier2, bank2], 'VOUCHER_PLEDGED');
  step({ type: 'voucher.transfer', voucherId: `${root}:60000000-100000000`, to: tier2.id }, [tier1], 'ok');
  step({ type: 'voucher.reject', voucherId: `${root}:60000000-100000000`, reason: 'wrong goods' }, [tier2], 'ok');
  step({ type: 'voucher.release', voucherId: `${root}:0-20000000` }, [bank], 'ok');
  step({ type: 'voucher.pledge', voucherId: `${root}:0-20000000`, bank: bank.id, loanRef: 'LOAN-8' }, [tier2, bank], 'ok');
  step({ type: 'voucher.settle', voucherId: `${root}:0-20000000`, paymentRef: 'PAY-1' }, [core], 'ok');
  const second = step(
    { type: 'voucher.issue', issuer: core.id, to: tier2.id, amount: '5000', currency: 'CNY', dueDate: '2027-01-15', invoiceIds: ['INV-003'] },
    [core],
    'ok',
  );
  step({ type: 'voucher.cancel', voucherId: `v${opId(second).slice(0, 24)}` }, [core], 'ok');
  step({ type: 'party.update', partyId: bank2.id, status: 'suspended' }, [operator], 'ok');
  step(
    {
      type: 'voucher.issue',
      issuer: core.id,
      to: tier2.id,
      amount: '1',
      currency: 'CNY',
      dueDate: '2027-01-15',
      invoiceIds: ['INV-003'],
      expiresAt: '2026-11-28T09:00:00.000Z',
    },
    [core],
    'OP_EXPIRED',
  );

  const leaves = entries.map((e) => entryHash(e));
  const tree = new MerkleTree();
  for (const l of leaves) tree.append(Uint8Array.from(Buffer.from(l, 'hex')));
  const n = leaves.length;
  const roots = Array.from({ length: n + 1 }, (_, size) => toHex(tree.root(size)));
  const inclusion = [
    [0, 1],
    [0, n],
    [3, 7],
    [6, 7],
    [n - 1, n],
    [5, n],
    [10, 16],
  ].map(([index = 0, size = 0]) => ({ index, size, leaf: leaves[index], root: roots[size], proof: tree.inclusionProof(index, size).map(toHex) }));
  const consistency = [
    [1, n],
    [4, 7],
    [7, 8],
    [8, 16],
    [5, n],
    [n - 1, n],
    [0, n],
    [n, n],
  ].map(([m = 0, size = 0]) => ({ from: m, to: size, rootFrom: roots[m], rootTo: roots[size], proof: tree.consistencyProof(m, size).map(toHex) }));
  const cp = { ledgerId, size: n, root: roots[n] ?? '' };
  const checkpoint = signCheckpoint(cp, node.seed);

  return {
    description:
      'Vectors for protocol rvl/op/v1 (PROTOCOL.md). Keys: seed = SHA-256("rvl-vector-key:<party id>"), hex. Ed25519 signatures are ' +
      'deterministic (RFC 8032). Every hash is lowercase hex. Regenerate with `npm run vectors`.',
    nodeKey: { seed: node.seed, publicKey: node.publicKey },
    parties: Object.fromEntries([operator, core, tier1, tier2, bank, bank2].map((k) => [k.id, { role: k.role, seed: k.seed, publicKey: k.publicKey }])),
    ledgerId,
    operator: operatorParty({ operatorPublicKey: operator.publicKey }),
    ops,
    refusals,
    entries: entries.map((entry, i) => ({ entry, canonical: canonicalize(entry), hash: leaves[i] })),
    merkle: { roots, inclusion, consistency },
    checkpoint: {
      origin: `rvl/${ledgerId}`,
      keyIdHex: toHex(keyId(`rvl/${ledgerId}`, node.publicKey)),
      text: checkpointText(cp),
      note: checkpoint,
      nodePublicKey: node.publicKey,
    },
    finalState: {
      vouchers: state.allVouchers().map(voucherToWire),
      parties: state.allParties(),
      usedInvoices: state.usedInvoices(),
    },
  };
};

export const vectorsText = (): string => `${JSON.stringify(buildVectors(), null, 2)}\n`;

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const text = vectorsText();
  if (process.argv.includes('--check')) {
    const current = readFileSync(OUT, 'utf8');
    if (current !== text) {
      process.stderr.write(`${OUT} is out of date: run npm run vectors\n`);
      process.exit(1);
    }
    process.stdout.write(`${OUT} is up to date\n`);
  } else {
    writeFileSync(OUT, text);
    process.stdout.write(`wrote ${OUT}\n`);
  }
}
