/**
 * A proof bundle's report (`verifyBundle`, computed in this browser): each check passing or
 * failing, the first failure with its code, and on success what the bundle proves.
 */
import type { BundleReport } from '../../src/client/index.js';
import { BUNDLE_TEXT } from './explain.js';
import { Checks, Money, Status } from './ui.js';

export const BundleResult = ({ report, ledgerId }: { report: BundleReport; ledgerId: string }) => {
  const f = report.firstFailure;
  const v = report.verdict;
  return (
    <div class={`verdict ${report.ok ? 'verdict-ok' : 'verdict-fail'}`} data-testid="bundle-report" data-ok={String(report.ok)}>
      <div class="verdict-head">
        <span class="verdict-mark" aria-hidden="true">
          {report.ok ? '✓' : '✗'}
        </span>
        {report.ok ? (
          <span>
            Genuine: every check passed in this browser, trusting only the ledger id <code>{ledgerId.slice(0, 16)}…</code>
          </span>
        ) : (
          <span>
            Not proven: <strong data-testid="bundle-failure-code">{f?.code}</strong> — {f ? BUNDLE_TEXT[f.code] : ''}
          </span>
        )}
      </div>
      {f ? (
        <p class="problem-detail">
          At the “{f.check}” check{f.seq === undefined ? '' : `, entry #${f.seq}`}
          {f.signer ? `, signer ${f.signer}` : ''}: {f.detail}
        </p>
      ) : null}
      {v ? (
        <dl class="facts">
          <dt>Voucher</dt>
          <dd>
            <code>{v.voucherId}</code>
          </dd>
          <dt>Amount</dt>
          <dd>
            <Money fen={v.amount} /> {v.currency}
          </dd>
          <dt>Status</dt>
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
            size {v.checkpointSize}, root <code>{v.checkpointRoot.slice(0, 16)}…</code>
          </dd>
        </dl>
      ) : null}
      <Checks checks={report.checks} />
      {report.ok ? (
        <p class="muted small">
          A bundle cannot show entries left out after its checkpoint; insist on a recent checkpoint. The ledger itself refuses to pledge a voucher twice.
        </p>
      ) : null}
    </div>
  );
};
