/**
 * The §8 reads: `ledger`, `show`, `list`, `history`, `tree`, `proof`, `entries`. Authenticated
 * reads sign a short-lived token with the key file; `ledger` is public.
 */
import { parseVoucherId, type VoucherStatus, type WireVoucher } from '../../client/index.js';
import type { Context } from '../context.js';
import { refusedError } from '../errors.js';
import { replaceFile, writeNew } from '../files.js';
import { clean, count, keyValues, plural, short, shortTime, table } from '../format.js';
import { formatAmount } from '../../domain/money.js';
import { progress } from '../progress.js';
import { historyTable, treeText, voucherDetails, voucherTable } from '../views.js';
import { VOUCHER_STATUSES } from '../../domain/types.js';

/** Where a user gets the ledger id to trust, and how to use it; `rvl ledger` and `rvl proof` say it. */
export const TRUST_NOTE =
  "The ledger id to trust comes from the ledger's operator, out of band (published on its\n" +
  'website, printed in your contract), not from the service you are checking: a service can\n' +
  'report any id about itself. Compare the two, then check proofs against the published id:';

export const ledger = async (ctx: Context): Promise<void> => {
  const info = await ctx.ledger();
  if (ctx.json) {
    ctx.emit({ ...info, url: ctx.url });
    return;
  }
  ctx.out(
    keyValues([
      ['ledger', clean(info.name)],
      ['ledger id', `${info.ledgerId}  (as this service reports it)`],
      ['service', ctx.url],
      ['entries', count(info.size)],
      ['currency', clean(info.currency)],
      ['max tenor', `${info.maxTenorDays} days`],
      ['node key', info.nodeKey],
      ['operator key', `${info.operatorKey} (at genesis)`],
    ]) +
      `\n${TRUST_NOTE}\n  rvl verify-bundle FILE --ledger <published id>\n  rvl proof VOUCHER --out FILE --ledger <published id>   (refuses a service of another ledger)\n`,
  );
};

export const show = async (ctx: Context, voucherId: string): Promise<void> => {
  const client = await ctx.client(true);
  const v = await client.voucher(voucherId);
  if (ctx.json) ctx.emit(v);
  else ctx.out(voucherDetails(v));
};

interface Total {
  count: number;
  amount: bigint;
}

export const list = async (ctx: Context, party: string | undefined, o: { readonly status?: VoucherStatus[] }): Promise<void> => {
  const client = await ctx.client(true);
  const who = party ?? client.key!.party;
  const bar = progress(ctx.io.stderr, ctx.interactive ? 'bar' : 'off', `listing the vouchers of ${who}`, 'vouchers');
  const items: WireVoucher[] = [];
  try {
    for await (const v of client.vouchersOf(who, { limit: 1000, ...(o.status ? { status: o.status } : {}) })) {
      items.push(v);
      bar.update(items.length);
    }
  } finally {
    bar.finish();
  }
  const totals = new Map<VoucherStatus, Total>();
  for (const v of items) {
    const t = totals.get(v.status) ?? { count: 0, amount: 0n };
    t.count += 1;
    t.amount += BigInt(v.amount);
    totals.set(v.status, t);
  }
  const ordered = VOUCHER_STATUSES.filter((s) => totals.has(s)).map((s) => [s, totals.get(s)!] as const);
  if (ctx.json) {
    ctx.emit({
      party: who,
      status: o.status ?? null,
      items,
      totals: Object.fromEntries(ordered.map(([s, t]) => [s, { count: t.count, amount: t.amount.toString() }])),
    });
    return;
  }
  const filter = o.status ? ` (${o.status.join(', ')})` : '';
  if (items.length === 0) {
    ctx.out(`no vouchers for ${who}${filter}\n`);
    return;
  }
  ctx.out(
    `${plural(items.length, 'voucher')} of ${who}${filter}\n\n${voucherTable(items)}\n` +
      table(
        [{ header: 'status' }, { header: 'vouchers', align: 'right' }, { header: 'amount', align: 'right' }],
        ordered.map(([s, t]) => [s, count(t.count), formatAmount(t.amount)]),
      ) +
      (totals.has('split') ? "(a split voucher's amount is also counted in its parts)\n" : ''),
  );
};

export const history = async (ctx: Context, voucherId: string): Promise<void> => {
  const client = await ctx.client(true);
  const entries = await client.history(voucherId);
  if (ctx.json) {
    ctx.emit({ voucherId, entries });
    return;
  }
  const rootId = parseVoucherId(voucherId)?.rootId ?? voucherId;
  ctx.out(`History of ${voucherId} (root ${rootId}):\n\n${historyTable(entries, rootId)}`);
};

export const tree = async (ctx: Context, voucherId: string): Promise<void> => {
  const client = await ctx.client(true);
  const root = await client.tree(voucherId);
  if (ctx.json) ctx.emit(root);
  else ctx.out(treeText(root));
};

export const proof = async (
  ctx: Context,
  voucherId: string,
  o: { readonly out: string; readonly force?: boolean; readonly ledger?: string },
): Promise<void> => {
  const info = await ctx.ledgerTrusted(o.ledger);
  const client = await ctx.client(true);
  const bundle = await client.proof(voucherId);
  if (o.ledger !== undefined && bundle.ledger?.ledgerId !== o.ledger) {
    throw refusedError(
      `the bundle from ${ctx.url} names ledger ${String(bundle.ledger?.ledgerId)}, not the ledger ${o.ledger} you trust; nothing saved`,
      'WRONG_LEDGER',
    );
  }
  const text = `${JSON.stringify(bundle, null, 2)}\n`;
  if (o.force) await replaceFile(o.out, text);
  else await writeNew(o.out, text);
  const size = bundle.ledger?.size;
  if (ctx.json) {
    ctx.emit({
      file: o.out,
      voucherId: bundle.voucherId,
      entries: bundle.entries.length,
      checkpointSize: size,
      ledgerId: bundle.ledger?.ledgerId,
      ledgerIdTrusted: o.ledger !== undefined,
    });
    return;
  }
  const saved = `Saved the proof bundle of ${voucherId} to ${o.out}: ${plural(bundle.entries.length, 'entry', 'entries')} under the checkpoint of size ${count(size ?? 0)}.\n`;
  ctx.out(
    o.ledger !== undefined
      ? `${saved}The service serves ledger ${o.ledger}, the id you trust. Anyone can check the bundle offline against it with:\n  rvl verify-bundle ${o.out} --ledger ${o.ledger}\n`
      : `${saved}This service reports ledger id ${info.ledgerId}.\n${TRUST_NOTE}\n  rvl verify-bundle ${o.out} --ledger <published id>\n`,
  );
};

export const entries = async (ctx: Context, o: { readonly from?: number; readonly limit?: number }): Promise<void> => {
  const client = await ctx.client(true);
  const page = await client.entries(o.from ?? 0, o.limit ?? 100);
  if (ctx.json) {
    ctx.emit(page);
    return;
  }
  const rows = page.entries.map(({ entry, hash }) => {
    const p = entry.op.payload as Record<string, unknown>;
    const signers = entry.op.signatures.map((s) => clean(String((s as { signer?: unknown }).signer))).join(' + ');
    const subject = typeof p.voucherId === 'string' ? clean(p.voucherId) : typeof p.partyId === 'string' ? clean(p.partyId) : '';
    return [String(entry.seq), shortTime(entry.time), clean(String(p.type)), subject, signers, short(hash, 16)];
  });
  ctx.out(
    table(
      [
        { header: 'seq', align: 'right' },
        { header: 'time (UTC)' },
        { header: 'op' },
        { header: 'voucher / party' },
        { header: 'signed by' },
        { header: 'hash' },
      ],
      rows,
    ) + (page.next === null ? '' : `more: rvl entries --from ${page.next}\n`),
  );
};
