/**
 * The §7 voucher ops, each signed by the key's party and submitted once (the client resends the
 * same bytes on a network error, so a retry can never become a second op): issue, accept,
 * reject, cancel, split, transfer, release, settle.
 */
import {
  opIdOf,
  signEnvelope,
  voucherAccept,
  voucherCancel,
  voucherIssue,
  voucherReject,
  voucherRelease,
  voucherSettle,
  voucherSplit,
  voucherTransfer,
  type Signer,
  type SubmitResult,
  type WirePayload,
} from '../../client/index.js';
import { LIMITS } from '../../domain/limits.js';
import type { Context } from '../context.js';
import { CliError, describeError, EXIT, usageError } from '../errors.js';
import { writeNew } from '../files.js';
import { clean } from '../format.js';
import { formatAmount } from '../../domain/money.js';
import { receiptText } from '../views.js';
import { ledgerAmount } from '../args.js';

/**
 * Signs `payload` with `signers` and submits it. If the ledger cannot be reached or answer (after
 * the client's retries of the same bytes), the signed envelope is saved in the working folder:
 * `rvl submit` resends exactly that op, which can never apply twice, where running the command
 * again would sign a new op.
 */
export const submitSigned = async (ctx: Context, payload: WirePayload, signers: readonly Signer[]): Promise<SubmitResult> => {
  const client = await ctx.client(false);
  const envelope = signEnvelope(payload, signers);
  try {
    return await client.submit(envelope);
  } catch (err) {
    const described = await describeError(err, ctx.url);
    if (described.exit !== EXIT.unavailable) throw err;
    const file = `rvl-unsent-${opIdOf(payload).slice(0, 16)}.json`;
    try {
      await writeNew(file, `${JSON.stringify(envelope, null, 2)}\n`);
    } catch {
      throw err;
    }
    throw new CliError(
      EXIT.unavailable,
      `${described.line}. The signed op is saved in ${file}: resend that same op with \`rvl submit ${file}\` (it can never apply twice)`,
    );
  }
};

/** Prints a receipt (or emits it with `--json`), then any next-step lines. */
export const report = (ctx: Context, receipt: SubmitResult, type: string, next: readonly string[] = []): void => {
  if (ctx.json) {
    ctx.emit(receipt);
    return;
  }
  ctx.out(receiptText(receipt, type) + (next.length > 0 ? `\n${next.join('\n')}\n` : ''));
};

/** Builds, signs with the key's party and submits; prints the receipt. */
const run = async (
  ctx: Context,
  build: (ledger: string, expiresAt: string | undefined) => WirePayload,
  next?: (r: SubmitResult) => string[],
): Promise<SubmitResult> => {
  const key = await ctx.key();
  const { ledgerId } = await ctx.ledger();
  const payload = build(ledgerId, ctx.expiresAt());
  const receipt = await submitSigned(ctx, payload, [key]);
  report(ctx, receipt, payload.type, next && !receipt.duplicate ? next(receipt) : []);
  return receipt;
};

const common = (ledger: string, expiresAt: string | undefined) => ({ ledger, ...(expiresAt ? { expiresAt } : {}) });

export interface IssueOptions {
  readonly to: string;
  /** As typed; read in the ledger's currency (`ledgerAmount`). */
  readonly amount: string;
  readonly due: string;
  readonly invoice: string[];
  readonly memo?: string;
}

export const issue = async (ctx: Context, o: IssueOptions): Promise<void> => {
  const key = await ctx.key();
  const { currency } = await ctx.ledger();
  const amount = ledgerAmount('--amount <yuan>', o.amount, currency);
  await run(
    ctx,
    (ledger, expiresAt) =>
      voucherIssue({
        ...common(ledger, expiresAt),
        issuer: key.party,
        to: o.to,
        amount,
        currency,
        dueDate: o.due,
        invoiceIds: o.invoice,
        ...(o.memo === undefined ? {} : { memo: o.memo }),
      }),
    (r) => {
      const id = r.effects.vouchers[0]?.id ?? '';
      return [`Voucher ${clean(id)} for ${formatAmount(amount, currency)} is offered to ${o.to}, who accepts it with:`, `  rvl accept ${clean(id)}`];
    },
  );
};

export const accept = async (ctx: Context, voucherId: string): Promise<void> => {
  await run(ctx, (ledger, expiresAt) => voucherAccept({ ...common(ledger, expiresAt), voucherId }));
};

export const reject = async (ctx: Context, voucherId: string, o: { readonly reason?: string }): Promise<void> => {
  await run(ctx, (ledger, expiresAt) => voucherReject({ ...common(ledger, expiresAt), voucherId, ...(o.reason === undefined ? {} : { reason: o.reason }) }));
};

export const cancel = async (ctx: Context, voucherId: string): Promise<void> => {
  await run(ctx, (ledger, expiresAt) => voucherCancel({ ...common(ledger, expiresAt), voucherId }));
};

/** Splits after checking, against the voucher as it is now, that the parts add up to it. */
export const split = async (ctx: Context, voucherId: string, o: { readonly amounts: readonly string[] }): Promise<void> => {
  if (o.amounts.length < LIMITS.splitPartsMin || o.amounts.length > LIMITS.splitPartsMax) {
    throw usageError(`a split has ${LIMITS.splitPartsMin}–${LIMITS.splitPartsMax} parts; --amounts gave ${o.amounts.length}`);
  }
  const client = await ctx.client(true);
  const { currency } = await ctx.ledger();
  const parts = o.amounts.map((text) => ledgerAmount('--amounts <yuan...>', text, currency));
  const voucher = await client.voucher(voucherId);
  const total = parts.reduce((a, b) => a + b, 0n);
  const whole = BigInt(voucher.amount);
  if (total !== whole) {
    const gap = total < whole ? `${formatAmount(whole - total, voucher.currency)} short` : `${formatAmount(total - whole, voucher.currency)} too much`;
    throw usageError(
      `the parts add up to ${formatAmount(total, voucher.currency)}, but ${voucherId} holds ${formatAmount(whole, voucher.currency)} (${gap}); the parts must add up exactly`,
    );
  }
  await run(
    ctx,
    (ledger, expiresAt) => voucherSplit({ ...common(ledger, expiresAt), voucherId, amounts: parts }),
    (r) => {
      const ids = r.effects.vouchers.filter((v) => v.parentId === voucherId).map((v) => v.id);
      return ids.length > 0 ? [`The parts are: ${ids.map(clean).join(', ')}`] : [];
    },
  );
};

export const transfer = async (ctx: Context, voucherId: string, o: { readonly to: string; readonly amount?: string }): Promise<void> => {
  await ctx.key();
  const { currency } = await ctx.ledger();
  const amount = o.amount === undefined ? undefined : ledgerAmount('--amount <yuan>', o.amount, currency);
  await run(
    ctx,
    (ledger, expiresAt) => voucherTransfer({ ...common(ledger, expiresAt), voucherId, to: o.to, ...(amount === undefined ? {} : { amount }) }),
    (r) => {
      const offered = r.effects.vouchers.find((v) => v.status === 'offered' && v.offeredTo === o.to)?.id ?? voucherId;
      const kept = r.effects.vouchers.find((v) => v.status === 'active' && v.id !== voucherId);
      const lines = [`Offered ${clean(offered)} to ${o.to}, who accepts it with:`, `  rvl accept ${clean(offered)}`];
      if (kept) lines.push(`You keep ${clean(kept.id)} (${formatAmount(kept.amount, kept.currency)}).`);
      return lines;
    },
  );
};

export const release = async (ctx: Context, voucherId: string): Promise<void> => {
  await run(ctx, (ledger, expiresAt) => voucherRelease({ ...common(ledger, expiresAt), voucherId }));
};

export const settle = async (ctx: Context, voucherId: string, o: { readonly paymentRef: string }): Promise<void> => {
  await run(
    ctx,
    (ledger, expiresAt) => voucherSettle({ ...common(ledger, expiresAt), voucherId, paymentRef: o.paymentRef }),
    (r) => {
      const v = r.effects.vouchers.find((x) => x.id === voucherId);
      return v?.settlement ? [`Paid ${formatAmount(v.amount, v.currency)} to ${clean(v.settlement.payee)} (payment ${clean(v.settlement.paymentRef)}).`] : [];
    },
  );
};
