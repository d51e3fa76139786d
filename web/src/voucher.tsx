/**
 * The voucher page: its facts and pledge status, the ops the signed-in party can take, the split
 * tree as a picture, the history as a timeline with who signed each step, and "verify", which
 * fetches the §9 proof bundle and checks it in this browser.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';

import { verifyBundle, type BundleReport, type HashedEntry, type ProofBundle, type TreeNode, type WireVoucher } from '../../src/client/index.js';
import { ACTION_LABEL, actionsFor, ActionDialog, type ActionKind } from './actions.js';
import { describeEntry } from './describe.js';
import { toShown, type Shown } from './explain.js';
import { ledgerInfo, loadParties, parties, session, setTrustedLedgerId, trustedLedgerId, use } from './state.js';
import { SplitTree, TreeLegend } from './tree.js';
import { PATTERNS } from '../../src/domain/limits.js';
import { Download, Field, fileNameFor, Link, Money, Party, ProblemBox, shortTime, Spinner, Status } from './ui.js';
import { BundleResult, type Current, type TrustSource } from './verdict.js';

/** The sentences of this page that are new in both languages (the rest waits for the zh catalog). */
const TEXT = {
  trustedLabel: '你信任的账本 ID（可选） Ledger id you trust (optional)',
  trustedHint:
    '运营方在本系统之外公布的 ID（公告、合同）；留空则使用此服务器给出的 ID。 The id your operator published outside this system (a notice, the contract). Left empty, Verify uses the id this server gives, which only shows the server agrees with itself.',
  badId: (n: number) => `账本 ID 为 64 个十六进制字符 a ledger id is 64 hexadecimal characters (${n} now)`,
  differs: (server: string) =>
    `⚠ 此服务器的账本 ID 不同 This server’s ledger id (${server.slice(0, 16)}…) is not the one you entered: it is not the ledger you trust.`,
};

const Timeline = ({ entries, focus }: { entries: readonly HashedEntry[]; focus: string }) => {
  const names = use(parties);
  return (
    <ol class="timeline" data-testid="timeline">
      {entries.map((item) => {
        const d = describeEntry(item);
        const p = item.entry.op.payload as { voucherId?: string };
        return (
          <li class={`timeline-item ${p.voucherId === focus ? 'timeline-focus' : ''}`} data-op={d.type} data-seq={item.entry.seq}>
            <div class="timeline-dot" aria-hidden="true" />
            <div class="timeline-body">
              <div class="timeline-head">
                <span class="timeline-type">{d.type}</span>
                <span class="muted">
                  #{item.entry.seq} · {shortTime(item.entry.time)}
                </span>
              </div>
              <div class="timeline-text">{d.text}</div>
              <div class="timeline-signers">
                {d.signers.map((s) => (
                  <span class="signer" title={names?.find((x) => x.id === s)?.name ?? s}>
                    ✍ signed by {s}
                  </span>
                ))}
              </div>
            </div>
          </li>
        );
      })}
    </ol>
  );
};

const PledgeStatus = ({ v }: { v: WireVoucher }) => {
  if (v.pledge) {
    return (
      <div class="pledge pledge-on" data-testid="pledge-status">
        <strong>Pledged</strong> to <Party id={v.pledge.bank} /> for loan <code>{v.pledge.loanRef}</code> since {shortTime(v.pledge.since)}. It cannot be
        pledged again, split or transferred until the bank releases it; at maturity it is paid to the bank.
      </div>
    );
  }
  if (v.settlement) {
    return (
      <div class="pledge pledge-paid" data-testid="pledge-status">
        <strong>Settled</strong>: paid to <Party id={v.settlement.payee} /> ({v.settlement.paymentRef}) at {shortTime(v.settlement.at)}.
      </div>
    );
  }
  return (
    <div class="pledge pledge-off" data-testid="pledge-status">
      <strong>Not pledged.</strong> {v.status === 'active' ? 'Its holder may pledge it to a bank.' : ''}
    </div>
  );
};

export const VoucherPage = ({ id }: { id: string }) => {
  const s = use(session);
  const [voucher, setVoucher] = useState<WireVoucher | undefined>(undefined);
  const [tree, setTree] = useState<TreeNode | undefined>(undefined);
  const [history, setHistory] = useState<readonly HashedEntry[] | undefined>(undefined);
  const [problem, setProblem] = useState<Shown | undefined>(undefined);
  const [action, setAction] = useState<ActionKind | undefined>(undefined);
  const [verifying, setVerifying] = useState(false);
  const [report, setReport] = useState<{ report: BundleReport; bundle: ProofBundle; ledgerId: string; trust: TrustSource; current: Current } | undefined>(
    undefined,
  );
  const [trusted, setTrusted] = useState(trustedLedgerId);
  const [verifyProblem, setVerifyProblem] = useState<Shown | undefined>(undefined);

  const load = useCallback(async () => {
    if (!s) return;
    try {
      const [v, t, h] = await Promise.all([s.client.voucher(id), s.client.tree(id), s.client.history(id)]);
      setVoucher(v);
      setTree(t);
      setHistory(h);
      setProblem(undefined);
      if (parties.value === undefined) void loadParties().catch(() => undefined);
    } catch (err) {
      setProblem(toShown(err));
    }
  }, [s, id]);

  useEffect(() => {
    setVoucher(undefined);
    setReport(undefined);
    setVerifyProblem(undefined);
    void load();
  }, [load]);

  const verify = async () => {
    if (!s) return;
    setVerifying(true);
    setReport(undefined);
    setVerifyProblem(undefined);
    try {
      // The current state is read with the bundle, to say whether the voucher changed in between.
      const [bundle, now, nowHistory] = await Promise.all([s.client.proof(id), s.client.voucher(id), s.client.history(id)]);
      const readAt = new Date().toISOString();
      // Let the browser paint "Verifying…" before the checks take the main thread.
      await new Promise((r) => setTimeout(r, 0));
      const entered = trusted.trim().toLowerCase();
      const trust: TrustSource = entered.length > 0 ? 'entered' : 'server';
      const ledgerId = trust === 'entered' ? entered : ledgerInfo().ledgerId;
      setTrustedLedgerId(entered);
      const current: Current = ledgerId === ledgerInfo().ledgerId ? { kind: 'read', voucher: now, history: nowHistory, readAt } : { kind: 'other-ledger' };
      setReport({ report: verifyBundle(bundle, ledgerId, { voucherId: id }), bundle, ledgerId, trust, current });
    } catch (err) {
      setVerifyProblem(toShown(err));
    } finally {
      setVerifying(false);
    }
  };

  if (!s) return null;
  if (problem) {
    return (
      <section class="page">
        <h1>Voucher</h1>
        <p>
          <code>{id}</code>
        </p>
        <ProblemBox problem={problem} title="Could not read the voucher" />
      </section>
    );
  }
  if (!voucher || !tree || !history) return <Spinner label="Reading the voucher…" />;
  const v = voucher;
  const actions = actionsFor(v, s.key.party);
  const enteredId = trusted.trim().toLowerCase();
  const trustedError = enteredId.length > 0 && !PATTERNS.hash.test(enteredId) ? TEXT.badId(enteredId.length) : undefined;
  const serverId = ledgerInfo().ledgerId;
  return (
    <section class="page">
      <div class="page-head">
        <div>
          <h1>
            Voucher <Money fen={v.amount} currency={v.currency} /> <Status status={v.status} />
          </h1>
          <p>
            <code class="full-id" data-testid="voucher-id">
              {v.id}
            </code>
          </p>
        </div>
        <div class="actions">
          {actions.map((a) => (
            <button type="button" class={a === 'reject' || a === 'cancel' ? 'button button-secondary' : 'button'} data-action={a} onClick={() => setAction(a)}>
              {ACTION_LABEL[a]}
            </button>
          ))}
        </div>
      </div>
      <div class="columns">
        <div class="card">
          <h2>Facts</h2>
          <dl class="facts">
            <dt>Issuer</dt>
            <dd>
              <Party id={v.issuer} />
            </dd>
            <dt>Holder</dt>
            <dd>
              <Party id={v.holder} />
            </dd>
            {v.offeredTo ? (
              <>
                <dt>Offered to</dt>
                <dd>
                  <Party id={v.offeredTo} />
                </dd>
              </>
            ) : null}
            <dt>Amount</dt>
            <dd>
              <Money fen={v.amount} currency={v.currency} /> {v.currency}
            </dd>
            <dt>Units</dt>
            <dd>
              {v.range.start} – {v.range.end} of root <code>{v.rootId}</code>
            </dd>
            <dt>Due</dt>
            <dd>{v.dueDate}</dd>
            <dt>Invoices</dt>
            <dd>{v.invoiceIds.join(', ')}</dd>
          </dl>
          <PledgeStatus v={v} />
        </div>
        <div class="card">
          <h2>Is it genuine?</h2>
          <p class="muted">
            Fetches the voucher’s proof bundle and checks it here, in your browser: genesis against the ledger id, the node’s signed checkpoint, every entry’s
            hash and inclusion, every signature, and a replay of the history under the rules, trusting only the ledger id below. A bundle can also be checked on
            its own with <Link href="/bank-check">Bank check</Link>.
          </p>
          <Field label={TEXT.trustedLabel} id="trusted-ledger-id" error={trustedError} hint={TEXT.trustedHint}>
            <input
              id="trusted-ledger-id"
              value={trusted}
              spellcheck={false}
              autocomplete="off"
              data-testid="trusted-ledger-id-input"
              onInput={(e) => setTrusted(e.currentTarget.value)}
            />
          </Field>
          {enteredId.length > 0 && !trustedError && enteredId !== serverId ? (
            <p class="field-error" role="alert" data-testid="ledger-id-differs">
              {TEXT.differs(serverId)}
            </p>
          ) : null}
          <div class="actions actions-left">
            <button type="button" class="button" onClick={() => void verify()} disabled={verifying || trustedError !== undefined} data-testid="verify">
              {verifying ? 'Verifying…' : 'Verify'}
            </button>
            {report ? (
              <Download text={`${JSON.stringify(report.bundle, null, 2)}\n`} name={fileNameFor('proof', v.id)} testId="download-proof">
                Download the proof bundle
              </Download>
            ) : null}
          </div>
          {verifyProblem ? <ProblemBox problem={verifyProblem} title="Could not fetch the proof" /> : null}
          {report ? (
            <BundleResult report={report.report} ledgerId={report.ledgerId} trust={report.trust} bundle={report.bundle} current={report.current} />
          ) : null}
        </div>
      </div>
      <div class="card" data-testid="tree-card">
        <h2>Split tree</h2>
        <TreeLegend />
        <SplitTree root={tree} current={v.id} />
      </div>
      <div class="card" data-testid="history-card">
        <h2>History</h2>
        <p class="muted">Every entry of this voucher and its ancestors, oldest first, with the parties who signed it.</p>
        <Timeline entries={history} focus={v.id} />
      </div>
      {action ? <ActionDialog kind={action} voucher={v} onClose={() => setAction(undefined)} onDone={() => void load()} /> : null}
    </section>
  );
};
