/**
 * docs/protocol.md §7 as one pure function: `decide(view, op, context)` returns the op's effects or the
 * refusal that the §7 table puts first. It reads no clock, no randomness and no storage: the
 * ledger time, the seq, the op id and the signature checks are all inputs.
 *
 * The checks run in the table's order of precedence. Each op type contributes only what differs:
 * the parties it names and the signers it requires (declared in `ops.ts`), and its rule checks
 * after `SIGNERS_MISMATCH` (below).
 *
 * A refusal's `detail` goes back to whoever submitted the op, which may be any of its signers. It
 * names only what every signer may see (docs/protocol.md §8): the op's own fields, parties' ids
 * and roles (every authenticated party may list them), the ledger's facts, and a voucher's state
 * (holder, pledgee, amount, due date, status) only when every signer may see that voucher.
 * Otherwise it says the same thing without the names (`shown` below). Amounts read `¥1,234.56`.
 */
import { refuse, type Refusal } from './codes.js';
import { formatAmount } from './money.js';
import { acceptedIn, namedParties, requiredSigners, specOf } from './ops.js';
import type {
  Decision,
  DecideContext,
  Effects,
  LedgerView,
  Op,
  Party,
  PartyRegisterPayload,
  PartyUpdatePayload,
  Voucher,
  VoucherIssuePayload,
  VoucherPledgePayload,
  VoucherSplitPayload,
  VoucherTransferPayload,
} from './types.js';

/** A broken invariant is a programmer error, never an answer: it stops the op, writing nothing. */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}

const MS_PER_DAY = 86_400_000;

/** §7: the ledger date is the UTC date of ledger time. */
export const ledgerDate = (time: string): string => new Date(time).toISOString().slice(0, 10);

/** `date` (YYYY-MM-DD) plus `days`, as YYYY-MM-DD. */
export const addDays = (date: string, days: number): string => new Date(Date.parse(`${date}T00:00:00.000Z`) + days * MS_PER_DAY).toISOString().slice(0, 10);

/** §7 rule 4: overdue means ledger date > dueDate. */
export const isOverdue = (voucher: Voucher, time: string): boolean => ledgerDate(time) > voucher.dueDate;

/** §7 rule 3: the id of a root is "v" + the first 24 hex chars of the issuing opId. */
export const rootVoucherId = (opId: string): string => `v${opId.slice(0, 24)}`;

/** §7 rule 3: the id of a non-root voucher. */
export const childVoucherId = (rootId: string, start: bigint, end: bigint): string => `${rootId}:${start}-${end}`;

const sameSigners = (signers: readonly string[], required: readonly string[]): boolean => {
  const given = new Set(signers);
  const wanted = new Set(required);
  if (given.size !== signers.length || given.size !== wanted.size) return false;
  for (const s of wanted) if (!given.has(s)) return false;
  return true;
};

/**
 * The `WRONG_LEDGER` refusal for an op made for another ledger, or undefined. `decide` checks it
 * first; the writer checks it before hashing the op, with the same words.
 */
export const wrongLedger = (op: Op, ledgerId: string): Refusal | undefined =>
  op.payload.ledger === ledgerId ? undefined : refuse('WRONG_LEDGER', `the op is for ledger ${op.payload.ledger}, not ${ledgerId}`);

export const decide = (view: LedgerView, op: Op, ctx: DecideContext): Decision => {
  const p = op.payload;
  const signers = op.signatures.map((s) => s.signer);

  const otherLedger = wrongLedger(op, ctx.ledgerId);
  if (otherLedger) return otherLedger;
  if (p.expiresAt !== undefined && Date.parse(ctx.time) > Date.parse(p.expiresAt)) {
    return refuse('OP_EXPIRED', `the op expired at ${p.expiresAt}; ledger time is ${ctx.time}`);
  }

  // UNKNOWN_PARTY: signers first, then the parties the payload names.
  for (const signer of signers) {
    if (!view.party(signer)) return refuse('UNKNOWN_PARTY', `signer ${signer} is not registered`);
  }
  const named = namedParties(p);
  for (const { id, field } of named) {
    if (!view.party(id)) return refuse('UNKNOWN_PARTY', `${field} ${id} is not registered`);
  }

  for (const { signer, sig } of op.signatures) {
    const party = view.party(signer);
    assert(party, `signer ${signer} vanished`);
    if (!ctx.verifySignature(party.publicKey, sig)) {
      return refuse('BAD_SIGNATURE', `the signature of ${signer} does not verify under its current key`);
    }
  }

  for (const signer of signers) {
    if (view.party(signer)?.status === 'suspended') {
      return refuse('PARTY_SUSPENDED', `signer ${signer} is suspended`);
    }
  }
  for (const { id, field, mustBeActive } of named) {
    if (mustBeActive && view.party(id)?.status === 'suspended') {
      return refuse('PARTY_SUSPENDED', `${field} ${id} is suspended`);
    }
  }

  let voucher: Voucher | undefined;
  if ('voucherId' in p) {
    voucher = view.voucher(p.voucherId);
    const found = voucher;
    if (!found || !signers.some((s) => view.maySee(s, found.id))) {
      return refuse('VOUCHER_NOT_FOUND', `no voucher ${p.voucherId} that the signers may see`);
    }
  }

  // Whether every signer may see the voucher's state, and so may read it in a detail.
  const shown = voucher === undefined || signers.every((s) => view.maySee(s, voucher.id));

  const required = requiredSigners(p, voucher);
  if (required === null) {
    const signedBy = specOf(p).signers;
    assert(voucher && signedBy.from === 'voucher', 'a missing required signer implies a voucher');
    assert(signedBy.onlyIn !== undefined, `${p.type} has a voucher signer who always exists`);
    const needed = signedBy.onlyIn;
    return refuse('VOUCHER_STATE_CONFLICT', `${p.type} needs a voucher that is ${needed}; ${voucher.id} is ${shown ? voucher.status : `not ${needed}`}`);
  }
  if (!sameSigners(signers, required)) {
    return refuse(
      'SIGNERS_MISMATCH',
      `${p.type} must be signed by exactly ${shown ? required.join(' and ') : specOf(p).signers.inWords}; got ${signers.join(', ')}`,
    );
  }

  const party = (id: string): Party => {
    const found = view.party(id);
    assert(found, `party ${id} vanished`);
    return found;
  };

  const its = (): Voucher => {
    assert(voucher, `${p.type} needs its voucher`);
    return voucher;
  };

  switch (p.type) {
    case 'party.register':
      return register(view, p, ctx);
    case 'party.update':
      return update(view, p, party(p.partyId), ctx);
    case 'voucher.issue':
      return issue(view, p, ctx, party);
    case 'voucher.accept': {
      const v = its();
      return accepted({
        vouchers: [{ ...v, status: 'active', holder: v.offeredTo ?? v.holder, offeredTo: null, updatedSeq: ctx.seq }],
      });
    }
    case 'voucher.reject':
    case 'voucher.cancel':
      return withdraw(its(), ctx);
    case 'voucher.release':
      return accepted({ vouchers: [{ ...its(), status: 'active', pledge: null, updatedSeq: ctx.seq }] });
    case 'voucher.settle':
      return settle(its(), p.paymentRef, ctx, shown);
    case 'voucher.split':
    case 'voucher.transfer':
    case 'voucher.pledge':
      return move(its(), p, ctx, party, shown);
    default: {
      const _exhaustive: never = p;
      return _exhaustive;
    }
  }
};

const accepted = (effects: Partial<Effects>): Decision => ({
  ok: true,
  effects: {
    vouchers: effects.vouchers ?? [],
    parties: effects.parties ?? [],
    invoicesUsed: effects.invoicesUsed ?? [],
    invoicesFreed: effects.invoicesFreed ?? [],
  },
});

/**
 * `PARTY_EXISTS` when `publicKey` is the node's key: genesis registers that key to the node (§6),
 * so it is a key "that is or was registered" (§7). A party holding it could sign ops with the key
 * that banks trust for checkpoints (§9). The node's key is public (genesis names it), so the
 * detail may say so.
 */
const nodeKeyRefusal = (publicKey: string, ctx: DecideContext): Decision | undefined =>
  publicKey === ctx.nodeKey ? refuse('PARTY_EXISTS', "that public key is the node's checkpoint key, registered to the node at genesis") : undefined;

const register = (view: LedgerView, p: PartyRegisterPayload, ctx: DecideContext): Decision => {
  if (view.party(p.party.id)) return refuse('PARTY_EXISTS', `party ${p.party.id} is already registered`);
  const nodeKey = nodeKeyRefusal(p.party.publicKey, ctx);
  if (nodeKey !== undefined) return nodeKey;
  const owner = view.keyOwner(p.party.publicKey);
  if (owner !== undefined) {
    return refuse('PARTY_EXISTS', `that public key is or was registered to ${owner}`);
  }
  return accepted({ parties: [{ ...p.party, status: 'active' }] });
};

const update = (view: LedgerView, p: PartyUpdatePayload, target: Party, ctx: DecideContext): Decision => {
  if (p.status === 'suspended' && target.role === 'operator') {
    return refuse('ROLE_NOT_ALLOWED', 'the operator cannot be suspended');
  }
  if (p.publicKey !== undefined) {
    const nodeKey = nodeKeyRefusal(p.publicKey, ctx);
    if (nodeKey !== undefined) return nodeKey;
    const owner = view.keyOwner(p.publicKey);
    if (owner !== undefined && owner !== target.id) {
      return refuse('PARTY_EXISTS', `that public key is or was registered to ${owner}`);
    }
  }
  return accepted({
    parties: [{ ...target, publicKey: p.publicKey ?? target.publicKey, status: p.status ?? target.status }],
  });
};

const issue = (view: LedgerView, p: VoucherIssuePayload, ctx: DecideContext, party: (id: string) => Party): Decision => {
  if (party(p.issuer).role !== 'core') {
    return refuse('ROLE_NOT_ALLOWED', `issuer ${p.issuer} is not a core enterprise`);
  }
  if (party(p.to).role !== 'supplier') {
    return refuse('ROLE_NOT_ALLOWED', `vouchers are issued to suppliers; ${p.to} is not one`);
  }
  const today = ledgerDate(ctx.time);
  const latest = addDays(today, ctx.maxTenorDays);
  if (p.dueDate <= today || p.dueDate > latest) {
    return refuse('DUE_DATE_INVALID', `dueDate must be after ${today} and no later than ${latest}`);
  }
  if (p.currency !== ctx.currency) {
    return refuse('CURRENCY_INVALID', `this ledger's currency is ${ctx.currency}`);
  }
  for (const invoiceId of p.invoiceIds) {
    const root = view.invoiceRoot(invoiceId);
    if (root !== undefined) {
      // The root may be another issuer's: name it only to an issuer that may see it.
      const backs = view.maySee(p.issuer, root) ? root : 'a voucher that is not cancelled';
      return refuse('INVOICE_ALREADY_USED', `invoice ${invoiceId} already backs ${backs}`);
    }
  }
  const id = rootVoucherId(ctx.opId);
  const root: Voucher = {
    id,
    rootId: id,
    parentId: null,
    issuer: p.issuer,
    holder: p.issuer,
    offeredTo: p.to,
    amount: p.amount,
    range: { start: 0n, end: p.amount },
    currency: p.currency,
    dueDate: p.dueDate,
    invoiceIds: [...p.invoiceIds],
    status: 'offered',
    pledge: null,
    settlement: null,
    createdSeq: ctx.seq,
    updatedSeq: ctx.seq,
  };
  return accepted({ vouchers: [root], invoicesUsed: [...p.invoiceIds] });
};

/** `voucher.reject` and `voucher.cancel` (§7): same effect, different signer. */
const withdraw = (voucher: Voucher, ctx: DecideContext): Decision => {
  const neverAccepted = voucher.parentId === null && voucher.holder === voucher.issuer;
  if (neverAccepted) {
    return accepted({
      vouchers: [{ ...voucher, status: 'cancelled', offeredTo: null, updatedSeq: ctx.seq }],
      invoicesFreed: [...voucher.invoiceIds],
    });
  }
  return accepted({ vouchers: [{ ...voucher, status: 'active', offeredTo: null, updatedSeq: ctx.seq }] });
};

const settle = (voucher: Voucher, paymentRef: string, ctx: DecideContext, shown: boolean): Decision => {
  if (!acceptedIn('voucher.settle').includes(voucher.status)) {
    return refuse('VOUCHER_STATE_CONFLICT', `only an active or pledged voucher can be settled; ${voucher.id} is ${shown ? voucher.status : 'neither'}`);
  }
  const payee = voucher.pledge?.bank ?? voucher.holder;
  return accepted({
    vouchers: [
      {
        ...voucher,
        status: 'settled',
        pledge: null,
        settlement: { payee, paymentRef, at: ctx.time },
        updatedSeq: ctx.seq,
      },
    ],
  });
};

/** Rule 1: children partition the parent's range in the order of `amounts`. */
const splitChildren = (parent: Voucher, amounts: readonly bigint[], seq: number): Voucher[] => {
  let start = parent.range.start;
  return amounts.map((amount) => {
    const end = start + amount;
    const child: Voucher = {
      id: childVoucherId(parent.rootId, start, end),
      rootId: parent.rootId,
      parentId: parent.id,
      issuer: parent.issuer,
      holder: parent.holder,
      offeredTo: null,
      amount,
      range: { start, end },
      currency: parent.currency,
      dueDate: parent.dueDate,
      invoiceIds: [...parent.invoiceIds],
      status: 'active',
      pledge: null,
      settlement: null,
      createdSeq: seq,
      updatedSeq: seq,
    };
    start = end;
    return child;
  });
};

/** `voucher.split`, `voucher.transfer` and `voucher.pledge`: the ops that move an active voucher. */
const move = (
  voucher: Voucher,
  p: VoucherSplitPayload | VoucherTransferPayload | VoucherPledgePayload,
  ctx: DecideContext,
  party: (id: string) => Party,
  shown: boolean,
): Decision => {
  const recipient = p.type === 'voucher.transfer' ? p.to : p.type === 'voucher.pledge' ? p.bank : null;

  if (p.type === 'voucher.transfer') {
    const role = party(p.to).role;
    if (role !== 'supplier' && role !== 'bank') {
      return refuse('ROLE_NOT_ALLOWED', `vouchers are transferred to suppliers or banks; ${p.to} is a ${role}`);
    }
  }
  if (p.type === 'voucher.pledge' && party(p.bank).role !== 'bank') {
    return refuse('ROLE_NOT_ALLOWED', `vouchers are pledged to banks; ${p.bank} is not one`);
  }
  if (voucher.status === 'pledged') {
    const to = shown && voucher.pledge !== null ? ` to ${voucher.pledge.bank}` : '';
    return refuse('VOUCHER_PLEDGED', `${voucher.id} is pledged${to}`);
  }
  if (!acceptedIn(p.type).includes(voucher.status)) {
    return refuse(
      'VOUCHER_STATE_CONFLICT',
      `only an active voucher can be split, transferred or pledged; ${voucher.id} is ${shown ? voucher.status : 'not active'}`,
    );
  }
  if (isOverdue(voucher, ctx.time)) {
    return refuse('VOUCHER_OVERDUE', shown ? `${voucher.id} was due on ${voucher.dueDate}` : `${voucher.id} is past its due date`);
  }
  if (recipient !== null && recipient === voucher.holder) {
    // The recipient is named by the op itself, and the code already says it is the holder.
    return refuse('INVALID_RECIPIENT', `${recipient} already holds ${voucher.id}`);
  }

  const voucherAmount = shown ? `the voucher's ${formatAmount(voucher.amount)}` : "the voucher's amount";
  if (p.type === 'voucher.split') {
    const sum = p.amounts.reduce((a, b) => a + b, 0n);
    if (sum !== voucher.amount) {
      return refuse('AMOUNT_INVALID', `the parts sum to ${formatAmount(sum)}, not ${voucherAmount}`);
    }
    return accepted({
      vouchers: [parentSplit(voucher, ctx.seq), ...splitChildren(voucher, p.amounts, ctx.seq)],
    });
  }

  if (p.amount !== undefined && p.amount >= voucher.amount) {
    return refuse('AMOUNT_INVALID', `a partial amount must be below ${voucherAmount}; ${formatAmount(p.amount)} is not`);
  }
  const moveOne = (v: Voucher): Voucher =>
    p.type === 'voucher.transfer'
      ? { ...v, status: 'offered', offeredTo: p.to, updatedSeq: ctx.seq }
      : { ...v, status: 'pledged', pledge: { bank: p.bank, loanRef: p.loanRef, since: ctx.time }, updatedSeq: ctx.seq };

  if (p.amount === undefined) return accepted({ vouchers: [moveOne(voucher)] });

  const [moved, rest] = splitChildren(voucher, [p.amount, voucher.amount - p.amount], ctx.seq);
  assert(moved && rest, 'a partial move makes two children');
  return accepted({ vouchers: [parentSplit(voucher, ctx.seq), moveOne(moved), rest] });
};

const parentSplit = (voucher: Voucher, seq: number): Voucher => ({
  ...voucher,
  status: 'split',
  offeredTo: null,
  pledge: null,
  updatedSeq: seq,
});
