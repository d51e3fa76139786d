/**
 * The checks that need no trust in the service: `checkpoint` (a trusted checkpoint kept on disk
 * and moved only along verified consistency proofs, and each service URL pinned to the ledger
 * first found there), `verify-bundle` (a bank's offline check of a
 * §9 proof bundle, trusting only the ledger id) and `audit` (the whole log against the signed
 * checkpoint). Signatures are checked with node:crypto (`verifyNode`).
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';

import {
  audit as auditLedger,
  CheckpointTracker,
  compareWithCurrent,
  LedgerClient,
  LedgerPins,
  pinKeyOf,
  TrustError,
  verifyBundle as verifyBundleReport,
  type BundleAsOf,
  type BundleReport,
  type BundleVerdict,
  type Freshness,
  type LedgerPin,
  type ProofBundle,
  type VoucherChange,
  type WireVoucher,
} from '../../client/index.js';
import { verifyNode } from '../../ledger/node/ed25519-node.js';
import { VerifyPool } from '../../ledger/node/verify-pool.js';
import type { Context } from '../context.js';
import { describeError, EXIT, refusedError, usageError } from '../errors.js';
import { readJson, replaceFile } from '../files.js';
import { clean, count, duration, keyValues, plural, shortTime } from '../format.js';
import { formatAmount } from '../../domain/money.js';
import { progress } from '../progress.js';

// ---- checkpoint ----

/** Where the trusted checkpoint of a ledger is kept by default. */
export const trustFileOf = (ledgerId: string): string => path.join(homedir(), '.rvl', `trust-${ledgerId}.json`);

/** Where the URL → ledger id pins are kept (`LedgerPins`). */
export const pinsFileOf = (): string => path.join(homedir(), '.rvl', 'ledgers.json');

const readPins = async (file: string): Promise<LedgerPins> => {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new LedgerPins();
    throw usageError(`cannot read the pins file ${file}`);
  }
  try {
    return LedgerPins.fromJSON(text);
  } catch (err) {
    if (!(err instanceof TrustError)) throw err;
    throw refusedError(
      `the pins file ${file} is damaged (${err.detail}); nothing was trusted. Repair it, or remove it to pin every URL again on first use`,
      err.code,
    );
  }
};

const writePins = (file: string, pins: LedgerPins): Promise<void> => replaceFile(file, `${JSON.stringify(pins.toJSON(), null, 2)}\n`, 0o600);

export interface CheckpointOptions {
  readonly trust?: string;
  readonly ledger?: string;
  /** Re-pin this URL to the ledger it serves now, replacing the ledger it was pinned to. */
  readonly trustNewLedger?: boolean;
  /** Remove the pin of this URL and do nothing else. */
  readonly forget?: string;
}

/** `rvl checkpoint --forget URL`: removes the URL's pin; the next `rvl checkpoint` there pins it anew. */
const forgetPin = async (ctx: Context, url: string): Promise<void> => {
  let key: string;
  try {
    key = pinKeyOf(url);
  } catch {
    throw usageError(`--forget needs the service URL whose pin to remove (e.g. ${ctx.url}), not "${url}"`);
  }
  const file = pinsFileOf();
  const pins = await readPins(file);
  const before = pins.forget(key);
  if (before !== undefined) await writePins(file, pins);
  if (ctx.json) {
    ctx.emit({ url: key, forgotten: before ?? null, pinsFile: file });
    return;
  }
  ctx.out(
    before === undefined
      ? `${key} was not pinned to any ledger; nothing changed.`
      : `Forgot the pin of ${key} (ledger ${before.ledgerId}, trusted since ${shortTime(before.since)}). The next rvl checkpoint there trusts the ledger it then serves, on first use.`,
  );
};

export const checkpoint = async (ctx: Context, o: CheckpointOptions): Promise<void> => {
  if (o.forget !== undefined) return forgetPin(ctx, o.forget);
  const info = await ctx.ledgerTrusted(o.ledger);
  const client = await ctx.client(false);
  // The URL must still serve the ledger it was pinned to: a new ledger behind a known address
  // is refused, not trusted as a first use.
  const pinsFile = pinsFileOf();
  const pins = await readPins(pinsFile);
  const now = new Date().toISOString();
  let replaced: LedgerPin | undefined;
  let pin: { readonly firstUse: boolean; readonly pin: LedgerPin };
  try {
    pin = pins.check(ctx.url, info.ledgerId, now);
  } catch (err) {
    if (!(err instanceof TrustError) || err.code !== 'LEDGER_CHANGED') throw err;
    const was = pins.pinned(ctx.url)!;
    if (o.trustNewLedger !== true) {
      throw refusedError(
        `LEDGER_CHANGED: ${pinKeyOf(ctx.url)} served ledger ${was.ledgerId} (trusted since ${shortTime(was.since)}), but now serves ledger ${info.ledgerId}; ` +
          "nothing was trusted or changed. Check the id with the ledger's operator: if a new ledger really replaced the old one at this address, re-pin it deliberately with " +
          `rvl checkpoint --trust-new-ledger (or rvl checkpoint --forget ${pinKeyOf(ctx.url)}, then rvl checkpoint); otherwise check --url`,
        'LEDGER_CHANGED',
      );
    }
    replaced = pins.repin(ctx.url, info.ledgerId, now);
    pin = { firstUse: true, pin: pins.pinned(ctx.url)! };
  }
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
  if (o.ledger !== undefined && tracker.ledgerId !== o.ledger) {
    throw refusedError(`the trust file ${file} is for ledger ${tracker.ledgerId}, not the ledger ${o.ledger} you trust (--ledger)`, 'WRONG_LEDGER');
  }
  const before = tracker.trusted;
  const result = await tracker.update(client);
  await replaceFile(file, `${JSON.stringify(tracker.toJSON(), null, 2)}\n`, 0o600);
  if (pin.firstUse) await writePins(pinsFile, pins);
  const cp = result.checkpoint;
  const url = pinKeyOf(ctx.url);

  if (ctx.json) {
    ctx.emit({
      ledgerId: tracker.ledgerId,
      size: cp.size,
      root: cp.root,
      note: cp.note,
      trustedBefore: before === undefined ? null : { size: before.size, root: before.root },
      firstUse: before === undefined,
      trustFile: file,
      pin: { url, ledgerId: pin.pin.ledgerId, since: pin.pin.since, firstUse: pin.firstUse, replaced: replaced ?? null },
      pinsFile,
    });
    return;
  }
  const pinned =
    replaced !== undefined
      ? `RE-PINNED (--trust-new-ledger): ${url} served ledger ${replaced.ledgerId} (since ${shortTime(replaced.since)}); it is now pinned to this ledger`
      : pin.firstUse
        ? `first use of ${url}: pinned to this ledger; if it ever serves another ledger, rvl checkpoint refuses`
        : `${url} serves the ledger it was pinned to on ${shortTime(pin.pin.since)} ${ctx.marks.ok}`;
  const trust =
    before === undefined
      ? o.ledger === undefined
        ? 'first use: nothing was trusted for this ledger yet, so this checkpoint is trusted as it is (the ledger id and node key are as this service reports them: check the id with the one the operator published, or pass it with --ledger)'
        : 'first use: nothing was trusted for this ledger yet; the service serves the ledger id you trust (--ledger), and its node key and this checkpoint are trusted as they are'
      : before.size === cp.size
        ? `the same as the checkpoint you trusted at size ${count(before.size)}`
        : `consistent with the checkpoint you trusted at size ${count(before.size)} (verified proof); now trusting size ${count(cp.size)}`;
  ctx.out(
    keyValues([
      ['ledger', `${tracker.ledgerId} ("${clean(info.name)}")`],
      ['size', plural(cp.size, 'entry', 'entries')],
      ['root', cp.root],
      ['signed by', `the node key ${tracker.nodeKey} ${ctx.marks.ok}`],
      ['trust', trust],
      ['address', pinned],
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
    ['amount', formatAmount(v.amount, v.currency)],
    ['due date', clean(v.dueDate)],
    ['status', clean(v.status)],
    ['pledge', v.pledge ? `pledged to ${clean(v.pledge.bank)}, loan ${clean(v.pledge.loanRef)}, since ${shortTime(v.pledge.since)}` : 'none'],
  ];
  if (v.settlement)
    lines.push(['settlement', `paid to ${clean(v.settlement.payee)}, payment ${clean(v.settlement.paymentRef)}, at ${shortTime(v.settlement.at)}`]);
  lines.push(
    ['path', v.path.map(clean).join(' → ')],
    ['checkpoint', `size ${count(v.checkpointSize)}, root ${v.checkpointRoot} (the entries are included in it)`],
  );
  return lines;
};

/**
 * What a valid bundle proves, and what it does not: inclusion, not completeness. A bundle with
 * its newest entries (a pledge) dropped and `state` rolled back still verifies under the same
 * checkpoint, so the verdict never says the state is current or complete.
 */
export const BUNDLE_PROVES = (a: BundleAsOf): string =>
  `the state these entries give, as of entry #${a.seq}, ${shortTime(a.time)}. These entries are in the log (under the checkpoint of size ${count(a.treeSize)} the node signed), signed by their parties, and replay to this state`;
export const BUNDLE_DOES_NOT_PROVE =
  'Not proof that nothing changed since: a bundle cannot show an entry left out of it (a later pledge, a settlement), even under a newer checkpoint. ' +
  "Only the ledger can say: see the comparison below, and for a pledge rely on the ledger's refusal when it is submitted (VOUCHER_PLEDGED).";

/** How long the best-effort comparison with the ledger waits for each answer. */
const COMPARE_TIMEOUT_MS = 5_000;

/**
 * What `verify-bundle` learned from the ledger about the voucher since the bundle's state:
 * `compared: false` with why not (offline, no key, not reachable, not visible), or the freshness
 * of the bundle's state against a fresh bundle from the ledger that verified against the same id.
 */
export type Comparison =
  | { readonly compared: false; readonly offline: boolean; readonly why: string }
  | { readonly compared: true; readonly url: string; readonly checkedAsOf: BundleAsOf; readonly freshness: Freshness; readonly changedAt?: string };

/** One change in plain words. */
const changeText = (c: VoucherChange): string => {
  switch (c.kind) {
    case 'status':
      return `status ${c.from} → ${c.to}`;
    case 'holder':
      return `now held by ${clean(c.to)} (was ${clean(c.from)})`;
    case 'offer':
      return c.to === null ? `the offer to ${clean(c.from ?? '')} is closed` : `offered to ${clean(c.to)}`;
    case 'pledgeGained':
      return `pledged to ${clean(c.pledge.bank)}, loan ${clean(c.pledge.loanRef)}`;
    case 'pledgeLost':
      return `no longer pledged to ${clean(c.pledge.bank)} (loan ${clean(c.pledge.loanRef)})`;
    case 'settled':
      return `paid to ${clean(c.settlement.payee)}, payment ${clean(c.settlement.paymentRef)}`;
    case 'split':
      return 'split into parts (see rvl tree)';
    case 'other':
      return `changed: ${c.fields.map(clean).join(', ')}`;
  }
};

/**
 * Best effort: reads a fresh bundle of the voucher from the ledger (with the key, at `ctx.url`),
 * checks it against the same trusted ledger id, and compares its state with the bundle's.
 * Never throws for the ledger being out of reach; a fresh bundle that does not verify is a
 * failed check.
 */
const compareWithLedger = async (ctx: Context, ledgerId: string, proven: WireVoucher, offline: boolean): Promise<Comparison> => {
  if (offline) return { compared: false, offline: true, why: '--offline was given' };
  if (!ctx.hasKey) return { compared: false, offline: true, why: 'no key to read the ledger with (give --key or RVL_KEY, and --url)' };
  if (!/^https?:\/\/[^\s/]+/.test(ctx.url)) return { compared: false, offline: true, why: '--url is not an http(s) URL' };
  let key;
  try {
    key = await ctx.key('comparing with the ledger');
  } catch (err) {
    return { compared: false, offline: true, why: `the key cannot be used: ${err instanceof Error ? clean(err.message) : 'unreadable'}` };
  }
  const client = new LedgerClient({
    baseUrl: ctx.url,
    key,
    ledgerId,
    readRetries: 0,
    fetch: (input, init) => globalThis.fetch(input, { ...init, signal: AbortSignal.timeout(COMPARE_TIMEOUT_MS) }),
  });
  let fresh: ProofBundle;
  try {
    await client.ledger(); // refuses a service of another ledger (WRONG_LEDGER)
    fresh = await client.proof(proven.id);
  } catch (err) {
    const d = await describeError(err, ctx.url, key.party);
    return { compared: false, offline: d.exit === EXIT.unavailable, why: d.line };
  }
  const report = verifyBundleReport(fresh, ledgerId, { verify: verifyNode, voucherId: proven.id });
  if (!report.ok || !report.asOf) {
    const f = report.firstFailure;
    throw refusedError(
      `the ledger at ${ctx.url} answered with a bundle of ${proven.id} that does not verify: ${f ? `${f.code}: ${clean(f.detail)}` : 'no verdict'}`,
      f?.code,
    );
  }
  const freshness = compareWithCurrent(proven, fresh.state);
  const changedSeq = freshness.kind === 'changed' ? freshness.atSeq : undefined;
  const changedAt = changedSeq === undefined ? undefined : fresh.entries.find((e) => e.entry.seq === changedSeq)?.entry.time;
  return { compared: true, url: ctx.url, checkedAsOf: report.asOf, freshness, ...(changedAt === undefined ? {} : { changedAt }) };
};

/** The lines that say how the bundle's state stands against the ledger now. */
const comparisonText = (ctx: Context, c: Comparison): string => {
  const { ok, bad } = ctx.marks;
  if (!c.compared)
    return `Not compared with the ledger${c.offline ? ' (offline)' : ''}: ${c.why}. The voucher may have changed since, and this check cannot tell.\n`;
  const now = `checked with the ledger at ${c.url}: a fresh proof under its checkpoint of size ${count(c.checkedAsOf.treeSize)} verifies`;
  const f = c.freshness;
  switch (f.kind) {
    case 'unchanged':
      return `${ok} UNCHANGED since: ${now}.\n`;
    case 'changed': {
      const when = `at entry #${f.atSeq}${c.changedAt ? `, ${shortTime(c.changedAt)}` : ''}`;
      const how =
        f.changes.length === 0 ? 'touched, but back to the state shown here (e.g. an offer made and withdrawn)' : f.changes.map(changeText).join('; ');
      return `${bad} CHANGED since, ${when}: ${how}.\n  (${now})\n  The state above is not the voucher's state now: rely on the current one, e.g. rvl proof ${clean(f.current.id)} --out FILE\n`;
    }
    case 'inconsistent':
      return `${bad} the ledger's current state of this voucher cannot follow the bundle's (${f.why === 'OLDER' ? 'it is older' : 'another state under the same entry'}); do not rely on ${c.url}.\n`;
  }
};

export const verifyBundle = async (
  ctx: Context,
  file: string,
  o: { readonly ledger: string; readonly voucher?: string; readonly offline?: boolean },
): Promise<void> => {
  const bundle = await readJson(file, 'proof bundle');
  const report: BundleReport = verifyBundleReport(bundle, o.ledger, { verify: verifyNode, ...(o.voucher ? { voucherId: o.voucher } : {}) });
  const f = report.firstFailure;
  const failure = f
    ? `${f.code} (${f.check}${f.seq === undefined ? '' : `, entry ${f.seq}`}${f.signer === undefined ? '' : `, signer ${clean(f.signer)}`}): ${clean(f.detail)}`
    : '';
  // A valid bundle's state is the one its entries replay to.
  const comparison = report.ok ? await compareWithLedger(ctx, o.ledger, (bundle as { state: WireVoucher }).state, o.offline === true) : undefined;
  if (ctx.json) {
    ctx.emit({ file, ledgerId: o.ledger, ...report, ...(comparison ? { comparison } : {}) });
  } else {
    const { ok, bad } = ctx.marks;
    const width = Math.max(...report.checks.map((c) => c.name.length));
    const checks = report.checks.map((c) => `  ${c.ok ? ok : bad} ${c.name.padEnd(width)}  ${c.ok ? '' : `${c.code}: `}${clean(c.detail)}`).join('\n');
    const verdict =
      report.ok && report.verdict && report.asOf
        ? `\n${ok} VALID — ${BUNDLE_PROVES(report.asOf)}:\n\n` +
          keyValues(verdictLines(report.verdict), '  ') +
          `\n  ${BUNDLE_DOES_NOT_PROVE}\n\n` +
          comparisonText(ctx, comparison!)
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
  const failure = f
    ? `${f.code}${f.seq === undefined ? '' : ` at entry ${f.seq}`}${f.signer === undefined ? '' : ` (signer ${clean(f.signer)})`}: ${clean(f.detail)}`
    : '';
  if (ctx.json) {
    ctx.emit(report);
  } else if (report.ok) {
    const replayed = o.replay === false ? '' : ', every op replayed under the rules';
    ctx.out(
      `${ctx.marks.ok} audited ${plural(report.entriesChecked, 'entry', 'entries')} (${plural(report.signaturesChecked, 'signature')} verified${replayed}): ` +
        `every hash and link holds and the root matches the checkpoint\n\n` +
        keyValues(
          [
            ['ledger', report.ledgerId],
            ['checkpoint', `size ${count(report.checkpointSize)}, root ${report.checkpointRoot}`],
            ['speed', `${count(report.entriesPerSecond)} entries/s (${duration(report.seconds)})`],
          ],
          '  ',
        ),
    );
  } else {
    ctx.out(
      `${ctx.marks.bad} the audit found a discrepancy after ${plural(report.entriesChecked, 'good entry', 'good entries')}: ${failure}\n\n` +
        keyValues(
          [
            ['ledger', report.ledgerId],
            ['checkpoint', `size ${count(report.checkpointSize)}${report.checkpointRoot ? `, root ${report.checkpointRoot}` : ''}`],
            ['speed', `${count(report.entriesPerSecond)} entries/s (${duration(report.seconds)})`],
          ],
          '  ',
        ),
    );
  }
  if (!report.ok) throw refusedError(`the audit found a discrepancy: ${failure}`, f?.code);
};
