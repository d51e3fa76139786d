/**
 * `npm run demo`: one supply-chain loan, start to finish, told step by step against a real ledger
 * service in the order a bank lives it, in plain words, Chinese first, then English.
 *
 *   npm run demo                                              # a fresh ledger, in-process
 *   npm run demo -- --data-dir /tmp/my-demo                   # …kept in this (new) folder while it runs
 *   npm run demo -- --url http://127.0.0.1:8080 --operator-key ledger-data/operator.key
 *
 * The story: the operator registers a core enterprise, two suppliers, two banks and an auditor;
 * the core enterprise issues a voucher against its invoices, the supplier accepts, splits it and
 * pays its own supplier with part of it; that supplier asks a bank for a loan, and the bank checks
 * the voucher's proof bundle BEFORE it co-signs the pledge; a second bank is refused the same
 * money; a reused invoice is refused; at maturity the pledged part is paid to the bank and the
 * rest to the holders; a tampered bundle is caught; the auditor checks the whole ledger.
 *
 * By default it starts the service in this process on a fresh temporary ledger (PORT=0, logs at
 * `warn` on stderr, no rate limit) and acts as the operator with the key the service generated in
 * `<data>/operator.key`. With `--url` it talks to a running service instead, as the operator whose
 * key file `--operator-key` names; party ids and invoice numbers then get a random suffix, so the
 * demo can run any number of times against the same ledger.
 *
 * Every step goes through the typed SDK (src/client) over HTTP: each party signs with its own
 * freshly generated key. Every outcome is checked against what the story says must happen (an
 * accepted op's effects, a refusal's code, the bank's review, the audit); the first surprise stops
 * the demo with a message on stderr and exit code 1. Nothing is simulated. Codes (refusal codes,
 * check codes) appear only in brackets, as technical details beside the plain sentence. Whatever
 * happens, the demo stops the service it started and removes the folder it created (also on
 * Ctrl-C).
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
  audit,
  generateKeyFile,
  KeyFileError,
  LedgerClient,
  LedgerHttpError,
  LedgerNetworkError,
  LedgerRefusal,
  opIdOf,
  parseKeyFile,
  partyRegister,
  PLEDGE_REQUEST_FORMAT,
  reviewPledgeRequest,
  signEnvelope,
  verifyBundle,
  voucherAccept,
  voucherIdsOf,
  voucherIssue,
  voucherPledge,
  voucherSettle,
  voucherSplit,
  voucherTransfer,
  type BundleFailureCode,
  type BundleReport,
  type KeyFile,
  type PledgePayload,
  type PledgeRequestFile,
  type ProofBundle,
  type RefusalCode,
  type SignedEnvelope,
  type SubmitResult,
  type WireVoucher,
} from '../src/client/index.js';
import type { OpType, RegistrableRole } from '../src/domain/types.js';
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

/** A sentence in Chinese and in English; the Chinese is printed first. */
interface Bi {
  readonly zh: string;
  readonly en: string;
}
const bi = (zh: string, en: string): Bi => ({ zh, en });

/** Narration: the Chinese line, then the English line, dimmed. */
const tell = (t: Bi): void => {
  say(`  ${dim(t.zh)}`);
  say(`  ${dim(t.en)}`);
};

/** An outcome (✓, ✗ or →): the Chinese line after the mark, the English line under it, and a code in brackets. */
const mark = (sign: string, t: Bi, technical?: string): void => {
  say(`  ${sign} ${t.zh}`);
  say(`    ${t.en}`);
  if (technical !== undefined) say(`    ${dim(`(技术细节 · technical detail: ${technical})`)}`);
};

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

/** The entry a receipt names, in both languages: "（记录 #6）" / "(entry #6)". */
const entryNo = (seq: number): Bi => bi(`（记录 #${seq}）`, ` (entry #${seq})`);

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

// ---- words ----

/** What a refusal means, for a banker (docs/protocol.md §7–§8); the code is shown beside it in brackets. */
const REFUSAL_WORDS: Record<RefusalCode, Bi> = {
  PAYLOAD_TOO_LARGE: bi('请求过大', 'the request is too large'),
  MALFORMED_REQUEST: bi('请求不是格式正确的操作', 'the request is not a well-formed operation'),
  WRONG_LEDGER: bi('这笔操作是为另一本账签署的', 'the operation was signed for another ledger'),
  OP_EXPIRED: bi('操作在送达账本之前已经过期', 'the operation expired before it reached the ledger'),
  UNKNOWN_PARTY: bi('操作中提到的某一方没有登记', 'a party named in the operation is not registered'),
  BAD_SIGNATURE: bi('签名与账本登记的该方密钥不符', 'a signature does not match the key the ledger holds for that party'),
  PARTY_SUSPENDED: bi('操作中提到的某一方已被暂停', 'a party named in the operation is suspended'),
  VOUCHER_NOT_FOUND: bi('没有这张凭证（或签名方无权查看）', 'there is no such voucher (or the signers may not see it)'),
  VOUCHER_STATE_CONFLICT: bi('凭证现在的状态不允许这样做', "the voucher's state does not allow this"),
  SIGNERS_MISMATCH: bi('签名的不恰好是应当签名的各方', 'it is not signed by exactly the parties who must sign it'),
  ROLE_NOT_ALLOWED: bi('该方的身份不允许这样做', "a party's role does not allow this"),
  PARTY_EXISTS: bi('这个机构编号或密钥已经登记过', 'that party id or key is already registered'),
  VOUCHER_PLEDGED: bi('这笔钱已经为另一笔贷款作担保', 'this money already secures another loan'),
  VOUCHER_OVERDUE: bi('凭证已过到期日', 'the voucher is past its due date'),
  INVALID_RECIPIENT: bi('接收方已经持有这张凭证', 'the recipient already holds the voucher'),
  AMOUNT_INVALID: bi('金额与凭证对不上', 'the amounts do not fit the voucher'),
  DUE_DATE_INVALID: bi('到期日不允许', 'the due date is not allowed'),
  CURRENCY_INVALID: bi('币种不是本账本的币种', "the currency is not the ledger's"),
  INVOICE_ALREADY_USED: bi('一张发票只能支持一张有效凭证，这张发票已经用过', 'an invoice can back only one live voucher, and this one already does'),
  UNAUTHENTICATED: bi('读取请求没有有效的签名', 'the read was not signed with a valid key'),
  NOT_FOUND: bi('不存在（或无权查看）', 'not found (or not visible to the caller)'),
  RATE_LIMITED: bi('请求过于频繁', 'too many requests'),
  LEDGER_UNAVAILABLE: bi('账本暂时无法写入', 'the ledger cannot write right now'),
};

/** Why a bank's check of a proof bundle fails, for a banker; the code is shown beside it in brackets. */
const BUNDLE_WORDS: Record<BundleFailureCode, Bi> = {
  MALFORMED_BUNDLE: bi('这不是一份完整的证明包', 'this is not a complete proof bundle'),
  WRONG_VOUCHER: bi('证明包说的是另一张凭证', 'the bundle is about another voucher'),
  GENESIS_MISMATCH: bi('证明包不是出自运营方公布的那本账', 'the bundle is not from the ledger the operator published'),
  BAD_CHECKPOINT: bi('账本的封签不是该账本的节点签署的', "the ledger's seal is not signed by that ledger's node"),
  ENTRY_HASH_MISMATCH: bi('历史中有一条记录被改过', 'an entry in the history was edited'),
  NOT_INCLUDED: bi('历史中有一条记录不在账本里', 'an entry in the history is not on the ledger'),
  CHAIN_BROKEN: bi('记录前后接不上：有记录被删改或调换', 'the entries do not follow on from each other: some were removed, changed or reordered'),
  UNKNOWN_SIGNER: bi('有一步的签名者不是登记过的机构', 'a step is signed by someone who is not registered'),
  BAD_SIGNATURE: bi('有一步的签名不是该机构的', "a step's signature is not that firm's"),
  MISSING_ENTRY: bi('历史不完整：缺少记录', 'the history is incomplete: entries are missing'),
  REPLAY_REFUSED: bi('历史中有一步违反账本规则', "a step in the history breaks the ledger's rules"),
  STATE_MISMATCH: bi('历史记录加起来不是所示的状态：有人改动过', 'the history does not add up to the state shown: someone edited it'),
};

type VoucherOpType = Exclude<OpType, 'party.register' | 'party.update'>;

/** A voucher's step in its history, as a banker reads it. */
const STEP_WORDS: Record<VoucherOpType, Bi> = {
  'voucher.issue': bi('签发', 'issued'),
  'voucher.accept': bi('接受', 'accepted'),
  'voucher.reject': bi('拒收', 'rejected'),
  'voucher.cancel': bi('作废', 'cancelled'),
  'voucher.split': bi('拆分', 'split'),
  'voucher.transfer': bi('转让', 'transferred'),
  'voucher.pledge': bi('质押', 'pledged'),
  'voucher.release': bi('解除质押', 'released'),
  'voucher.settle': bi('兑付', 'paid'),
};
const isVoucherStep = (type: unknown): type is VoucherOpType => typeof type === 'string' && Object.hasOwn(STEP_WORDS, type);

// ---- the cast ----

interface Actor {
  readonly id: string;
  readonly name: Bi;
  /** What the party is in the story: "core enterprise", "tier-1 supplier", … */
  readonly what: Bi;
  readonly role: RegistrableRole;
  readonly key: KeyFile;
  readonly client: LedgerClient;
}

const CAST = [
  { slot: 'core', id: 'gz-motors', name: bi('广州汽车', 'Guangzhou Motors'), what: bi('核心企业', 'core enterprise'), role: 'core' },
  { slot: 'tier1', id: 'dongguan-parts', name: bi('东莞零件', 'Dongguan Parts'), what: bi('一级供应商', 'tier-1 supplier'), role: 'supplier' },
  { slot: 'tier2', id: 'chen-electronics', name: bi('陈氏电子', 'Chen Electronics'), what: bi('二级供应商', 'tier-2 supplier'), role: 'supplier' },
  { slot: 'bankA', id: 'icbc-gz', name: bi('工商银行广州分行', 'ICBC Guangzhou'), what: bi('银行', 'bank'), role: 'bank' },
  { slot: 'bankB', id: 'cmb-sz', name: bi('招商银行深圳分行', 'CMB Shenzhen'), what: bi('银行', 'bank'), role: 'bank' },
  { slot: 'auditor', id: 'xincheng-audit', name: bi('信诚会计师事务所', 'Xincheng Auditors'), what: bi('审计师', 'auditor'), role: 'auditor' },
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

/** An RFC 3339 UTC time to the minute, as people write it: "2026-03-07 09:30 UTC". */
const minute = (time: string): string => `${time.slice(0, 10)} ${time.slice(11, 16)} UTC`;

/** The entry and time the bundle's state is as of: the state its entries give (`asOf` where the SDK gives it, else the checkpoint's last entry). */
const asOfOf = (report: BundleReport, checkpointSize: number): { seq: number; time?: string } => {
  const asOf = (report as { readonly asOf?: { readonly seq?: unknown; readonly time?: unknown } }).asOf;
  if (asOf && typeof asOf.seq === 'number') return { seq: asOf.seq, ...(typeof asOf.time === 'string' ? { time: minute(asOf.time) } : {}) };
  return { seq: checkpointSize - 1 };
};

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

  #header(n: number, title: Bi): void {
    this.#step = `step ${n} (${title.en})`;
    say();
    say(bold(cyan(`第${n}步 ${title.zh} · Step ${n}. ${title.en}`)));
  }

  /** The party's name in both languages ("the operator" for the operator). */
  name(id: string | null | undefined): Bi {
    if (id === 'operator') return bi('运营方', 'the operator');
    const a = id ? this.#cast.get(id) : undefined;
    return a ? a.name : bi(String(id), String(id));
  }

  describe(v: WireVoucher): Bi {
    const n = this.name.bind(this);
    switch (v.status) {
      case 'offered':
        return bi(`待${n(v.offeredTo).zh}接受`, `offered to ${n(v.offeredTo).en}, waiting for acceptance`);
      case 'active':
        return bi(`${n(v.holder).zh}持有`, `held by ${n(v.holder).en}`);
      case 'pledged':
        return bi(`${n(v.holder).zh}持有，已质押给${n(v.pledge?.bank).zh}`, `held by ${n(v.holder).en}, pledged to ${n(v.pledge?.bank).en}`);
      case 'split':
        return bi('已拆分为下列凭证', 'split into the vouchers below');
      case 'settled':
        return bi(`已兑付给${n(v.settlement?.payee).zh}`, `paid to ${n(v.settlement?.payee).en}`);
      case 'cancelled':
        return bi('已作废', 'cancelled');
    }
  }

  #showVouchers(vouchers: readonly WireVoucher[], total?: { amount: bigint; note: Bi }): void {
    const width = Math.max(...vouchers.map((v) => v.id.length), '合计 total'.length);
    for (const v of vouchers) {
      const d = this.describe(v);
      say(`      ${v.id.padEnd(width)}  ${yuan(v.amount).padStart(15)}  ${d.zh} · ${d.en}`);
    }
    // The two CJK characters of the label are two columns wide each.
    if (total) say(`      ${'合计 total'.padEnd(width - 2)}  ${yuan(total.amount).padStart(15)}  ${dim(`${total.note.zh} · ${total.note.en}`)}`);
  }

  // -- checked submissions --

  async #submit(by: LedgerClient, envelope: SignedEnvelope, what: Bi): Promise<SubmitResult> {
    let r: SubmitResult;
    try {
      r = await by.submit(envelope);
    } catch (err) {
      if (err instanceof LedgerRefusal) {
        return fail(`"${what.en}" was refused with ${err.code} (${REFUSAL_WORDS[err.code].en}: ${err.detail}), but the story needs it accepted`);
      }
      throw err;
    }
    if (r.duplicate) fail(`"${what.en}" was already on the ledger (entry #${r.seq}); this op was built fresh and cannot be`);
    this.#written += 1;
    const at = entryNo(r.seq);
    mark(green('✓'), bi(`${what.zh}${dim(at.zh)}`, `${what.en}${dim(at.en)}`));
    if (r.effects.vouchers.length > 0) this.#showVouchers(r.effects.vouchers);
    return r;
  }

  /** Submits an op the ledger must refuse with `code`; says so plainly, with the code in brackets. */
  async #refused(by: LedgerClient, envelope: SignedEnvelope, what: Bi, code: RefusalCode): Promise<LedgerRefusal> {
    let r: SubmitResult;
    try {
      r = await by.submit(envelope);
    } catch (err) {
      if (!(err instanceof LedgerRefusal)) throw err;
      if (err.code !== code) {
        return fail(`"${what.en}" was refused with ${err.code} (${err.detail}), but the story expects ${code}`);
      }
      this.#refusals += 1;
      mark(red('✗'), bi(`${what.zh}：账本拒绝`, `${what.en}: the ledger refuses`));
      const words = REFUSAL_WORDS[code];
      mark(' ', bi(`${words.zh}。`, `${capital(words.en)}.`), code);
      return err;
    }
    return fail(`"${what.en}" was ACCEPTED as entry #${r.seq}, but the ledger must refuse it with ${code}`);
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
    if (!a) return fail(`${base.name.en} is not registered`);
    return a;
  }

  // -- the steps --

  async run(): Promise<void> {
    const { baseUrl, operator, suffix } = this.ledger;
    this.#step = 'connecting';
    const op = new LedgerClient({ baseUrl, key: operator });
    const info = await op.ledger();
    // The operator's own copy of its ledger id: the id it publishes, and the only thing the banks
    // and the auditor below trust (they are handed it; they never ask the service for it).
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

    say(bold('应收账款电子凭证：一笔供应链融资的全过程 · Receivable vouchers: one supply-chain loan, start to finish'));
    for (const line of this.ledger.where) say(`  ${line}`);
    say(`  账本 ledger        "${info.name}", ${info.size} ${info.size === 1 ? 'entry' : 'entries'} so far, amounts in ${info.currency}`);
    say(`  账本编号 ledger id ${ledger}`);
    tell(
      bi(
        '运营方公布这个编号（例如印在融资合同里）。银行和审计师只信任这个编号，不信任服务器自己的说法。',
        'The operator publishes this id (printed in the financing contract, say). Banks and auditors trust this id, not what the server says.',
      ),
    );

    // 1. Registration.
    this.#header(1, bi('运营方登记参与方', 'The operator registers the parties'));
    tell(
      bi(
        '每家机构自己生成签名密钥，只把公钥交给运营方。此后每一步都由办事的机构自己签名。',
        'Each firm makes its own signing key and gives the operator only the public half. From then on, every step is signed by the firm that takes it.',
      ),
    );
    for (const c of CAST) {
      const id = `${c.id}${suffix}`;
      const key = generateKeyFile(id);
      const client = new LedgerClient({ baseUrl, key, ledgerId: ledger });
      const actor: Actor = { id, name: c.name, what: c.what, role: c.role, key, client };
      this.#cast.set(id, actor);
      const payload = partyRegister({ ledger, party: { id, name: `${c.name.zh} ${c.name.en}`, role: c.role, publicKey: key.publicKey } });
      const r = await this.#submit(
        op,
        signEnvelope(payload, [operator]),
        bi(`${c.name.zh}（${c.what.zh}）登记为 ${id}`, `${c.name.en} (${c.what.en}) registered as ${id}`),
      );
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
    const auditor = this.#actor('auditor');

    // 2. Issue, accept, split, partial transfer, accept.
    this.#header(
      2,
      bi(`${core.name.zh}凭发票签发凭证，凭证沿供应链流转`, `${core.name.en} issues a voucher against its invoices, and it moves up the supply chain`),
    );
    const invoices = [`GZM-INV-0417${suffix}`, `GZM-INV-0418${suffix}`];
    const due = dateIn(90);
    tell(
      bi(
        `${core.name.zh}欠${tier1.name.zh}货款 ${yuan(YUAN(1_000_000))}（发票 ${invoices.join('、')}），90 天后付款。它签发一张电子凭证：承诺于 ${due} 付款。`,
        `${core.name.en} owes ${tier1.name.en} ${yuan(YUAN(1_000_000))} for parts (invoices ${invoices.join(' and ')}), payable in 90 days. It issues an electronic voucher: its signed promise to pay on ${due}.`,
      ),
    );
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
      bi(
        `${core.name.zh}向${tier1.name.zh}签发 ${yuan(YUAN(1_000_000))} 的凭证，${due} 到期`,
        `${core.name.en} issues ${yuan(YUAN(1_000_000))} to ${tier1.name.en}, due ${due}`,
      ),
    );
    this.#expect(issued.effects.vouchers, root!, { status: 'offered', amount: YUAN(1_000_000), holder: core.id, offeredTo: tier1.id });

    const accepted = await this.#submit(
      tier1.client,
      signEnvelope(voucherAccept({ ledger, voucherId: root! }), [tier1.key]),
      bi(`${tier1.name.zh}接受凭证`, `${tier1.name.en} accepts the voucher`),
    );
    this.#expect(accepted.effects.vouchers, root!, { status: 'active', holder: tier1.id });

    const split = voucherSplit({ ledger, voucherId: root!, amounts: [YUAN(600_000), YUAN(400_000)] });
    const [sixHundred, fourHundred] = voucherIdsOf(split);
    const splitR = await this.#submit(
      tier1.client,
      signEnvelope(split, [tier1.key]),
      bi(
        `${tier1.name.zh}把它拆成 ${yuan(YUAN(600_000))} 和 ${yuan(YUAN(400_000))} 两张`,
        `${tier1.name.en} splits it into ${yuan(YUAN(600_000))} and ${yuan(YUAN(400_000))}`,
      ),
    );
    this.#expect(splitR.effects.vouchers, root!, { status: 'split' });
    this.#expect(splitR.effects.vouchers, sixHundred!, { status: 'active', amount: YUAN(600_000), holder: tier1.id });
    this.#expect(splitR.effects.vouchers, fourHundred!, { status: 'active', amount: YUAN(400_000), holder: tier1.id });

    tell(
      bi(
        `${tier1.name.zh}欠${tier2.name.zh}电路板货款 ${yuan(YUAN(100_000))}，用 ${yuan(YUAN(400_000))} 那张凭证的一部分来付。`,
        `${tier1.name.en} owes ${tier2.name.en} ${yuan(YUAN(100_000))} for circuit boards, and pays with part of the ${yuan(YUAN(400_000))} voucher.`,
      ),
    );
    const transfer = voucherTransfer({ ledger, voucherId: fourHundred!, to: tier2.id, amount: YUAN(100_000) });
    const [oneHundred, threeHundred] = voucherIdsOf(transfer, { id: fourHundred!, range: splitR.effects.vouchers.find((v) => v.id === fourHundred)!.range });
    const transferR = await this.#submit(
      tier1.client,
      signEnvelope(transfer, [tier1.key]),
      bi(`${tier1.name.zh}把其中 ${yuan(YUAN(100_000))} 转让给${tier2.name.zh}`, `${tier1.name.en} transfers ${yuan(YUAN(100_000))} of it to ${tier2.name.en}`),
    );
    this.#expect(transferR.effects.vouchers, fourHundred!, { status: 'split' });
    this.#expect(transferR.effects.vouchers, oneHundred!, { status: 'offered', amount: YUAN(100_000), offeredTo: tier2.id });
    this.#expect(transferR.effects.vouchers, threeHundred!, { status: 'active', amount: YUAN(300_000), holder: tier1.id });

    const acc2 = await this.#submit(
      tier2.client,
      signEnvelope(voucherAccept({ ledger, voucherId: oneHundred! }), [tier2.key]),
      bi(`${tier2.name.zh}接受 ${yuan(YUAN(100_000))}`, `${tier2.name.en} accepts ${yuan(YUAN(100_000))}`),
    );
    this.#expect(acc2.effects.vouchers, oneHundred!, { status: 'active', holder: tier2.id });

    // 3. The bank checks the voucher before it lends, then both sign the pledge.
    this.#header(3, bi('银行放款前核验凭证', 'The bank checks the voucher before it lends'));
    const loanA = `ICBC-GZ-LN-0001${suffix}`;
    tell(
      bi(
        `${tier2.name.zh}想用这张 ${yuan(YUAN(100_000))} 的凭证向${bankA.name.zh}借款。凭证只有当事方能查看，所以${tier2.name.zh}取来凭证的证明包，连同自己签好的质押申请一起交给银行。`,
        `${tier2.name.en} asks ${bankA.name.en} for a loan against its ${yuan(YUAN(100_000))} voucher. Only the parties to a voucher may read it, so ${tier2.name.en} fetches the voucher's proof bundle and hands it to the bank with the pledge it has signed.`,
      ),
    );
    const bundle = await tier2.client.proof(oneHundred!);
    const requestA = this.#pledgeRequest(voucherPledge({ ledger, voucherId: oneHundred!, bank: bankA.id, loanRef: loanA }), tier2, bundle);
    mark(
      green('✓'),
      bi(
        `${tier2.name.zh}签署质押申请（两个签名中的第一个），贷款编号 ${loanA}`,
        `${tier2.name.en} signs the pledge request (signature 1 of 2), loan ${loanA}`,
      ),
    );
    tell(
      bi(
        `${bankA.name.zh}自己核验证明包，不问服务器，只信任运营方公布的账本编号 ${short(ledger)}：`,
        `${bankA.name.en} checks the bundle itself, without asking the server, trusting only the ledger id ${short(ledger)} that the operator published:`,
      ),
    );
    const reviewA = reviewPledgeRequest(requestA, { bank: bankA.id, ledgerId: ledger, nowMs: Date.now() });
    if (!reviewA.ok) {
      return fail(`${bankA.name.en}'s review of the pledge request failed: ${reviewA.code}: ${reviewA.detail}`);
    }
    const v = reviewA.verdict;
    const history = bundle.entries.flatMap(({ entry }) => {
      const type = (entry.op.payload as { readonly type?: unknown }).type;
      return isVoucherStep(type) ? [{ seq: entry.seq, words: STEP_WORDS[type], payload: entry.op.payload as Record<string, unknown> }] : [];
    });
    const issuance = history[0];
    const backedBy = issuance?.payload.invoiceIds;
    const wrong: string[] = [];
    if (v.voucherId !== oneHundred || v.amount !== YUAN(100_000).toString() || v.holder !== tier2.id)
      wrong.push(`voucher ${v.voucherId} ${v.amount} held by ${v.holder}`);
    if (v.status !== 'active' || v.pledge !== null) wrong.push(`status ${v.status}`);
    if (v.issuer !== core.id) wrong.push(`issuer ${v.issuer}`);
    if (v.path.join(' ') !== [root, fourHundred, oneHundred].join(' ')) wrong.push(`path ${v.path.join(' → ')}`);
    if (issuance?.payload.type !== 'voucher.issue' || issuance.seq !== issued.seq)
      wrong.push(`the history starts at ${issuance ? `entry #${issuance.seq}` : 'nothing'}`);
    if (JSON.stringify(backedBy) !== JSON.stringify(invoices)) wrong.push(`invoices ${JSON.stringify(backedBy)}`);
    if (wrong.length > 0) fail(`the verified bundle says ${wrong.join(', ')}, not what the story wrote`);
    const asOf = asOfOf(reviewA.report, v.checkpointSize);
    const asOfWords = bi(`截至记录 #${asOf.seq}${asOf.time ? `，${asOf.time}` : ''}`, `as of entry #${asOf.seq}${asOf.time ? `, ${asOf.time}` : ''}`);
    const checked: Bi[] = [
      bi(`出自运营方公布的那本账（账本编号 ${short(ledger)}）`, `It comes from the ledger the operator published (ledger id ${short(ledger)})`),
      bi(
        `历史一直追溯到签发：${history.map((h) => `${h.words.zh} #${h.seq}`).join(' → ')}`,
        `Its history goes back to issuance: ${history.map((h) => `${h.words.en} #${h.seq}`).join(' → ')}`,
      ),
      bi(
        `由${this.name(v.issuer).zh}凭发票 ${invoices.join('、')} 签发，${v.dueDate} 到期`,
        `${this.name(v.issuer).en} issued it against invoices ${invoices.join(' and ')}, due ${v.dueDate}`,
      ),
      bi('它列出的每一步都有办事机构自己的签名，没有任何改动', 'Every step it shows is signed by the firm that took it, and none was edited'),
      bi(
        `这些记录给出的状态：${yuan(v.amount)}，${this.name(v.holder).zh}持有（${asOfWords.zh}）`,
        `The state these entries give: ${yuan(v.amount)}, held by ${this.name(v.holder).en} (${asOfWords.en})`,
      ),
      bi(
        '这些记录中没有质押；现在是否已被质押，提交时由账本判断',
        'These entries show no pledge on it; whether it is pledged now, the ledger decides when the pledge is submitted',
      ),
      bi(`质押申请确由持有人${this.name(reviewA.holder).zh}签署`, `The pledge request is signed by its holder, ${this.name(reviewA.holder).en}`),
    ];
    for (const c of checked) mark(green('✓'), c);
    say(`    ${dim(`（${reviewA.report.checks.length} 项技术检查全部通过 · all ${reviewA.report.checks.length} technical checks passed）`)}`);

    const cosigned = addSignature(requestA.envelope, bankA.key);
    if (opIdOf(cosigned.payload) !== opIdOf(requestA.envelope.payload)) fail('co-signing changed the operation');
    mark(
      green('✓'),
      bi(
        `${bankA.name.zh}会签质押（两个签名中的第二个），账本接受后才放款`,
        `${bankA.name.en} co-signs the pledge (signature 2 of 2), and will lend once the ledger accepts it`,
      ),
    );
    const pledgeR = await this.#submit(
      bankA.client,
      cosigned,
      bi(`${yuan(YUAN(100_000))} 质押给${bankA.name.zh}，贷款编号 ${loanA}`, `${yuan(YUAN(100_000))} pledged to ${bankA.name.en}, loan ${loanA}`),
    );
    this.#expect(pledgeR.effects.vouchers, oneHundred!, { status: 'pledged', holder: tier2.id, bank: bankA.id });
    mark(
      '→',
      bi(
        `账本已接受质押，${bankA.name.zh}放款。到期时这笔钱付给银行。`,
        `The ledger accepted the pledge, so ${bankA.name.en} lends. At maturity this money is paid to the bank.`,
      ),
    );

    // 4. A second bank, shown the copy fetched before the pledge: refused by the ledger.
    this.#header(4, bi('另一家银行想用同一笔钱放款：被拒绝', 'A second bank tries to lend against the same money: refused'));
    tell(
      bi(
        `${tier2.name.zh}拿同一张凭证再向${bankB.name.zh}借款，出示的是质押之前取来的那份证明包。`,
        `${tier2.name.en} asks ${bankB.name.en} for a loan against the same voucher, showing the proof bundle it fetched before the pledge.`,
      ),
    );
    const loanB = `CMB-SZ-LN-0077${suffix}`;
    const requestB = this.#pledgeRequest(voucherPledge({ ledger, voucherId: oneHundred!, bank: bankB.id, loanRef: loanB }), tier2, bundle);
    const reviewB = reviewPledgeRequest(requestB, { bank: bankB.id, ledgerId: ledger, nowMs: Date.now() });
    if (!reviewB.ok) return fail(`${bankB.name.en}'s review of the old bundle failed: ${reviewB.code}: ${reviewB.detail}`);
    const asOfB = asOfOf(reviewB.report, reviewB.verdict.checkpointSize);
    mark(
      green('✓'),
      bi(
        `${bankB.name.zh}核验证明包：其中的记录属实，但它们只给出截至记录 #${asOfB.seq} 的状态，那时还没有质押`,
        `${bankB.name.en} checks the bundle: its entries are genuine, but they give the voucher's state as of entry #${asOfB.seq}, before the pledge`,
      ),
    );
    const refusal = await this.#refused(
      bankB.client,
      addSignature(requestB.envelope, bankB.key),
      bi(`${bankB.name.zh}会签并提交同一笔 ${yuan(YUAN(100_000))} 的质押`, `${bankB.name.en} co-signs and submits a pledge of the same ${yuan(YUAN(100_000))}`),
      'VOUCHER_PLEDGED',
    );
    // Said only when true: the refusal's detail names neither the first bank nor its loan.
    const firstLoan = [bankA.id, bankA.name.zh, bankA.name.en, loanA];
    if (!firstLoan.some((n) => refusal.detail.includes(n))) {
      mark(' ', bi('拒绝时不透露是哪家银行、贷了多少。', 'The refusal does not say which bank lent, or how much.'));
    }
    const still = await bankA.client.voucher(oneHundred!);
    this.#expect([still], oneHundred!, { status: 'pledged', bank: bankA.id });
    mark(green('✓'), bi(`${bankA.name.zh}的质押不受影响，账本没有写入任何内容`, `${bankA.name.en}'s pledge is untouched; nothing was written`));
    mark(
      '→',
      bi(
        '离线核验只看得到证明包里的记录，看不到之后的或被略去的；质押提交时由账本作最终判断，同一笔钱不能借两次。',
        'An offline check sees only the entries in its bundle, not those after it or left out of it; the ledger has the last word when the pledge is submitted, so the same money cannot secure two loans.',
      ),
    );

    // 5. A reused invoice.
    this.#header(5, bi('同一张发票再开一张凭证：被拒绝', 'An invoice is reused for a second voucher: refused'));
    tell(
      bi(
        `有人想用已经用过的发票 ${invoices[1]} 再开一张凭证，让同一批货融资两次。`,
        `Someone tries to use invoice ${invoices[1]} again, for a new voucher: the same delivery financed twice.`,
      ),
    );
    const dupInvoices = [invoices[1]!, `GZM-INV-0420${suffix}`];
    const again = voucherIssue({
      ledger,
      issuer: core.id,
      to: tier1.id,
      amount: YUAN(250_000),
      currency: info.currency,
      dueDate: due,
      invoiceIds: dupInvoices,
    });
    await this.#refused(
      core.client,
      signEnvelope(again, [core.key]),
      bi(
        `${core.name.zh}凭发票 ${dupInvoices.join('、')} 向${tier1.name.zh}签发 ${yuan(YUAN(250_000))}`,
        `${core.name.en} issues ${yuan(YUAN(250_000))} to ${tier1.name.en} against invoices ${dupInvoices.join(' and ')}`,
      ),
      'INVOICE_ALREADY_USED',
    );
    mark('→', bi('没有哪家银行会看到同一批货被拿来融资两次。', 'No bank is shown the same delivery twice.'));

    // 6. Settlement.
    this.#header(
      6,
      bi(
        `${core.name.zh}到期兑付：质押的部分付给银行，其余付给持有人`,
        `At maturity ${core.name.en} pays: the pledged part to the bank, the rest to the holders`,
      ),
    );
    tell(
      bi('（账本允许在到期日或之前付款；演示不必等 90 天。）', '(The ledger lets the issuer pay on or before the due date; the demo does not wait 90 days.)'),
    );
    const outstanding: WireVoucher[] = [];
    for await (const o of core.client.vouchersOf(core.id, { status: ['active', 'pledged'] })) outstanding.push(o);
    const owed = outstanding.reduce((sum, o) => sum + BigInt(o.amount), 0n);
    mark(
      ' ',
      bi(`${core.name.zh}查出尚未兑付的凭证 ${outstanding.length} 张：`, `${core.name.en} looks up what it still owes: ${outstanding.length} vouchers`),
    );
    this.#showVouchers(outstanding, {
      amount: owed,
      note: bi('正是原凭证的金额：拆分和转让没有凭空多出钱', 'the original voucher, no more: splitting and passing it on created no money'),
    });
    if (outstanding.length !== 3 || owed !== YUAN(1_000_000)) {
      fail(`expected 3 outstanding vouchers totalling ${yuan(YUAN(1_000_000))}, found ${outstanding.length} totalling ${yuan(owed)}`);
    }
    const paid = new Map<string, bigint>();
    let payment = 0;
    for (const o of outstanding) {
      const ref = `GZM-PAY-${String(++payment).padStart(4, '0')}${suffix}`;
      const payee = o.status === 'pledged' ? o.pledge!.bank : o.holder;
      const r = await this.#submit(
        core.client,
        signEnvelope(voucherSettle({ ledger, voucherId: o.id, paymentRef: ref }), [core.key]),
        bi(`${core.name.zh}支付 ${yuan(o.amount)}，付款编号 ${ref}`, `${core.name.en} pays ${yuan(o.amount)}, payment ${ref}`),
      );
      this.#expect(r.effects.vouchers, o.id, { status: 'settled', payee });
      paid.set(payee, (paid.get(payee) ?? 0n) + BigInt(o.amount));
      if (o.status === 'pledged') {
        mark(
          '→',
          bi(
            `付给${this.name(payee).zh}：这部分已质押，钱付给银行，不付给${this.name(o.holder).zh}`,
            `Paid to ${this.name(payee).en}: this part is pledged, so the money goes to the bank, not to ${this.name(o.holder).en}`,
          ),
        );
      } else {
        mark('→', bi(`付给持有人${this.name(payee).zh}`, `Paid to its holder, ${this.name(payee).en}`));
      }
    }
    if (paid.get(bankA.id) !== YUAN(100_000) || paid.get(tier1.id) !== YUAN(900_000)) {
      fail(`settlement paid ${[...paid].map(([p, a]) => `${p} ${yuan(a)}`).join(', ')}`);
    }
    mark(
      ' ',
      bi(
        `合计：${[...paid].map(([p, a]) => `${this.name(p).zh} ${yuan(a)}`).join('，')}。`,
        `In all: ${[...paid].map(([p, a]) => `${yuan(a)} to ${this.name(p).en}`).join(', ')}.`,
      ),
    );

    // 7. A tampered bundle.
    this.#header(7, bi('篡改过的证明包被识破', 'A tampered bundle is caught'));
    const inflated = YUAN(1_000_000);
    tell(
      bi(
        `有人把${bankA.name.zh}核验过的那份证明包里的金额从 ${yuan(v.amount)} 改成 ${yuan(inflated)}，想借到更多的钱。`,
        `Someone edits the amount in the bundle ${bankA.name.en} checked, from ${yuan(v.amount)} to ${yuan(inflated)}, to borrow more.`,
      ),
    );
    const forged = structuredClone(bundle) as { -readonly [K in keyof ProofBundle]: ProofBundle[K] };
    forged.state = { ...forged.state, amount: inflated.toString() };
    const forgedReport = verifyBundle(forged, ledger, { voucherId: oneHundred! });
    const caught = forgedReport.firstFailure;
    if (forgedReport.ok || !caught) return fail(`a bundle edited to say ${yuan(inflated)} still verified`);
    const why = BUNDLE_WORDS[caught.code];
    mark(red('✗'), bi(`银行核验不通过：${why.zh}。`, `The bank's check fails: ${why.en}.`), caught.code);
    mark('→', bi('银行不会凭这份证明包放款。', 'The bank does not lend on this bundle.'));

    // 8. The audit.
    this.#header(8, bi('审计师核验整本账从未被改写', 'The auditor checks the whole ledger was never rewritten'));
    tell(
      bi(
        `${auditor.name.zh}读取全部记录，逐条核对前后衔接、签名和业务规则，再与账本节点签署的封签比对；它同样只信任运营方公布的账本编号。`,
        `${auditor.name.en} reads every entry, checks that each follows on from the one before, its signatures and the ledger's rules, and that together they match the seal the ledger's node signed. It too trusts only the ledger id the operator published.`,
      ),
    );
    const report = await audit(auditor.client, { ledgerId: ledger });
    if (!report.ok) {
      const f = report.firstFailure;
      return fail(`the auditor's check failed${f?.seq === undefined ? '' : ` at entry #${f.seq}`}: ${f?.code ?? '?'}: ${f?.detail ?? ''}`);
    }
    mark(
      green('✓'),
      bi(
        `全部 ${report.entriesChecked} 条记录、${report.signaturesChecked} 个签名核对无误，与封签一致：账本从未被改写`,
        `All ${report.entriesChecked} entries and ${report.signaturesChecked} signatures check out and match the seal: the ledger was never rewritten`,
      ),
    );

    // Summary.
    this.#step = 'the summary';
    const note = await op.checkpoint();
    const cp = verifyCheckpoint(note, { ledgerId: ledger, nodePublicKey: bundle.ledger.nodeKey });
    if (!cp.ok) return fail(`the service's latest checkpoint does not verify under the node key: ${cp.code}: ${cp.detail}`);
    if (this.ledger.fresh && cp.size !== this.#written + 1) {
      fail(`the checkpoint covers ${cp.size} entries, but this fresh ledger should hold genesis + ${this.#written}`);
    }
    say();
    say(bold('小结 · Summary'));
    const line = (t: Bi): void => say(`  ${t.zh} · ${t.en}`);
    line(
      bi(
        `本次写入 ${this.#written} 条记录；${this.#refusals} 次尝试被拒绝，被拒绝的不写入`,
        `${this.#written} entries written; ${this.#refusals} attempts refused, and a refusal writes nothing`,
      ),
    );
    line(
      bi(
        '银行放款前核验了凭证；同一笔钱第二次质押被拒；重复使用的发票被拒',
        'the bank checked before it lent; the same money pledged twice, refused; a reused invoice, refused',
      ),
    );
    line(
      bi(
        `兑付 ${yuan(owed)}，其中 ${yuan(YUAN(100_000))} 付给质权银行${bankA.name.zh}`,
        `${yuan(owed)} paid, ${yuan(YUAN(100_000))} of it to ${bankA.name.en}, which holds the pledge`,
      ),
    );
    line(
      bi(
        `篡改的证明包被识破；审计核对全部 ${report.entriesChecked} 条记录无误`,
        `the tampered bundle was caught; the audit found all ${report.entriesChecked} entries sound`,
      ),
    );
  }

  /** The pledge request the holder hands a bank: its half-signed pledge and the voucher's proof bundle. */
  #pledgeRequest(payload: PledgePayload, holder: Actor, proof: ProofBundle): PledgeRequestFile {
    return {
      format: PLEDGE_REQUEST_FORMAT,
      summary: [`${holder.name.en} pledges ${payload.voucherId} to ${payload.bank}, loan ${payload.loanRef}`],
      envelope: signEnvelope(payload, [holder.key]),
      proof,
    };
  }
}

/** "this money …" → "This money …". */
const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

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
      ledger = { baseUrl: opts.url.replace(/\/+$/, ''), operator, suffix, fresh: false, where: [`服务 service       ${opts.url} (already running)`] };
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
        where: [`服务 service       ${running.url} (started in this process, on a fresh ledger)`, `数据 data dir      ${dir}  (temporary; removed at the end)`],
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
    if (done.length > 0) say(dim(`已清理 · Cleaned up: ${done.join(', ')}.`));
  } catch (err) {
    process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
    status = status === 0 ? 1 : status;
  }
  if (status === 0) say(bold(green('演示按剧情完成 · The story went as told.')));
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
