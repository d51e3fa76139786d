/**
 * Co-signed pledges across two machines, and `submit` for any signed envelope.
 *
 * `pledge prepare` (the holder): checks the voucher and the bank, builds and signs the pledge, and
 * writes a pledge request file: the half-signed envelope, a human summary, and the voucher's §9
 * proof bundle — the bank cannot read a voucher before it is pledged to it, so the request
 * carries the proof.
 *
 * `pledge cosign` (the bank): trusts nothing in the file but what it can check. It derives what it
 * shows from the signed payload and from the proof bundle verified offline against the ledger id
 * (holder, amount, due date, status), checks the holder's signature under the holder's key from
 * the proof, and refuses a request that names another bank or another ledger, is expired, or is
 * for a voucher that is not active. It shows what it signs and asks on a terminal (unless
 * `--yes`), then adds its signature in place. The summary in the file is for people only.
 * The proof shows the state its entries give, as of its newest entry; it cannot show a pledge
 * made since or left out of it, so cosign tells the bank to rely on the ledger's refusal at
 * submission and to lend only once the pledge entry is accepted (`PLEDGE_DECIDED_BY_LEDGER`).
 *
 * `submit`: either party posts the envelope (a pledge request or a bare envelope). The ledger
 * decides: a voucher already pledged is refused there, whatever any file says.
 */
import { createInterface } from 'node:readline/promises';

import {
  addSignature,
  checkedPledgeEnvelope,
  hasValidSignature,
  keyInProof,
  movedVoucherIdOf,
  opIdOf,
  PLEDGE_REQUEST_FORMAT,
  PledgeRequestError,
  signEnvelope,
  verifyBundle,
  voucherPledge,
  type BundleVerdict,
  type PledgePayload,
  type PledgeRequestFile,
  type ProofBundle,
  type SignedEnvelope,
  type WireVoucher,
} from '../../client/index.js';
import { verifyNode } from '../../ledger/node/ed25519-node.js';
import type { Context } from '../context.js';
import { refusedError, usageError } from '../errors.js';
import { readJson, replaceFile, writeNew } from '../files.js';
import { clean, count, keyValues, shortTime } from '../format.js';
import { formatAmount } from '../../domain/money.js';
import { receiptText } from '../views.js';
import { ledgerAmount } from '../args.js';

// The file format (`rvl/pledge-request/v1`) and its strict envelope check live in the SDK
// (src/client/pledge-request.ts), shared with the web console.
export { PLEDGE_REQUEST_FORMAT, type PledgeRequestFile };
/** A pledge request expires after a day unless `--expires-in` says otherwise. */
const PLEDGE_EXPIRES_IN_MS_DEFAULT = 24 * 3_600_000;

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * The pledge payload of an envelope, rebuilt with the SDK's strict builder: the same op id proves
 * the payload is exactly a valid `voucher.pledge` (no unknown field, no bad value).
 */
const checkedPledge = (envelope: unknown, file: string): SignedEnvelope<PledgePayload> => {
  try {
    return checkedPledgeEnvelope(envelope);
  } catch (err) {
    if (err instanceof PledgeRequestError) throw usageError(`${file} does not hold a valid pledge: ${clean(err.detail)}`);
    throw err;
  }
};

const readRequest = async (file: string): Promise<PledgeRequestFile> => {
  const value = await readJson(file, 'pledge request');
  if (!isRecord(value) || value.format !== PLEDGE_REQUEST_FORMAT) {
    throw usageError(`${file} is not a pledge request (made by rvl pledge prepare)`);
  }
  const envelope = checkedPledge(value.envelope, file);
  return {
    format: PLEDGE_REQUEST_FORMAT,
    summary: Array.isArray(value.summary) ? (value.summary as string[]) : [],
    envelope,
    proof: value.proof as ProofBundle,
  };
};

const fileText = (request: PledgeRequestFile): string => `${JSON.stringify(request, null, 2)}\n`;

/**
 * What the bank must know before it co-signs: the proof is not proof that the voucher is unpledged
 * now, and a co-signature is not a loan decision until the ledger accepts the pledge entry.
 */
export const PLEDGE_DECIDED_BY_LEDGER =
  'The proof shows the state its entries give; it cannot show that the voucher is not pledged now (a pledge made since, or left out of the proof, would not show). ' +
  'The ledger decides when the pledge is submitted: it refuses a pledge of a voucher already pledged (VOUCHER_PLEDGED). ' +
  'Your signature alone is not a loan decision: lend only once the ledger has accepted the pledge entry — check the receipt of rvl submit (pledged to you), or rvl show ID after it.';

/** The facts a pledge is about, for people: the same labels in `prepare`, `cosign` and the file. */
const facts = (
  p: PledgePayload,
  v: { readonly amount: string; readonly currency: string; readonly dueDate: string; readonly issuer: string; readonly holder: string },
  pledgedId: string,
): [string, string][] => {
  const amount = p.amount ?? v.amount;
  const part = p.amount === undefined ? 'the whole voucher' : `part of ${formatAmount(v.amount, v.currency)}; the pledged part will be ${clean(pledgedId)}`;
  return [
    ['voucher', clean(p.voucherId)],
    ['issuer', clean(v.issuer)],
    ['holder', clean(v.holder)],
    ['amount', `${formatAmount(amount, v.currency)} (${part})`],
    ['due date', clean(v.dueDate)],
    ['bank', clean(p.bank)],
    ['loan ref', clean(p.loanRef)],
    ['ledger', clean(p.ledger)],
    ['expires', p.expiresAt === undefined ? 'never' : `${shortTime(p.expiresAt)}`],
  ];
};

export interface PrepareOptions {
  readonly bank: string;
  readonly loanRef: string;
  /** As typed; read in the ledger's currency (`ledgerAmount`). */
  readonly amount?: string;
  readonly out: string;
}

export const prepare = async (ctx: Context, voucherId: string, o: PrepareOptions): Promise<void> => {
  const key = await ctx.key('pledge prepare');
  const client = await ctx.client(true);
  const { ledgerId, currency } = await ctx.ledger();
  const amount = o.amount === undefined ? undefined : ledgerAmount('--amount <yuan>', o.amount, currency);
  const voucher = await client.voucher(voucherId);
  if (voucher.holder !== key.party) {
    throw refusedError(`you (${key.party}) do not hold ${voucherId}; its holder is ${clean(voucher.holder)}, who must prepare the pledge`, 'NOT_HOLDER');
  }
  if (voucher.status === 'pledged') {
    throw refusedError(
      `VOUCHER_PLEDGED: ${voucherId} is already pledged to ${clean(voucher.pledge?.bank ?? '?')} — the bank must release it first`,
      'VOUCHER_PLEDGED',
    );
  }
  if (voucher.status !== 'active') {
    throw refusedError(`VOUCHER_STATE_CONFLICT: ${voucherId} is ${voucher.status}; only an active voucher can be pledged`, 'VOUCHER_STATE_CONFLICT');
  }
  if (amount !== undefined && amount >= BigInt(voucher.amount)) {
    throw usageError(
      `--amount ${formatAmount(amount, voucher.currency)} must be below the voucher's ${formatAmount(voucher.amount, voucher.currency)}; leave it out to pledge the whole voucher`,
    );
  }
  const bank = await client.party(o.bank);
  if (bank.role !== 'bank') throw refusedError(`ROLE_NOT_ALLOWED: ${o.bank} is a ${bank.role}, not a bank`, 'ROLE_NOT_ALLOWED');
  if (bank.status !== 'active') throw refusedError(`PARTY_SUSPENDED: the bank ${o.bank} is suspended`, 'PARTY_SUSPENDED');

  const expiresAt = ctx.expiresAt(PLEDGE_EXPIRES_IN_MS_DEFAULT);
  const payload = voucherPledge({
    ledger: ledgerId,
    ...(expiresAt ? { expiresAt } : {}),
    voucherId,
    bank: o.bank,
    loanRef: o.loanRef,
    ...(amount === undefined ? {} : { amount }),
  });
  const envelope = signEnvelope(payload, [key]);
  const pledgedId = movedVoucherIdOf(payload, voucher) ?? voucherId;
  const proof = await client.proof(voucherId);
  const lines = facts(payload, voucher, pledgedId);
  const summary = [
    `Pledge request: ${key.party} asks ${o.bank} to take ${formatAmount(payload.amount ?? voucher.amount, voucher.currency)} of voucher ${voucherId} in pledge.`,
    ...lines.map(([k, v]) => `${k}: ${v}`),
    `Signed by the holder ${key.party}. Next: ${o.bank} runs \`rvl pledge cosign <this file>\`, then either party runs \`rvl submit <this file>\`.`,
  ];
  const request: PledgeRequestFile = { format: PLEDGE_REQUEST_FORMAT, summary, envelope, proof };
  await writeNew(o.out, fileText(request));
  if (ctx.json) {
    ctx.emit({ file: o.out, opId: opIdOf(payload), pledgedVoucherId: pledgedId, payload, signedBy: [key.party] });
    return;
  }
  ctx.out(
    `Wrote the pledge request ${o.out}, signed by you (${key.party}):\n\n${keyValues(lines, '  ')}\n` +
      `Send it to ${o.bank}. The bank checks and co-signs it with:\n  rvl pledge cosign ${o.out}\n` +
      `then either of you submits it with:\n  rvl submit ${o.out}\n`,
  );
};

const todayUtc = (): string => new Date().toISOString().slice(0, 10);

/** Asks a yes/no question on the terminal; Ctrl-C or end of input is a no. */
const confirm = (ctx: Context, question: string): Promise<boolean> =>
  new Promise((resolve) => {
    const rl = createInterface({ input: ctx.io.stdin, output: ctx.io.stderr });
    let answered = false;
    const finish = (yes: boolean): void => {
      if (answered) return;
      answered = true;
      rl.close();
      resolve(yes);
    };
    const interrupted = (): void => {
      if (answered) return;
      ctx.io.stderr.write('\n');
      finish(false);
    };
    rl.on('SIGINT', interrupted);
    rl.on('close', interrupted);
    rl.question(question).then(
      (answer) => finish(/^\s*y(es)?\s*$/i.test(answer)),
      () => finish(false),
    );
  });

export interface CosignOptions {
  readonly yes?: boolean;
  /** The ledger id, to co-sign without asking the service. */
  readonly ledger?: string;
}

export const cosign = async (ctx: Context, file: string, o: CosignOptions): Promise<void> => {
  const request = await readRequest(file);
  const key = await ctx.key('pledge cosign');
  const { envelope } = request;
  const p = envelope.payload;

  // Whose and which ledger's request is this?
  if (p.bank !== key.party) {
    throw refusedError(
      `this pledge request names the bank ${clean(p.bank)}, but your key is ${key.party}'s; only ${clean(p.bank)} can co-sign it`,
      'WRONG_BANK',
    );
  }
  const ledgerId = o.ledger ?? (await ctx.ledger()).ledgerId;
  if (p.ledger !== ledgerId) {
    throw refusedError(`this pledge request is for ledger ${clean(p.ledger)}, not ${ledgerId}${o.ledger ? '' : ` (the ledger at ${ctx.url})`}`, 'WRONG_LEDGER');
  }
  const holders = envelope.signatures.filter((s) => s.signer !== key.party);
  if (holders.length !== 1) throw refusedError(`${file} is not signed by the voucher's holder`, 'SIGNERS_MISMATCH');
  const holder = holders[0]!.signer;

  // What is it about? Only what the proof proves, checked offline against the ledger id.
  const checked = verifyBundle(request.proof, ledgerId, { voucherId: p.voucherId, verify: verifyNode });
  if (!checked.ok || checked.verdict === undefined) {
    const f = checked.firstFailure;
    throw refusedError(
      `the proof in ${file} does not verify: ${f?.code ?? 'FAILED'}${f?.seq === undefined ? '' : ` at entry ${f.seq}`}: ${clean(f?.detail ?? '')}`,
      f?.code,
    );
  }
  const v: BundleVerdict = checked.verdict;
  const asOf = checked.asOf!;
  if (v.holder !== holder) {
    throw refusedError(
      `the request is signed by ${clean(holder)}, but the proof shows ${clean(p.voucherId)} is held by ${clean(v.holder)}`,
      'SIGNERS_MISMATCH',
    );
  }
  if (v.status === 'pledged') {
    throw refusedError(`VOUCHER_PLEDGED: the proof shows ${clean(p.voucherId)} is pledged to ${clean(v.pledge?.bank ?? '?')}`, 'VOUCHER_PLEDGED');
  }
  if (v.status !== 'active')
    throw refusedError(
      `VOUCHER_STATE_CONFLICT: the proof shows ${clean(p.voucherId)} is ${v.status}; only an active voucher can be pledged`,
      'VOUCHER_STATE_CONFLICT',
    );
  const holderKey = keyInProof(request.proof, holder);
  if (holderKey === undefined || !hasValidSignature(envelope, holder, holderKey)) {
    throw refusedError(`the holder's signature (${clean(holder)}) does not verify under its key in the proof`, 'BAD_SIGNATURE');
  }
  if (p.amount !== undefined && BigInt(p.amount) >= BigInt(v.amount)) {
    throw refusedError(
      `AMOUNT_INVALID: the pledge is for ${formatAmount(p.amount, v.currency)}, not below the voucher's ${formatAmount(v.amount, v.currency)}`,
      'AMOUNT_INVALID',
    );
  }
  if (p.expiresAt !== undefined && Date.parse(p.expiresAt) <= Date.now()) {
    throw refusedError(`OP_EXPIRED: this pledge request expired at ${shortTime(p.expiresAt)}; ask the holder to prepare a new one`, 'OP_EXPIRED');
  }
  if (todayUtc() > v.dueDate) throw refusedError(`VOUCHER_OVERDUE: ${clean(p.voucherId)} was due on ${v.dueDate}`, 'VOUCHER_OVERDUE');

  const current: Pick<WireVoucher, 'id' | 'range'> = { id: p.voucherId, range: rangeOf(request.proof) };
  const pledgedId = movedVoucherIdOf(p, current) ?? p.voucherId;
  const lines = facts(p, v, pledgedId);
  lines.splice(3, 0, ['status', `${v.status} in the proof, as of entry #${asOf.seq}, ${shortTime(asOf.time)} (the state its entries give)`]);
  lines[2] = ['holder', `${clean(v.holder)} (signature ✓)`];
  lines.push([
    'proof',
    `verified offline, all ${checked.checks.length} checks pass: its entries are in the log, under the checkpoint of size ${count(v.checkpointSize)} the node signed`,
  ]);
  const shown = `You (${key.party}) are about to co-sign this pledge:\n\n${keyValues(lines, '  ')}\n  ${PLEDGE_DECIDED_BY_LEDGER}\n`;
  if (ctx.json) ctx.note(shown);
  else ctx.out(shown);

  const already = envelope.signatures.some((s) => s.signer === key.party);
  if (!o.yes && !already) {
    if (ctx.io.stdin.isTTY !== true || ctx.io.stderr.isTTY !== true) {
      throw usageError('not signed: rvl asks before it signs; on no terminal, pass --yes to sign what is shown above');
    }
    if (!(await confirm(ctx, `Co-sign this pledge as ${key.party}? [y/N] `))) throw refusedError('not signed: you declined', 'DECLINED');
  }
  const signed = addSignature(envelope, key);
  if (!already) {
    const summary = [...request.summary.filter((l) => typeof l === 'string'), `Co-signed by the bank ${key.party} at ${new Date().toISOString()}.`];
    await replaceFile(file, fileText({ ...request, summary, envelope: signed }));
  }
  if (ctx.json) {
    ctx.emit({
      file,
      opId: opIdOf(p),
      voucherId: p.voucherId,
      pledgedVoucherId: pledgedId,
      holder: v.holder,
      bank: p.bank,
      amount: p.amount ?? v.amount,
      dueDate: v.dueDate,
      loanRef: p.loanRef,
      ledger: p.ledger,
      expiresAt: p.expiresAt ?? null,
      signedBy: signed.signatures.map((s) => s.signer),
      proofAsOf: asOf,
      decidedBy: PLEDGE_DECIDED_BY_LEDGER,
    });
    return;
  }
  ctx.out(
    `\n${already ? 'Already co-signed by you; nothing changed.' : `Co-signed: ${file} now carries both signatures.`} Either party submits it with:\n  rvl submit ${file}\n` +
      `Lend only once the ledger accepts it: the receipt of rvl submit shows ${clean(pledgedId)} pledged to ${key.party}; a refusal (VOUCHER_PLEDGED) means no loan.\n`,
  );
};

/** The voucher's range as the proof's (verified) state says it. */
const rangeOf = (proof: ProofBundle): { start: string; end: string } => proof.state.range;

export const submit = async (ctx: Context, file: string): Promise<void> => {
  const value = await readJson(file, 'signed envelope');
  let envelope: SignedEnvelope;
  if (isRecord(value) && value.format === PLEDGE_REQUEST_FORMAT) {
    const pledge = checkedPledge(value.envelope, file);
    if (!pledge.signatures.some((s) => s.signer === pledge.payload.bank)) {
      throw usageError(`the bank ${clean(pledge.payload.bank)} has not co-signed ${file} yet: it runs rvl pledge cosign ${file} first`);
    }
    envelope = pledge;
  } else if (isRecord(value) && isRecord(value.payload) && Array.isArray(value.signatures)) {
    envelope = value as unknown as SignedEnvelope;
  } else {
    throw usageError(`${file} is neither a pledge request nor a signed envelope {"payload", "signatures"}`);
  }
  const client = await ctx.client(false);
  const receipt = await client.submit(envelope);
  if (ctx.json) {
    ctx.emit(receipt);
    return;
  }
  const type = typeof envelope.payload.type === 'string' ? clean(envelope.payload.type) : 'op';
  let text = receiptText(receipt, type);
  const pledged = receipt.effects.vouchers.find((v) => v.status === 'pledged');
  if (pledged?.pledge && !receipt.duplicate) {
    text += `\nPledged ${formatAmount(pledged.amount, pledged.currency)} of ${clean(pledged.id)} to ${clean(pledged.pledge.bank)} (loan ${clean(pledged.pledge.loanRef)}).\n`;
  }
  ctx.out(text);
};
