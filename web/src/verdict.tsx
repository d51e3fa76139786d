/**
 * A proof bundle's report (`verifyBundle`, computed in this browser): each check passing or
 * failing, the first failure with its code, and on success exactly what the bundle proves — its
 * entries are in the log (under a checkpoint the node signed) and this is the state they give, as
 * of the newest of them — and what it does not: that nothing changed since (a bundle cannot show
 * an entry left out of it). Where the console can read the ledger, it says whether the voucher has
 * changed since (and how).
 *
 * It also says which ledger id the check trusted and where that id came from: the operator gives
 * it out of band (published, printed in a contract); an id taken from the server being checked
 * proves only that the server is consistent with itself.
 */
import { compareWithCurrent, type BundleAsOf, type BundleReport, type HashedEntry, type VoucherChange, type WireVoucher } from '../../src/client/index.js';
import { describeEntry } from './describe.js';
import { BUNDLE_TEXT, type Shown } from './explain.js';
import { Checks, Money, ProblemBox, shortTime, Status, money } from './ui.js';

type AsOf = BundleAsOf;

/** Where the ledger id a check trusted came from. */
export type TrustSource = 'entered' | 'server';

/** What the console learnt of the voucher's current state, to compare with the bundle's. */
export type Current =
  | { readonly kind: 'signed-out' }
  | { readonly kind: 'other-ledger' }
  | { readonly kind: 'loading' }
  | { readonly kind: 'failed'; readonly problem: Shown }
  | { readonly kind: 'read'; readonly voucher: WireVoucher; readonly history: readonly HashedEntry[]; readonly readAt: string };

/** The sentences of this view that are new in both languages (the rest waits for the zh catalog). */
const TEXT = {
  asOf: (a: AsOf) =>
    `这些记录确在账本中（在节点签名的 ${a.treeSize} 条记录的检查点之下），这是它们给出的状态，截至第 ${a.seq} 条记录（${shortTime(a.time)}）。 ` +
    `These entries are in the log (under the checkpoint of ${a.treeSize} entries the node signed), and this is the state they give, as of entry #${a.seq}, ${shortTime(a.time)}.`,
  notProof:
    '这不能证明此后没有变化：证明包无法显示被略去的记录（例如之后的质押），检查点再新也一样。质押以账本在提交时的判断为准：已质押的凭证会被拒绝（VOUCHER_PLEDGED）。 ' +
    'Not proof that nothing changed since: a bundle cannot show an entry left out of it (a later pledge, say), however new its checkpoint. For a pledge, rely on the ledger’s refusal when it is submitted: it refuses a voucher already pledged (VOUCHER_PLEDGED).',
  trusted: '核对所用账本 ID checked against ledger id',
  trustEntered: '（你输入的） (you entered it)',
  trustServer: '（取自此服务器——请与运营方公布的 ID 核对） (taken from this server — compare it with the id your operator published)',
  unchanged: (at: string) =>
    `此后未变：账本中该凭证的当前状态与证明包一致（${shortTime(at)} 查询）。 Unchanged since: the ledger’s current state of this voucher is the same (read ${shortTime(at)}).`,
  changed: '此后已变更 Changed since the bundle:',
  now: (v: WireVoucher) => `现在 now: ${currentStateText(v)}`,
  since: '自此之后 since then:',
  statusAsOf: (seq: number) => `Status at #${seq}`,
  signedOut:
    '登录后可与账本当前状态比较。 Sign in to compare it with the voucher’s current state on the ledger; until then this is only the state the bundle’s entries give, as of the entry above.',
  otherLedger: '此服务器不是该账本，无法比较当前状态。 This server serves another ledger, so the console cannot compare with the current state.',
  loading: '正在读取当前状态… Reading the current state…',
  failed: '无法读取当前状态 Could not read the current state',
  inconsistent:
    '此服务器给出的当前状态与证明包不符（更旧或相互矛盾），不要依赖它。 This server’s current state cannot follow the bundle’s (it is older, or differs under the same entry): do not rely on this server’s answer.',
};

/** The voucher's status in a short sentence, naming who holds or was paid. */
const currentStateText = (v: WireVoucher): string => {
  if (v.status === 'settled') return `settled, paid to ${v.settlement?.payee ?? '?'} (${v.settlement?.paymentRef ?? '?'})`;
  if (v.status === 'pledged') return `pledged to ${v.pledge?.bank ?? '?'} (loan ${v.pledge?.loanRef ?? '?'})`;
  if (v.status === 'offered') return `offered by ${v.holder} to ${v.offeredTo ?? '?'}`;
  if (v.status === 'split') return `split into parts (${money(v.amount, v.currency)} in all)`;
  if (v.status === 'cancelled') return 'cancelled';
  return `active, held by ${v.holder}`;
};

/** One change since the bundle, in words. */
const CHANGE_TEXT = (c: VoucherChange): string => {
  switch (c.kind) {
    case 'status':
      return `status ${c.from} → ${c.to}`;
    case 'holder':
      return `now held by ${c.to} (was ${c.from})`;
    case 'offer':
      return c.to === null ? 'the open offer was withdrawn or answered' : `offered to ${c.to}`;
    case 'pledgeGained':
      return `pledged to ${c.pledge.bank} (loan ${c.pledge.loanRef})`;
    case 'pledgeLost':
      return `no longer pledged to ${c.pledge.bank}`;
    case 'settled':
      return `settled, paid to ${c.settlement.payee} (${c.settlement.paymentRef})`;
    case 'split':
      return 'split into parts (see the split tree)';
    case 'other':
      return `changed: ${c.fields.join(', ')}`;
  }
};

const FreshnessNote = ({ state, asOf, current }: { state: WireVoucher; asOf: AsOf; current: Current }) => {
  if (current.kind === 'signed-out')
    return (
      <p class="freshness freshness-unknown" data-testid="bundle-freshness" data-fresh="unknown">
        {TEXT.signedOut}
      </p>
    );
  if (current.kind === 'other-ledger')
    return (
      <p class="freshness freshness-unknown" data-testid="bundle-freshness" data-fresh="unknown">
        {TEXT.otherLedger}
      </p>
    );
  if (current.kind === 'loading')
    return (
      <p class="freshness freshness-unknown" data-testid="bundle-freshness" data-fresh="loading">
        {TEXT.loading}
      </p>
    );
  if (current.kind === 'failed')
    return (
      <div data-testid="bundle-freshness" data-fresh="unknown">
        <ProblemBox problem={current.problem} title={TEXT.failed} />
      </div>
    );
  const now = current.voucher;
  const f = compareWithCurrent(state, now);
  if (f.kind === 'inconsistent')
    return (
      <p class="freshness freshness-changed" role="alert" data-testid="bundle-freshness" data-fresh="inconsistent">
        ⚠ {TEXT.inconsistent}
      </p>
    );
  if (f.kind === 'unchanged')
    return (
      <p class="freshness freshness-same" data-testid="bundle-freshness" data-fresh="unchanged">
        ✓ {TEXT.unchanged(current.readAt)}
      </p>
    );
  const later = current.history.filter((e) => e.entry.seq > asOf.seq);
  return (
    <div class="freshness freshness-changed" role="alert" data-testid="bundle-freshness" data-fresh="changed">
      <p>
        <strong>⚠ {TEXT.changed}</strong> {f.changes.length > 0 ? f.changes.map(CHANGE_TEXT).join('; ') : TEXT.now(now)}
      </p>
      {later.length > 0 ? (
        <>
          <p>{TEXT.since}</p>
          <ul>
            {later.map((e) => (
              <li data-since-seq={e.entry.seq}>
                #{e.entry.seq}, {shortTime(e.entry.time)}: {describeEntry(e).text}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
};

export const BundleResult = ({
  report,
  ledgerId,
  trust,
  bundle,
  current,
}: {
  report: BundleReport;
  ledgerId: string;
  trust: TrustSource;
  bundle: unknown;
  current: Current;
}) => {
  const f = report.firstFailure;
  const v = report.verdict;
  const asOf = report.asOf;
  const state = (bundle as { state?: WireVoucher }).state;
  return (
    <div class={`verdict ${report.ok ? 'verdict-ok' : 'verdict-fail'}`} data-testid="bundle-report" data-ok={String(report.ok)}>
      <div class="verdict-head">
        <span class="verdict-mark" aria-hidden="true">
          {report.ok ? '✓' : '✗'}
        </span>
        {report.ok ? (
          <span>Genuine entries: every check passed in this browser.</span>
        ) : (
          <span>
            Not proven: <strong data-testid="bundle-failure-code">{f?.code}</strong> — {f ? BUNDLE_TEXT[f.code] : ''}
          </span>
        )}
      </div>
      <p class="trusted-id" data-testid="trusted-ledger-id" data-trust-source={trust}>
        {TEXT.trusted} <code title={ledgerId}>{ledgerId.slice(0, 16)}…</code> {trust === 'entered' ? TEXT.trustEntered : TEXT.trustServer}
      </p>
      {f ? (
        <p class="problem-detail">
          At the “{f.check}” check{f.seq === undefined ? '' : `, entry #${f.seq}`}
          {f.signer ? `, signer ${f.signer}` : ''}: {f.detail}
        </p>
      ) : null}
      {v && asOf ? (
        <>
          <p class="as-of" data-testid="bundle-as-of" data-seq={asOf.seq}>
            {TEXT.asOf(asOf)}
          </p>
          <p class="as-of" data-testid="bundle-not-proof">
            {TEXT.notProof}
          </p>
        </>
      ) : null}
      {v && asOf && state ? <FreshnessNote state={state} asOf={asOf} current={current} /> : null}
      {v ? (
        <dl class="facts">
          <dt>Voucher</dt>
          <dd>
            <code>{v.voucherId}</code>
          </dd>
          <dt>Amount</dt>
          <dd>
            <Money fen={v.amount} currency={v.currency} /> {v.currency}
          </dd>
          <dt>{asOf ? TEXT.statusAsOf(asOf.seq) : 'Status'}</dt>
          <dd>
            <Status status={v.status} />
            {v.pledge ? ` to ${v.pledge.bank} (loan ${v.pledge.loanRef})` : ''}
            {v.settlement ? ` — paid to ${v.settlement.payee} (${v.settlement.paymentRef})` : ''}
          </dd>
          <dt>Issuer</dt>
          <dd>{v.issuer}</dd>
          <dt>Holder</dt>
          <dd>
            {v.holder}
            {v.offeredTo ? ` (offered to ${v.offeredTo})` : ''}
          </dd>
          <dt>Due</dt>
          <dd>{v.dueDate}</dd>
          <dt>Lineage</dt>
          <dd>
            {v.path.map((id, i) => (
              <span>
                {i > 0 ? ' → ' : ''}
                <code>{id.includes(':') ? id.slice(id.indexOf(':')) : id.slice(0, 9) + '…'}</code>
              </span>
            ))}
          </dd>
          <dt>Checkpoint</dt>
          <dd>
            size {v.checkpointSize}, root <code>{v.checkpointRoot.slice(0, 16)}…</code> (the entries are included in it)
          </dd>
        </dl>
      ) : null}
      <Checks checks={report.checks} />
    </div>
  );
};
