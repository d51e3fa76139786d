/**
 * `npm run demo`: the story of CONTEXT.md, told step by step against a real ledger service.
 *
 *   npm run demo                                              # a fresh ledger, in-process
 *   npm run demo -- --data-dir /tmp/my-demo                   # …kept in this (new) folder while it runs
 *   npm run demo -- --url http://127.0.0.1:8080 --operator-key ledger-data/operator.key
 *
 * By default it starts the service in this process on a fresh temporary ledger (PORT=0, logs at
 * `warn` on stderr, no rate limit) and acts as the operator with the key the service generated in
 * `<data>/operator.key`. With `--url` it talks to a running service instead, as the operator whose
 * key file `--operator-key` names; party ids and invoice numbers then get a random suffix, so the
 * demo can run any number of times against the same ledger.
 *
 * Every step goes through the typed SDK (src/client) over HTTP: each party signs with its own
 * freshly generated key. Every outcome is checked against what the story says must happen (an
 * accepted op's effects, a refusal's code, the proof bundle's verdict); the first surprise stops
 * the demo with a message on stderr and exit code 1. Nothing is simulated. Whatever happens, the
 * demo stops the service it started and removes the folder it created (also on Ctrl-C).
 *
 * Exit codes: 0 the story went as told; 1 it did not (or the service could not be reached);
 * 2 bad command line; 130/143 interrupted.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';

import {
  addSignature,
  generateKeyFile,
  hasValidSignature,
  KeyFileError,
  LedgerClient,
  LedgerHttpError,
  LedgerNetworkError,
  LedgerRefusal,
  opIdOf,
  parseKeyFile,
  partyRegister,
  signEnvelope,
  verifyBundle,
  voucherAccept,
  voucherIdsOf,
  voucherIssue,
  voucherPledge,
  voucherSettle,
  voucherSplit,
  voucherTransfer,
  type BundleCheckName,
  type KeyFile,
  type ProofBundle,
  type RefusalCode,
  type SignedEnvelope,
  type SubmitResult,
  type WireVoucher,
} from '../src/client/index.js';
import type { RegistrableRole } from '../src/domain/types.js';
import { verifyCheckpoint } from '../src/ledger/checkpoint.js';
import { readConfig } from '../src/service/config.js';
import { startServer, type Running } from '../src/server.js';

// ---- output ----

const colourFor = (stream: NodeJS.WriteStream): boolean => stream.isTTY === true && (process.env.NO_COLOR ?? '') === '';
const OUT_COLOUR = colourFor(process.stdout);
const ERR_COLOUR = colourFor(process.stderr);
const paint =
  (code: string, on = OUT_COLOUR) =>
  (s: string): string =>
    on ? `\x1b[${code}m${s}\x1b[0m` : s;
const bold = paint('1');
const dim = paint('2');
const green = paint('32');
const red = paint('31');
const cyan = paint('36');
const errRed = paint('31;1', ERR_COLOUR);

const say = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};
const tell = (text: string): void => say(`  ${dim(text)}`);

/** Minor units (fen) as ¥1,000,000.00. */
const yuan = (minor: bigint | string): string => {
  const m = BigInt(minor);
  const whole = (m / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `¥${whole}.${(m % 100n).toString().padStart(2, '0')}`;
};

const YUAN = (n: number): bigint => BigInt(n) * 100n;

/** The UTC date `days` from now, YYYY-MM-DD. */
const dateIn = (days: number): string => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

/** First and last characters of a long hex value. */
const short = (hex: string): string => `${hex.slice(0, 12)}…${hex.slice(-4)}`;

// ---- failure ----

/** The story did not go as told. */
class StoryError extends Error {
  override readonly name = 'StoryError';
}
/** The command line is wrong. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

const fail = (message: string): never => {
  throw new StoryError(message);
};

/** One plain line for every refusal code (PROTOCOL §7–§8), for people; the code is what counts. */
const PLAIN: Record<RefusalCode, string> = {
  PAYLOAD_TOO_LARGE: 'the request is too large',
  MALFORMED_REQUEST: 'the request is not a well-formed operation',
  WRONG_LEDGER: 'the operation was signed for another ledger',
  OP_EXPIRED: 'the operation expired before it reached the ledger',
  UNKNOWN_PARTY: 'a party named in the operation is not registered',
  BAD_SIGNATURE: 'a signature does not match the key the ledger holds for that party',
  PARTY_SUSPENDED: 'a party named in the operation is suspended',
  VOUCHER_NOT_FOUND: 'no such voucher (or the signers may not see it)',
  VOUCHER_STATE_CONFLICT: 'the voucher is not in a state that allows this',
  SIGNERS_MISMATCH: 'the operation is not signed by exactly the parties who must sign it',
  ROLE_NOT_ALLOWED: "a party's role does not allow this (e.g. a supplier issuing a voucher)",
  PARTY_EXISTS: 'that party id or key is already registered',
  VOUCHER_PLEDGED: 'the voucher is already pledged to a bank, so it cannot be pledged again, split or passed on',
  VOUCHER_OVERDUE: 'the voucher is past its due date',
  INVALID_RECIPIENT: 'the recipient already holds the voucher',
  AMOUNT_INVALID: 'the amounts do not add up to the voucher',
  DUE_DATE_INVALID: 'the due date is not allowed',
  CURRENCY_INVALID: "the currency is not the ledger's",
  INVOICE_ALREADY_USED: 'an invoice already backs a live voucher, so it cannot back a second claim',
  UNAUTHENTICATED: 'the read was not signed with a valid key',
  NOT_FOUND: 'not found',
  RATE_LIMITED: 'too many requests',
  LEDGER_UNAVAILABLE: 'the ledger cannot write right now',
};

// ---- the cast ----

interface Actor {
  readonly id: string;
  readonly name: string;
  /** What the party is in the story: "core enterprise", "bank A", … */
  readonly what: string;
  readonly role: RegistrableRole;
  readonly key: KeyFile;
  readonly client: LedgerClient;
}

const CAST = [
  { slot: 'core', id: 'gz-motors', name: 'Guangzhou Motors', what: 'core enterprise', role: 'core' },
  { slot: 'tier1', id: 'dongguan-parts', name: 'Dongguan Parts', what: 'tier-1 supplier', role: 'supplier' },
  { slot: 'tier2', id: 'chen-electronics', name: 'Chen Electronics', what: 'tier-2 supplier', role: 'supplier' },
  { slot: 'bankA', id: 'icbc-gz', name: 'ICBC Guangzhou', what: 'bank A', role: 'bank' },
  { slot: 'bankB', id: 'cmb-sz', name: 'CMB Shenzhen', what: 'bank B', role: 'bank' },
] as const;
type Slot = (typeof CAST)[number]['slot'];

// ---- the story ----

interface Ledger {
  readonly baseUrl: string;
  readonly operator: KeyFile;
  /** Appended to party ids and invoice numbers (empty on a fresh ledger). */
  readonly suffix: string;
  /** A fresh ledger that holds nothing but genesis: the summary then checks the exact size. */
  readonly fresh: boolean;
  readonly where: string[];
}

class Story {
  readonly #cast = new Map<string, Actor>();
  #step = '';
  #written = 0;
  #refusals = 0;

  constructor(readonly ledger: Ledger) {}

  get step(): string {
    return this.#step;
  }

  // -- presentation --

  #header(n: number, title: string): void {
    this.#step = `step ${n} (${title})`;
    say();
    say(bold(cyan(`Step ${n}. ${title}`)));
  }

  /** "Dongguan Parts (tier-1 supplier)". */
  full(id: string | null | undefined): string {
    if (id === 'operator') return 'the operator';
    const a = id ? this.#cast.get(id) : undefined;
    return a ? `${a.name} (${a.what})` : String(id);
  }

  /** "Dongguan Parts". */
  nameOf(id: string | null | undefined): string {
    const a = id ? this.#cast.get(id) : undefined;
    return a ? a.name : String(id);
  }

  describe(v: WireVoucher): string {
    switch (v.status) {
      case 'offered':
        return `offered to ${this.nameOf(v.offeredTo)}, waiting for acceptance`;
      case 'active':
        return `active, held by ${this.nameOf(v.holder)}`;
      case 'pledged':
        return `pledged to ${this.nameOf(v.pledge?.bank)} (loan ${v.pledge?.loanRef ?? '?'}), held by ${this.nameOf(v.holder)}`;
      case 'split':
        return 'split: replaced by the parts below';
      case 'settled':
        return `settled: paid to ${this.nameOf(v.settlement?.payee)} (payment ${v.settlement?.paymentRef ?? '?'})`;
      case 'cancelled':
        return 'cancelled';
    }
  }

  #showVouchers(vouchers: readonly WireVoucher[], total?: { amount: bigint; note: string }): void {
    const width = Math.max(...vouchers.map((v) => v.id.length));
    for (const v of vouchers) say(`      ${v.id.padEnd(width)}  ${yuan(v.amount).padStart(15)}  ${this.describe(v)}`);
    if (total) say(`      ${'total'.padEnd(width)}  ${yuan(total.amount).padStart(15)}  ${dim(total.note)}`);
  }

  #accepted(r: SubmitResult, what: string): void {
    say(`  ${green('✓')} ${what} ${dim(`— accepted, entry #${r.seq}`)}`);
    if (r.effects.vouchers.length > 0) this.#showVouchers(r.effects.vouchers);
  }

  // -- checked submissions --

  async #submit(by: LedgerClient, envelope: SignedEnvelope, what: string): Promise<SubmitResult> {
    let r: SubmitResult;
    try {
      r = await by.submit(envelope);
    } catch (err) {
      if (err instanceof LedgerRefusal) {
        return fail(`"${what}" was refused with ${err.code} (${PLAIN[err.code]}: ${err.detail}), but the story needs it accepted`);
      }
      throw err;
    }
    if (r.duplicate) fail(`"${what}" was already on the ledger (entry #${r.seq}); this op was built fresh and cannot be`);
    this.#written += 1;
    this.#accepted(r, what);
    return r;
  }

  async #refused(by: LedgerClient, envelope: SignedEnvelope, what: string, code: RefusalCode): Promise<LedgerRefusal> {
    let r: SubmitResult;
    try {
      r = await by.submit(envelope);
    } catch (err) {
      if (!(err instanceof LedgerRefusal)) throw err;
      if (err.code !== code) {
        return fail(`"${what}" was refused with ${err.code} (${err.detail}), but the story expects ${code}`);
      }
      this.#refusals += 1;
      say(`  ${red('✗')} ${what} ${dim('— refused')}`);
      say(`      ${bold(err.code)}: ${PLAIN[err.code]}.`);
      say(`      ${dim(`the ledger says: ${err.detail}`)}`);
      return err;
    }
    return fail(`"${what}" was ACCEPTED as entry #${r.seq}, but the ledger must refuse it with ${code}`);
  }

  /** The voucher `id` among `vouchers`, checked field by field against what the story says. */
  #expect(
    vouchers: readonly WireVoucher[],
    id: string,
    want: { status: WireVoucher['status']; amount?: bigint; holder?: string; offeredTo?: string; bank?: string; payee?: string },
  ): WireVoucher {
    const v = vouchers.find((x) => x.id === id);
    if (!v) return fail(`voucher ${id} is not among ${vouchers.map((x) => x.id).join(', ') || 'no vouchers'}`);
    const wrong: string[] = [];
    const check = (field: string, got: unknown, expected: unknown) => {
      if (expected !== undefined && got !== expected) wrong.push(`${field} is ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
    };
    check('status', v.status, want.status);
    check('amount', v.amount, want.amount?.toString());
    check('holder', v.holder, want.holder);
    check('offeredTo', v.offeredTo, want.offeredTo);
    check('pledge.bank', v.pledge?.bank, want.bank);
    check('settlement.payee', v.settlement?.payee, want.payee);
    if (wrong.length > 0) fail(`voucher ${id}: ${wrong.join('; ')}`);
    return v;
  }

  #actor(slot: Slot): Actor {
    const base = CAST.find((c) => c.slot === slot)!;
    const a = this.#cast.get(`${base.id}${this.ledger.suffix}`);
    if (!a) return fail(`${base.name} is not registered`);
    return a;
  }

  // -- the steps --

  async run(): Promise<void> {
    const { baseUrl, operator, suffix } = this.ledger;
    this.#step = 'connecting';
    const op = new LedgerClient({ baseUrl, key: operator });
    const info = await op.ledger();
    const ledger = info.ledgerId;
    // The key file must be the operator's current key, or every registration would be refused.
    if (operator.party !== 'operator') fail(`the operator key file is for party "${operator.party}", not "operator"`);
    let opKey: string;
    try {
      opKey = (await op.party('operator')).publicKey;
    } catch (err) {
      if (err instanceof LedgerRefusal && err.code === 'UNAUTHENTICATED') {
        return fail(`the operator key file does not hold this ledger's operator key (the service answered UNAUTHENTICATED)`);
      }
      throw err;
    }
    if (opKey !== operator.publicKey) fail(`the operator key file holds ${short(operator.publicKey)}, but the ledger's operator key is ${short(opKey)}`);

    say(bold('Receivable voucher ledger: supply-chain finance, step by step'));
    for (const line of this.ledger.where) say(`  ${line}`);
    say(`  ledger id  ${ledger}`);
    say(`  ledger     "${info.name}", ${info.size} ${info.size === 1 ? 'entry' : 'entries'} so far, amounts in ${info.currency}, vouchers run up to ${info.maxTenorDays} days`);

    // 1. Registration.
    this.#header(1, 'The operator registers the parties');
    tell('Each firm generates its own signing key; it hands the operator only the public half.');
    tell('The operator signs each registration. From now on every step is signed by the firm that takes it.');
    for (const c of CAST) {
      const id = `${c.id}${suffix}`;
      const key = generateKeyFile(id);
      const client = new LedgerClient({ baseUrl, key, ledgerId: ledger });
      const actor: Actor = { id, name: c.name, what: c.what, role: c.role, key, client };
      this.#cast.set(id, actor);
      const payload = partyRegister({ ledger, party: { id, name: c.name, role: c.role, publicKey: key.publicKey } });
      const r = await this.#submit(op, signEnvelope(payload, [operator]), `${this.full(id)} registered as "${id}", key ${short(key.publicKey)}`);
      const p = r.effects.parties.find((x) => x.id === id);
      if (!p || p.role !== c.role || p.publicKey !== key.publicKey || p.status !== 'active') {
        fail(`the registration of ${id} did not produce an active ${c.role} with its key: ${JSON.stringify(r.effects.parties)}`);
      }
    }
    const core = this.#actor('core');
    const tier1 = this.#actor('tier1');
    const tier2 = this.#actor('tier2');
    const bankA = this.#actor('bankA');
    const bankB = this.#actor('bankB');

    // 2. Issue.
    this.#header(2, `${core.name} issues a voucher for ${yuan(YUAN(1_000_000))}`);
    const invoices = [`GZM-INV-0417${suffix}`, `GZM-INV-0418${suffix}`];
    const due = dateIn(90);
    tell(`${core.name} owes ${tier1.name} ${yuan(YUAN(1_000_000))} for parts delivered (invoices ${invoices.join(' and ')}),`);
    tell(`payable in 90 days. It issues an electronic voucher: its signed promise to pay on ${due}.`);
    const issue = voucherIssue({
      ledger,
      issuer: core.id,
      to: tier1.id,
      amount: YUAN(1_000_000),
      currency: info.currency,
      dueDate: due,
      invoiceIds: invoices,
      memo: 'Brake assemblies, March deliveries',
    });
    const [root] = voucherIdsOf(issue);
    const issued = await this.#submit(
      core.client,
      signEnvelope(issue, [core.key]),
      `${this.full(core.id)} issues ${yuan(YUAN(1_000_000))} to ${this.full(tier1.id)}, due ${due}`,
    );
    this.#expect(issued.effects.vouchers, root!, { status: 'offered', amount: YUAN(1_000_000), holder: core.id, offeredTo: tier1.id });
    tell(`The voucher id ${root} was known before sending: it is derived from the signed operation.`);

    // 3. Accept, split, partial transfer.
    this.#header(3, `${tier1.name} accepts, splits, and pays its own supplier with part of it`);
    const accepted = await this.#submit(tier1.client, signEnvelope(voucherAccept({ ledger, voucherId: root! }), [tier1.key]), `${this.full(tier1.id)} accepts the voucher`);
    this.#expect(accepted.effects.vouchers, root!, { status: 'active', holder: tier1.id });

    const split = voucherSplit({ ledger, voucherId: root!, amounts: [YUAN(600_000), YUAN(400_000)] });
    const [sixHundred, fourHundred] = voucherIdsOf(split);
    const splitR = await this.#submit(
      tier1.client,
      signEnvelope(split, [tier1.key]),
      `${tier1.name} splits it into ${yuan(YUAN(600_000))} + ${yuan(YUAN(400_000))}`,
    );
    this.#expect(splitR.effects.vouchers, root!, { status: 'split' });
    this.#expect(splitR.effects.vouchers, sixHundred!, { status: 'active', amount: YUAN(600_000), holder: tier1.id });
    this.#expect(splitR.effects.vouchers, fourHundred!, { status: 'active', amount: YUAN(400_000), holder: tier1.id });

    tell(`${tier1.name} owes ${tier2.name} ${yuan(YUAN(100_000))} for circuit boards. It pays with part of the ${yuan(YUAN(400_000))} voucher.`);
    const transfer = voucherTransfer({ ledger, voucherId: fourHundred!, to: tier2.id, amount: YUAN(100_000) });
    const [oneHundred, threeHundred] = voucherIdsOf(transfer, { id: fourHundred!, range: splitR.effects.vouchers.find((v) => v.id === fourHundred)!.range });
    const transferR = await this.#submit(
      tier1.client,
      signEnvelope(transfer, [tier1.key]),
      `${tier1.name} transfers ${yuan(YUAN(100_000))} of it to ${this.full(tier2.id)} (partial transfer)`,
    );
    this.#expect(transferR.effects.vouchers, fourHundred!, { status: 'split' });
    this.#expect(transferR.effects.vouchers, oneHundred!, { status: 'offered', amount: YUAN(100_000), offeredTo: tier2.id });
    this.#expect(transferR.effects.vouchers, threeHundred!, { status: 'active', amount: YUAN(300_000), holder: tier1.id });

    // 4. Accept and pledge, co-signed.
    this.#header(4, `${tier2.name} accepts and pledges its voucher to ${bankA.name} for a loan`);
    const acc2 = await this.#submit(tier2.client, signEnvelope(voucherAccept({ ledger, voucherId: oneHundred! }), [tier2.key]), `${this.full(tier2.id)} accepts ${yuan(YUAN(100_000))}`);
    this.#expect(acc2.effects.vouchers, oneHundred!, { status: 'active', holder: tier2.id });
    tell(`A pledge needs two signatures: the holder's and the bank's.`);
    const loanA = `ICBC-GZ-LN-0001${suffix}`;
    const pledge = voucherPledge({ ledger, voucherId: oneHundred!, bank: bankA.id, loanRef: loanA });
    const prepared = signEnvelope(pledge, [tier2.key]);
    say(`  ${green('✓')} prepared: ${tier2.name} signs the pledge (signature 1 of 2: ${tier2.id} ${short(prepared.signatures[0]!.sig)})`);
    // The bank checks the supplier's half against the key the ledger holds for it, then co-signs.
    const tier2Key = (await bankA.client.party(tier2.id)).publicKey;
    if (!hasValidSignature(prepared, tier2.id, tier2Key)) fail(`${tier2.name}'s signature does not verify under the key the ledger holds for it`);
    const cosigned = addSignature(prepared, bankA.key);
    if (opIdOf(cosigned.payload) !== opIdOf(prepared.payload)) fail('co-signing changed the operation');
    say(`  ${green('✓')} co-signed: ${bankA.name} checks that signature against the key the ledger holds for ${tier2.name}, and adds its own`);
    say(`      ${dim(`(signature 2 of 2: ${bankA.id} ${short(cosigned.signatures[1]!.sig)}; same operation ${short(opIdOf(cosigned.payload))})`)}`);
    const pledgeR = await this.#submit(
      bankA.client,
      cosigned,
      `${yuan(YUAN(100_000))} pledged by ${tier2.name} to ${this.full(bankA.id)}, loan ${loanA}, signed by ${cosigned.signatures.map((s) => this.nameOf(s.signer)).join(' and ')}`,
    );
    this.#expect(pledgeR.effects.vouchers, oneHundred!, { status: 'pledged', holder: tier2.id, bank: bankA.id });

    // 5. Double pledge.
    this.#header(5, `${tier2.name} tries to pledge the same voucher again, to ${bankB.name}`);
    tell('The double-pledging fraud: the same receivable offered to a second bank. Both sign, as for a real pledge.');
    const second = voucherPledge({ ledger, voucherId: oneHundred!, bank: bankB.id, loanRef: `CMB-SZ-LN-0077${suffix}` });
    await this.#refused(
      bankB.client,
      signEnvelope(second, [tier2.key, bankB.key]),
      `${yuan(YUAN(100_000))} pledged by ${tier2.name} to ${this.full(bankB.id)}`,
      'VOUCHER_PLEDGED',
    );
    const still = await bankA.client.voucher(oneHundred!);
    this.#expect([still], oneHundred!, { status: 'pledged', bank: bankA.id });
    say(`  ${green('✓')} ${bankA.name}'s pledge is untouched: ${this.describe(still)}; nothing was written`);
    say(`  → The double pledge is stopped: ${bankB.name} learns at once that the voucher already secures another bank's loan.`);

    // 6. Duplicate invoice.
    this.#header(6, `${core.name} issues again against invoice ${invoices[1]}`);
    tell('The duplicate-confirmation fraud: the same delivery claimed twice, in a new voucher.');
    const dupInvoices = [invoices[1]!, `GZM-INV-0420${suffix}`];
    const again = voucherIssue({ ledger, issuer: core.id, to: tier1.id, amount: YUAN(250_000), currency: info.currency, dueDate: due, invoiceIds: dupInvoices });
    await this.#refused(
      core.client,
      signEnvelope(again, [core.key]),
      `${this.full(core.id)} issues ${yuan(YUAN(250_000))} to ${tier1.name} against invoices ${dupInvoices.join(' and ')}`,
      'INVOICE_ALREADY_USED',
    );
    say(`  → The duplicate claim is stopped: an invoice can back only one live voucher, so no bank is shown the same delivery twice.`);

    // 7. Settlement.
    this.#header(7, `At maturity ${core.name} pays every voucher still outstanding`);
    tell('(The ledger lets the issuer pay on or before the due date; the demo does not wait 90 days.)');
    const outstanding: WireVoucher[] = [];
    for await (const v of core.client.vouchersOf(core.id, { status: ['active', 'pledged'] })) outstanding.push(v);
    const owed = outstanding.reduce((sum, v) => sum + BigInt(v.amount), 0n);
    say(`  ${core.name} looks up what it still owes: ${outstanding.length} vouchers`);
    this.#showVouchers(outstanding, { amount: owed, note: 'the original voucher, no more: splitting and passing it on created no money' });
    if (outstanding.length !== 3 || owed !== YUAN(1_000_000)) {
      fail(`expected 3 outstanding vouchers totalling ${yuan(YUAN(1_000_000))}, found ${outstanding.length} totalling ${yuan(owed)}`);
    }
    const paid = new Map<string, bigint>();
    let payment = 0;
    for (const v of outstanding) {
      const ref = `GZM-PAY-${String(++payment).padStart(4, '0')}${suffix}`;
      const payee = v.status === 'pledged' ? v.pledge!.bank : v.holder;
      const r = await this.#submit(
        core.client,
        signEnvelope(voucherSettle({ ledger, voucherId: v.id, paymentRef: ref }), [core.key]),
        `${core.name} pays ${yuan(v.amount)} (payment ${ref})`,
      );
      this.#expect(r.effects.vouchers, v.id, { status: 'settled', payee });
      paid.set(payee, (paid.get(payee) ?? 0n) + BigInt(v.amount));
      if (v.status === 'pledged') {
        say(`      ${bold(`→ paid to ${this.full(payee)}`)}: the voucher is pledged, so the money goes to the bank, not to ${this.nameOf(v.holder)}`);
      } else {
        say(`      → paid to its holder, ${this.full(payee)}`);
      }
    }
    if (paid.get(bankA.id) !== YUAN(100_000) || paid.get(tier1.id) !== YUAN(900_000)) {
      fail(`settlement paid ${[...paid].map(([p, a]) => `${p} ${yuan(a)}`).join(', ')}`);
    }
    say(`  In all: ${[...paid].map(([p, a]) => `${yuan(a)} to ${this.nameOf(p)}`).join(', ')}.`);

    // 8. Offline verification.
    this.#header(8, `${bankA.name} verifies the pledged voucher offline`);
    tell(`${bankA.name} fetches the voucher's proof bundle, then checks it with no help from the service,`);
    tell(`trusting only the ledger id ${short(ledger)} (published by the operator).`);
    const bundle = await bankA.client.proof(oneHundred!);
    say(`  fetched the proof bundle: ${bundle.entries.length} entries, checkpoint of ${bundle.ledger.size} entries`);
    const report = verifyBundle(bundle, ledger, { voucherId: oneHundred! });
    for (const c of report.checks) {
      say(`  ${c.ok ? green('✓') : red('✗')} ${CHECK_WORDS[c.name]}`);
      say(`      ${dim(c.detail)}`);
    }
    const verdict = report.verdict;
    if (!report.ok || !verdict) {
      return fail(`the proof bundle does not verify: ${report.firstFailure?.code ?? '?'} at "${report.firstFailure?.check ?? '?'}": ${report.firstFailure?.detail ?? ''}`);
    }
    say(`  ${bold(green('Verdict: the bundle is valid.'))} What ${bankA.name} now knows, without trusting the service:`);
    say(`      voucher    ${verdict.voucherId}`);
    say(`      amount     ${yuan(verdict.amount)} (${verdict.currency}), due ${verdict.dueDate}, issued by ${this.full(verdict.issuer)}`);
    say(`      holder     ${this.full(verdict.holder)}`);
    say(`      status     ${verdict.status}`);
    say(`      payee      ${verdict.settlement ? `${this.full(verdict.settlement.payee)}, payment ${verdict.settlement.paymentRef}` : 'none yet'}`);
    say(`      path       ${verdict.path.map((id, i) => (i === 0 ? `${id} (root)` : id)).join(' → ')}`);
    say(`      proven by  checkpoint of ${verdict.checkpointSize} entries, root ${verdict.checkpointRoot}`);
    const wrong: string[] = [];
    if (verdict.holder !== tier2.id) wrong.push(`holder ${verdict.holder}`);
    if (verdict.amount !== YUAN(100_000).toString()) wrong.push(`amount ${verdict.amount}`);
    if (verdict.status !== 'settled') wrong.push(`status ${verdict.status}`);
    if (verdict.settlement?.payee !== bankA.id) wrong.push(`payee ${verdict.settlement?.payee ?? 'none'}`);
    if (verdict.path.join(' ') !== [root, fourHundred, oneHundred].join(' ')) wrong.push(`path ${verdict.path.join(' → ')}`);
    if (wrong.length > 0) fail(`the verified bundle says ${wrong.join(', ')}; the story says holder ${tier2.id}, ${yuan(YUAN(100_000))}, settled, paid to ${bankA.id}`);

    // A copy edited in transit must fail: the checks are real.
    const forged = structuredClone(bundle) as { -readonly [K in keyof ProofBundle]: ProofBundle[K] } & { state: WireVoucher };
    forged.state = { ...forged.state, settlement: { ...forged.state.settlement!, payee: tier2.id } };
    const forgedReport = verifyBundle(forged, ledger, { voucherId: oneHundred! });
    if (forgedReport.ok) fail(`a bundle edited to name ${tier2.id} as payee still verified`);
    say(`  ${green('✓')} and a copy edited to say the money went to ${tier2.name} is caught: ${red('✗')} ${forgedReport.firstFailure?.code ?? '?'} (${forgedReport.firstFailure?.check ?? '?'})`);

    // Summary.
    this.#step = 'the summary';
    const note = await op.checkpoint();
    const cp = verifyCheckpoint(note, { ledgerId: ledger, nodePublicKey: bundle.ledger.nodeKey });
    if (!cp.ok) return fail(`the service's latest checkpoint does not verify under the node key: ${cp.code}: ${cp.detail}`);
    if (this.ledger.fresh && cp.size !== this.#written + 1) {
      fail(`the checkpoint covers ${cp.size} entries, but this fresh ledger should hold genesis + ${this.#written}`);
    }
    say();
    say(bold('Summary'));
    say(`  entries written   ${this.#written} by this demo (${this.#refusals} attempts refused; a refusal writes nothing)`);
    say(`  checkpoint        ${cp.size} entries, root ${cp.root}, signed by the node key ${green('✓')}`);
    say(`  double pledge     refused (VOUCHER_PLEDGED); duplicate invoice refused (INVOICE_ALREADY_USED)`);
    say(`  settled           ${yuan(owed)}; ${yuan(YUAN(100_000))} of it to ${this.full(bankA.id)} as pledgee`);
  }
}

const CHECK_WORDS: Record<BundleCheckName, string> = {
  'bundle shape': 'the bundle is complete and in order',
  voucher: 'it is about the voucher the bank asked for',
  genesis: "its first entry is the ledger's genesis: it hashes to the trusted ledger id",
  checkpoint: "the checkpoint (the ledger's size and fingerprint) is signed by the ledger's node key",
  'ledger info': 'the ledger description agrees with genesis and the checkpoint',
  'entry hashes': 'every entry hashes to the value given for it',
  inclusion: "every entry is provably in the checkpoint's Merkle tree: nothing was rewritten",
  'hash links': 'consecutive entries are chained to each other, in time order',
  signatures: 'every step is signed by the parties who took it, with the keys they had then',
  completeness: 'the entries that created and last changed the voucher are all there',
  replay: 'replaying the history under the ledger rules accepts every step',
  state: "the replayed result is exactly the voucher's state as the service reports it",
};

// ---- running it ----

const USAGE = `usage: npm run demo [-- --data-dir DIR] | [-- --url URL --operator-key FILE]

  (no options)          start the service in this process on a fresh temporary ledger
  --data-dir DIR        keep that temporary ledger in DIR (must not exist yet; removed at the end)
  --url URL             use the service at URL instead
  --operator-key FILE   the operator's key file for --url (e.g. <data>/operator.key)
  -h, --help            this text

Colours are used on a terminal unless NO_COLOR is set.`;

interface Options {
  readonly url?: string;
  readonly operatorKey?: string;
  readonly dataDir?: string;
}

const options = (argv: readonly string[]): Options | 'help' => {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        url: { type: 'string' },
        'operator-key': { type: 'string' },
        'data-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if ((v.url === undefined) !== (v['operator-key'] === undefined)) throw new UsageError('--url and --operator-key go together');
  if (v.url !== undefined && v['data-dir'] !== undefined) throw new UsageError('--data-dir is for the in-process service; it cannot go with --url');
  if (v.url !== undefined && !/^https?:\/\/[^\s]+$/.test(v.url)) throw new UsageError(`--url must be an http(s) URL, not ${JSON.stringify(v.url)}`);
  return {
    ...(v.url === undefined ? {} : { url: v.url }),
    ...(v['operator-key'] === undefined ? {} : { operatorKey: v['operator-key'] }),
    ...(v['data-dir'] === undefined ? {} : { dataDir: v['data-dir'] }),
  };
};

const readOperatorKey = async (file: string): Promise<KeyFile> => {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new StoryError(`cannot read the operator key file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    return parseKeyFile(text);
  } catch (err) {
    if (err instanceof KeyFileError) throw new StoryError(`${file} is not a valid key file: ${err.message}`);
    throw err;
  }
};

/** What the demo started or made, undone by `cleanup` (once, whoever asks first). */
let running: Running | undefined;
let madeDir: string | undefined;
let cleaning: Promise<string[]> | undefined;

const cleanup = (): Promise<string[]> =>
  (cleaning ??= (async () => {
    const done: string[] = [];
    const problems: string[] = [];
    if (running) {
      try {
        await running.close();
        done.push('stopped the service');
      } catch (err) {
        problems.push(`stopping the service failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (madeDir) {
      try {
        await rm(madeDir, { recursive: true, force: true });
        done.push(`removed ${madeDir}`);
      } catch (err) {
        problems.push(`removing ${madeDir} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (problems.length > 0) throw new Error(`cleanup: ${problems.join('; ')}`);
    return done;
  })());

const main = async (): Promise<number> => {
  let opts: Options | 'help';
  try {
    opts = options(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`demo: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (opts === 'help') {
    say(USAGE);
    return 0;
  }

  let interrupted = false;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      interrupted = true;
      process.stderr.write(`\ndemo: ${signal}: stopping and cleaning up\n`);
      cleanup().then(
        (done) => {
          if (done.length > 0) process.stderr.write(`demo: ${done.join(', ')}\n`);
          process.exit(code);
        },
        (err: unknown) => {
          process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
          process.exit(code);
        },
      );
    });
  }

  let story: Story | undefined;
  let status = 0;
  try {
    let ledger: Ledger;
    if (opts.url !== undefined) {
      const operator = await readOperatorKey(opts.operatorKey!);
      const suffix = `-${Array.from(crypto.getRandomValues(new Uint8Array(3)), (b) => b.toString(16).padStart(2, '0')).join('')}`;
      ledger = { baseUrl: opts.url.replace(/\/+$/, ''), operator, suffix, fresh: false, where: [`service    ${opts.url} (already running)`] };
    } else {
      let dir: string;
      if (opts.dataDir !== undefined) {
        dir = path.resolve(opts.dataDir);
        if (existsSync(dir)) throw new UsageError(`--data-dir ${dir} exists; name a folder that does not exist yet (the demo creates and removes it)`);
        await mkdir(dir);
      } else {
        dir = await mkdtemp(path.join(tmpdir(), 'rvl-demo-'));
      }
      madeDir = dir;
      const config = readConfig({
        HOST: '127.0.0.1',
        PORT: '0',
        LEDGER_DATA_DIR: dir,
        LEDGER_NAME: 'demo',
        LOG_LEVEL: 'warn',
        RATE_LIMIT_PER_MIN: '0',
      });
      // The service's own log lines (warnings and worse) go to stderr; stdout tells the story.
      const logger = pino(
        {
          level: config.logLevel,
          base: { service: 'rvl' },
          redact: { paths: ['secretKey', '*.secretKey', 'req.headers.authorization'], censor: '[redacted]' },
        },
        process.stderr,
      );
      running = await startServer(config, logger);
      const operator = await readOperatorKey(path.join(dir, 'operator.key'));
      ledger = {
        baseUrl: running.url,
        operator,
        suffix: '',
        fresh: true,
        where: [`service    ${running.url} (started in this process, on a fresh ledger)`, `data dir   ${dir}  (temporary; removed at the end)`],
      };
    }
    story = new Story(ledger);
    await story.run();
  } catch (err) {
    if (interrupted) return new Promise<number>(() => undefined); // the signal handler exits
    status = err instanceof UsageError ? 2 : 1;
    const where = story?.step ? ` at ${story.step}` : '';
    let message: string;
    if (err instanceof StoryError || err instanceof UsageError) message = err.message;
    else if (err instanceof LedgerNetworkError) message = `the service did not answer: ${err.message}`;
    else if (err instanceof LedgerRefusal) message = `the service refused a read: ${err.code} (${err.detail})`;
    else if (err instanceof LedgerHttpError) message = `unexpected answer from the service: ${err.message}`;
    else message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    say();
    process.stderr.write(`${errRed(`demo FAILED${where}`)}: ${message}\n`);
    if (err instanceof UsageError) process.stderr.write(`${USAGE}\n`);
  }
  if (interrupted) return new Promise<number>(() => undefined);
  try {
    const done = await cleanup();
    if (done.length > 0) say(dim(`Cleaned up: ${done.join(', ')}.`));
  } catch (err) {
    process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
    status = status === 0 ? 1 : status;
  }
  if (status === 0) say(bold(green('The story went as told.')));
  return status;
};

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    void cleanup()
      .catch(() => undefined)
      .finally(() => process.exit(1));
  },
);
