/**
 * The checks that need no trust in the service: `checkpoint` (a trusted checkpoint kept on disk
 * and moved only along verified consistency proofs), `verify-bundle` (a bank's offline check of a
 * §9 proof bundle, trusting only the ledger id) and `audit` (the whole log against the signed
 * checkpoint). Signatures are checked with node:crypto (`verifyNode`).
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';

import { audit as auditLedger, CheckpointTracker, verifyBundle as verifyBundleReport, type BundleVerdict } from '../../client/index.js';
import { verifyNode } from '../../ledger/ed25519-node.js';
import { VerifyPool } from '../../ledger/verify-pool.js';
import type { Context } from '../context.js';
import { refusedError, usageError } from '../errors.js';
import { readJson, replaceFile } from '../files.js';
import { clean, count, duration, keyValues, plural, shortTime } from '../format.js';
import { formatAmount } from '../money.js';
import { progress } from '../progress.js';

// ---- checkpoint ----

/** Where the trusted checkpoint of a ledger is kept by default. */
export const trustFileOf = (ledgerId: string): string => path.join(homedir(), '.rvl', `trust-${ledgerId}.json`);

export const checkpoint = async (ctx: Context, o: { readonly trust?: string }): Promise<void> => {
  const info = await ctx.ledger();
  const client = await ctx.client(false);
  const file = o.trust ?? trustFileOf(info.ledgerId);
  let stored: string | undefined;
  try {
    stored = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw usageError(`cannot read the trust file ${file}`);
  }
  const tracker =
    stored === undefined
      ? new CheckpointTracker({ ledgerId: info.ledgerId, nodeKey: info.nodeKey, verify: verifyNode })
      : CheckpointTracker.fromJSON(stored, { verify: verifyNode });
  const before = tracker.trusted;
  const result = await tracker.update(client);
  await replaceFile(file, `${JSON.stringify(tracker.toJSON(), null, 2)}\n`, 0o600);
  const now = result.checkpoint;

  if (ctx.json) {
    ctx.emit({
      ledgerId: tracker.ledgerId,
      size: now.size,
      root: now.root,
      note: now.note,
      trustedBefore: before === undefined ? null : { size: before.size, root: before.root },
      firstUse: before === undefined,
      trustFile: file,
    });
    return;
  }
  const trust =
    before === undefined
      ? 'first use: nothing was trusted for this ledger yet, so this checkpoint is trusted as it is (check the ledger id and node key with the operator)'
      : before.size === now.size
        ? `the same as the checkpoint you trusted at size ${count(before.size)}`
        : `consistent with the checkpoint you trusted at size ${count(before.size)} (verified proof); now trusting size ${count(now.size)}`;
  ctx.out(
    keyValues([
      ['ledger', `${tracker.ledgerId} ("${clean(info.name)}")`],
      ['size', plural(now.size, 'entry', 'entries')],
      ['root', now.root],
      ['signed by', `the node key ${tracker.nodeKey} ${ctx.marks.ok}`],
      ['trust', trust],
      ['trust file', file],
    ]),
  );
};

// ---- verify-bundle ----

const verdictLines = (v: BundleVerdict): [string, string][] => {
  const lines: [string, string][] = [
    ['voucher', clean(v.voucherId)],
    ['issuer', clean(v.issuer)],
    ['holder', clean(v.holder) + (v.offeredTo ? ` (offered to ${clean(v.offeredTo)})` : '')],
    ['amount', formatAmount(v.amount)],
    ['due date', clean(v.dueDate)],
    ['status', clean(v.status)],
    ['pledge', v.pledge ? `pledged to ${clean(v.pledge.bank)}, loan ${clean(v.pledge.loanRef)}, since ${shortTime(v.pledge.since)}` : 'none'],
  ];
  if (v.settlement) lines.push(['settlement', `paid to ${clean(v.settlement.payee)}, payment ${clean(v.settlement.paymentRef)}, at ${shortTime(v.settlement.at)}`]);
  lines.push(
    ['path', v.path.map(clean).join(' → ')],
    ['checkpoint', `size ${count(v.checkpointSize)}, root ${v.checkpointRoot}`],
  );
  return lines;
};

export const verifyBundle = async (ctx: Context, file: string, o: { readonly ledger: string; readonly voucher?: string }): Promise<void> => {
  const bundle = await readJson(file, 'proof bundle');
  const report = verifyBundleReport(bundle, o.ledger, { verify: verifyNode, ...(o.voucher ? { voucherId: o.voucher } : {}) });
  const f = report.firstFailure;
  const failure = f ? `${f.code} (${f.check}${f.seq === undefined ? '' : `, entry ${f.seq}`}${f.signer === undefined ? '' : `, signer ${clean(f.signer)}`}): ${clean(f.detail)}` : '';
  if (ctx.json) {
    ctx.emit({ file, ledgerId: o.ledger, ...report });
  } else {
    const { ok, bad } = ctx.marks;
    const width = Math.max(...report.checks.map((c) => c.name.length));
    const checks = report.checks.map((c) => `  ${c.ok ? ok : bad} ${c.name.padEnd(width)}  ${c.ok ? '' : `${c.code}: `}${clean(c.detail)}`).join('\n');
    const verdict = report.ok && report.verdict
      ? `\n${ok} VALID: the voucher's history is on the ledger, signed by its parties, and replays to this state:\n\n${keyValues(verdictLines(report.verdict), '  ')}` +
        '  (the bundle proves the state as of that checkpoint; the ledger itself refuses a second pledge)\n'
      : `\n${bad} NOT VALID: ${failure}\n`;
    ctx.out(`Proof bundle ${file}, checked offline against ledger ${o.ledger}:\n\n${checks}\n${verdict}`);
  }
  if (!report.ok) throw refusedError(`the bundle does not verify: ${failure}`, f?.code);
};

// ---- audit ----

/** Pages of at least 100 and at most 1000 entries, about 20 of them, so that progress moves smoothly. */
const auditPageLimit = (size: number): number => Math.min(1000, Math.max(100, Math.ceil(size / 20)));

export const audit = async (ctx: Context, o: { readonly replay?: boolean }): Promise<void> => {
  const client = await ctx.client(true);
  const info = await ctx.ledger();
  const bar = progress(ctx.io.stderr, ctx.interactive ? 'bar' : 'lines', 'audit', 'entries');
  if (!ctx.interactive) ctx.note(`audit: ledger ${info.ledgerId}, about ${count(info.size)} entries`);
  let report;
  // Signatures are verified on worker threads (one per core) while this thread replays.
  const pool = new VerifyPool();
  try {
    report = await auditLedger(client, {
      verify: verifyNode,
      verifyMany: (items) => pool.verifyMany(items),
      pageLimit: auditPageLimit(info.size),
      replay: o.replay !== false,
      onProgress: (p) => bar.update(p.checked, p.total),
    });
  } finally {
    bar.finish();
    await pool.close();
  }
  const f = report.firstFailure;
  const failure = f ? `${f.code}${f.seq === undefined ? '' : ` at entry ${f.seq}`}${f.signer === undefined ? '' : ` (signer ${clean(f.signer)})`}: ${clean(f.detail)}` : '';
  if (ctx.json) {
    ctx.emit(report);
  } else if (report.ok) {
    const replayed = o.replay === false ? '' : ', every op replayed under the rules';
    ctx.out(
      `${ctx.marks.ok} audited ${plural(report.entriesChecked, 'entry', 'entries')} (${plural(report.signaturesChecked, 'signature')} verified${replayed}): ` +
        `every hash and link holds and the root matches the checkpoint\n\n` +
        keyValues([
          ['ledger', report.ledgerId],
          ['checkpoint', `size ${count(report.checkpointSize)}, root ${report.checkpointRoot}`],
          ['speed', `${count(report.entriesPerSecond)} entries/s (${duration(report.seconds)})`],
        ], '  '),
    );
  } else {
    ctx.out(
      `${ctx.marks.bad} the audit found a discrepancy after ${plural(report.entriesChecked, 'good entry', 'good entries')}: ${failure}\n\n` +
        keyValues([
          ['ledger', report.ledgerId],
          ['checkpoint', `size ${count(report.checkpointSize)}${report.checkpointRoot ? `, root ${report.checkpointRoot}` : ''}`],
          ['speed', `${count(report.entriesPerSecond)} entries/s (${duration(report.seconds)})`],
        ], '  '),
    );
  }
  if (!report.ok) throw refusedError(`the audit found a discrepancy: ${failure}`, f?.code);
};
