/**
 * How vouchers, receipts, histories and trees read on a terminal. Everything that came from the
 * ledger passes through `clean` before it is printed.
 */
import type { HashedEntry, Party, Receipt, TreeNode, WireVoucher } from '../client/index.js';
import { clean, drawTree, keyValues, shortTime, table, underRoot, type DrawNode } from './format.js';
import { formatAmount } from '../domain/money.js';
import type { OpType } from '../domain/types.js';

const c = (s: string | null | undefined): string => (s === null || s === undefined ? '' : clean(s));

/** Who has it, in a few words: `dongguan-parts → chen-electronics`, `… pledged to icbc-gz`. */
export const whereabouts = (v: WireVoucher): string => {
  switch (v.status) {
    case 'offered':
      return `${c(v.holder)} → ${c(v.offeredTo)}`;
    case 'pledged':
      return `${c(v.holder)}, pledged to ${c(v.pledge?.bank)}`;
    case 'settled':
      return `paid to ${c(v.settlement?.payee)}`;
    case 'cancelled':
      return `cancelled (${c(v.holder)})`;
    default:
      return c(v.holder);
  }
};

/** A voucher's full state, one field a line. */
export const voucherDetails = (v: WireVoucher): string => {
  const pairs: [string, string][] = [
    ['voucher', c(v.id)],
    ['status', c(v.status)],
    ['amount', formatAmount(v.amount, v.currency)],
    ['issuer', c(v.issuer)],
    ['holder', c(v.holder)],
  ];
  if (v.offeredTo !== null) pairs.push(['offered to', c(v.offeredTo)]);
  pairs.push(['due date', c(v.dueDate)], ['invoices', v.invoiceIds.map(c).join(', ')]);
  if (v.pledge) pairs.push(['pledged to', `${c(v.pledge.bank)}, loan ${c(v.pledge.loanRef)}, since ${shortTime(v.pledge.since)}`]);
  if (v.settlement) pairs.push(['settled', `paid to ${c(v.settlement.payee)}, payment ${c(v.settlement.paymentRef)}, at ${shortTime(v.settlement.at)}`]);
  pairs.push(['root', v.parentId === null ? 'itself (issued directly)' : c(v.rootId)]);
  if (v.parentId !== null) pairs.push(['parent', c(v.parentId)]);
  pairs.push(
    ['range', `fen ${c(v.range.start)} – ${c(v.range.end)} of the root`],
    ['currency', c(v.currency)],
    ['entries', `created at seq ${v.createdSeq}, last changed at seq ${v.updatedSeq}`],
  );
  return keyValues(pairs);
};

/** Vouchers as a table. */
export const voucherTable = (vouchers: readonly WireVoucher[], indent = ''): string =>
  table(
    [{ header: 'voucher' }, { header: 'status' }, { header: 'amount', align: 'right' }, { header: 'due' }, { header: 'held by' }],
    vouchers.map((v) => [c(v.id), c(v.status), formatAmount(v.amount, v.currency), c(v.dueDate), whereabouts(v)]),
    indent,
  );

/** A receipt's first line: what happened, where. */
export const receiptHeadline = (r: Receipt & { duplicate?: boolean }, type: string): string =>
  r.duplicate
    ? `already on the ledger: ${type} at seq ${r.seq} (this envelope was sent before; nothing changed)`
    : `accepted: ${type} at seq ${r.seq}, ${shortTime(r.time)} (op ${r.opId.slice(0, 16)}…)`;

/** A receipt: the headline, then the vouchers and parties it changed. */
export const receiptText = (r: Receipt & { duplicate?: boolean }, type: string): string => {
  let text = `${receiptHeadline(r, type)}\n`;
  if (r.effects.vouchers.length > 0) text += `\n${voucherTable(r.effects.vouchers, '  ')}`;
  if (r.effects.parties.length > 0) text += `\n${partyTable(r.effects.parties, '  ')}`;
  return text;
};

export const partyTable = (parties: readonly Party[], indent = ''): string =>
  table(
    [{ header: 'party' }, { header: 'role' }, { header: 'status' }, { header: 'name' }, { header: 'public key' }],
    parties.map((p) => [c(p.id), c(p.role), c(p.status), c(p.name), c(p.publicKey)]),
    indent,
  );

// ---- history ----

type Json = Record<string, unknown>;
const str = (x: unknown): string => (typeof x === 'string' ? clean(x) : '');

/** The amount a voucher id stands for: a part's id says its range; the root's is its issue's amount. */
const amountOfId = (id: string, rootAmount: bigint | undefined): bigint | undefined => {
  const m = /:(\d+)-(\d+)$/.exec(id);
  if (m) return BigInt(m[2]!) - BigInt(m[1]!);
  return rootAmount;
};

/** What an op did, in a few words, and the amount it moved. */
const describeOp = (p: Json, rootAmount: bigint | undefined, currency: string): { amount: string; detail: string } => {
  const voucherAmount = typeof p.voucherId === 'string' ? amountOfId(p.voucherId, rootAmount) : undefined;
  const money = (x: unknown): string => (typeof x === 'string' && /^[0-9]{1,16}$/.test(x) ? formatAmount(x, currency) : '');
  const whole = voucherAmount === undefined ? '' : formatAmount(voucherAmount, currency);
  const known = p.type as OpType | 'ledger.genesis';
  switch (known) {
    case 'ledger.genesis':
      return { amount: '', detail: `ledger "${str(p.name)}" created` };
    case 'party.register': {
      const party = (p.party ?? {}) as Json;
      return { amount: '', detail: `${str(party.id)} registered as ${str(party.role)} ("${str(party.name)}")` };
    }
    case 'party.update':
      return { amount: '', detail: [`${str(p.partyId)}:`, p.publicKey ? 'new key' : '', p.status ? `now ${str(p.status)}` : ''].filter(Boolean).join(' ') };
    case 'voucher.issue':
      return {
        amount: money(p.amount),
        detail: `to ${str(p.to)}, due ${str(p.dueDate)}, invoices ${Array.isArray(p.invoiceIds) ? p.invoiceIds.map(str).join(', ') : ''}${p.memo ? ` — "${str(p.memo)}"` : ''}`,
      };
    case 'voucher.accept':
      return { amount: whole, detail: 'accepted' };
    case 'voucher.reject':
      return { amount: whole, detail: `rejected${p.reason ? `: "${str(p.reason)}"` : ''}` };
    case 'voucher.cancel':
      return { amount: whole, detail: 'offer withdrawn' };
    case 'voucher.split':
      return { amount: whole, detail: `split into ${Array.isArray(p.amounts) ? p.amounts.map(money).join(' + ') : ''}` };
    case 'voucher.transfer':
      return { amount: p.amount === undefined ? whole : money(p.amount), detail: `to ${str(p.to)}${p.amount === undefined ? ' (whole)' : ' (part)'}` };
    case 'voucher.pledge':
      return {
        amount: p.amount === undefined ? whole : money(p.amount),
        detail: `pledged to ${str(p.bank)}, loan ${str(p.loanRef)}${p.amount === undefined ? '' : ' (part)'}`,
      };
    case 'voucher.release':
      return { amount: whole, detail: 'pledge released' };
    case 'voucher.settle':
      return { amount: whole, detail: `settled, payment ${str(p.paymentRef)}` };
    default: {
      const _exhaustive: never = known;
      return { amount: '', detail: str(p.type) };
    }
  }
};

/** A voucher's history as a timeline: seq, time, op, voucher, signer(s), amount, what happened. */
export const historyTable = (entries: readonly HashedEntry[], rootId: string): string => {
  const issued = entries.map((e) => e.entry.op.payload as Json).find((p) => p.type === 'voucher.issue');
  const rootAmount = typeof issued?.amount === 'string' && /^[0-9]{1,16}$/.test(issued.amount) ? BigInt(issued.amount) : undefined;
  // Every part of a voucher counts in the currency its root was issued in (the ledger's).
  const currency = typeof issued?.currency === 'string' ? issued.currency : 'CNY';
  const rows = entries.map(({ entry }) => {
    const p = entry.op.payload as Json;
    const { amount, detail } = describeOp(p, rootAmount, currency);
    const voucher = typeof p.voucherId === 'string' ? underRoot(clean(p.voucherId), rootId) : p.type === 'voucher.issue' ? 'root' : '';
    const signers = entry.op.signatures.map((s) => str((s as { signer?: unknown }).signer)).join(' + ');
    return [String(entry.seq), shortTime(entry.time), str(p.type).replace(/^voucher\./, ''), voucher, signers, amount, detail];
  });
  return table(
    [
      { header: 'seq', align: 'right' },
      { header: 'time (UTC)' },
      { header: 'op' },
      { header: 'voucher' },
      { header: 'signed by' },
      { header: 'amount', align: 'right' },
      { header: 'what happened' },
    ],
    rows,
  );
};

// ---- tree ----

/** The split tree: full root id at the top, parts by their range, amount and status per node. */
export const treeText = (root: TreeNode): string => {
  const toDraw = (n: TreeNode): DrawNode => ({
    cells: [
      underRoot(clean(n.id), root.id) === 'root' ? clean(n.id) : underRoot(clean(n.id), root.id),
      formatAmount(n.amount, n.currency),
      c(n.status),
      whereabouts(n),
    ],
    children: (n.children ?? []).map(toDraw),
  });
  return drawTree(toDraw(root), ['left', 'right', 'left', 'left']);
};
