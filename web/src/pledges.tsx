/**
 * Pledges: a bank loads a pledge request file (from a holder's "Prepare a pledge" or
 * `rvl pledge prepare`), sees what it would sign — derived from the signed payload and from the
 * proof inside, verified in this browser against the ledger id, never from the file's summary —
 * co-signs it, and submits it (or downloads it co-signed). A holder can submit a co-signed file
 * too. The proof shows the state its entries give, as of its newest entry; it cannot show a pledge
 * made since or left out of it. So the review tells the bank that the ledger decides: a voucher
 * already pledged is refused VOUCHER_PLEDGED at submission, and the bank lends only once the
 * pledge entry is accepted (the receipt).
 */
import { useState } from 'preact/hooks';

import {
  addSignature,
  pledgeRequestFromJson,
  pledgeRequestText,
  reviewPledgeRequest,
  type PledgeRequestFile,
  type PledgeReview,
  type SubmitResult,
} from '../../src/client/index.js';
import { flash } from './actions.js';
import { pledgeReviewText, toShown, type Shown } from './explain.js';
import { ledgerInfo, navigate, refreshLedger, session, use, voucherPath } from './state.js';
import { Checks, Download, fileNameFor, FileDrop, Money, Notice, ProblemBox, shortTime, Status } from './ui.js';

/** What the bank relies on instead of the proof: the ledger's decision at submission. */
const DECIDED_BY_LEDGER =
  '证明包只显示其中记录给出的状态，不能证明凭证现在没有被质押（之后的质押或被略去的质押记录都不会显示）。质押提交时由账本判断：已质押的凭证会被拒绝（VOUCHER_PLEDGED）。' +
  '仅凭银行签名不构成放款决定：请在账本接受质押记录之后（见提交回执）再放款。 ' +
  'The proof shows the state its entries give; it cannot show that the voucher is not pledged now (a pledge made since, or left out of the proof, would not show). ' +
  'The ledger decides when the pledge is submitted: it refuses a pledge of a voucher already pledged (VOUCHER_PLEDGED). ' +
  'Your signature alone is not a loan decision: lend only once the ledger has accepted the pledge entry (see the receipt after submitting).';

const Review = ({ review }: { review: PledgeReview }) => {
  if (!review.ok) {
    return (
      <div class="verdict verdict-fail" data-testid="pledge-review" data-ok="false">
        <ProblemBox problem={{ code: review.code, text: pledgeReviewText(review.code), detail: review.detail, source: 'console' }} title="Do not co-sign" />
        {review.report ? <Checks checks={review.report.checks} /> : null}
      </div>
    );
  }
  const v = review.verdict;
  return (
    <div class="verdict verdict-ok" data-testid="pledge-review" data-ok="true">
      <div class="verdict-head">
        <span class="verdict-mark">✓</span>
        <span>The proof in the request verifies in this browser, and the holder’s signature checks out.</span>
      </div>
      <dl class="facts">
        <dt>Voucher</dt>
        <dd>
          <code>{v.voucherId}</code>
        </dd>
        <dt>Pledged amount</dt>
        <dd>
          <Money fen={review.amount} />{' '}
          {review.partial ? (
            <>
              — part of <Money fen={v.amount} currency={v.currency} />; the pledged part will be <code>{review.pledgedVoucherId}</code>
            </>
          ) : (
            '(the whole voucher)'
          )}
        </dd>
        <dt>Issuer</dt>
        <dd>{v.issuer}</dd>
        <dt>Holder</dt>
        <dd>{review.holder} (signature ✓)</dd>
        <dt>Status</dt>
        <dd>
          <Status status={v.status} /> in the proof, as of entry #{review.asOf.seq}, {shortTime(review.asOf.time)} (the state its entries give)
        </dd>
        <dt>Due</dt>
        <dd>{v.dueDate}</dd>
        <dt>Proof</dt>
        <dd>
          all {review.report.checks.length} checks pass: its entries are in the log, under the checkpoint of size {v.checkpointSize} the node signed
        </dd>
      </dl>
      <Notice kind="info">
        <span data-testid="pledge-decided-by-ledger">{DECIDED_BY_LEDGER}</span>
      </Notice>
    </div>
  );
};

export const Pledges = () => {
  const s = use(session);
  const [request, setRequest] = useState<PledgeRequestFile | undefined>(undefined);
  const [fileName, setFileName] = useState('');
  const [problem, setProblem] = useState<Shown | undefined>(undefined);
  const [review, setReview] = useState<PledgeReview | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [receipt, setReceipt] = useState<SubmitResult | undefined>(undefined);
  const [submitProblem, setSubmitProblem] = useState<Shown | undefined>(undefined);
  if (!s) return null;
  const me = s.key.party;
  const ledgerId = ledgerInfo().ledgerId;

  const load = (text: string, name: string) => {
    setProblem(undefined);
    setReview(undefined);
    setReceipt(undefined);
    setSubmitProblem(undefined);
    setFileName(name);
    try {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        value = undefined;
      }
      const r = pledgeRequestFromJson(value);
      setRequest(r);
      if (r.envelope.payload.bank === me) setReview(reviewPledgeRequest(r, { bank: me, ledgerId, nowMs: Date.now() }));
    } catch (err) {
      setRequest(undefined);
      setProblem(toShown(err));
    }
  };

  const p = request?.envelope.payload;
  const signers = request?.envelope.signatures.map((x) => x.signer) ?? [];
  const iAmBank = p?.bank === me;
  const bankSigned = p !== undefined && signers.includes(p.bank);
  const canCosign = iAmBank && review?.ok === true && !bankSigned;
  const canSubmit = p !== undefined && bankSigned && signers.length === 2;

  const cosign = () => {
    if (!request || !canCosign) return;
    const signed = addSignature(request.envelope, s.key);
    setRequest({
      ...request,
      summary: [...request.summary, `Co-signed by the bank ${me} at ${new Date().toISOString()} in the web console.`],
      envelope: signed,
    });
  };

  const submit = async () => {
    if (!request || !canSubmit) return;
    setBusy(true);
    setSubmitProblem(undefined);
    flash.set(undefined);
    try {
      const r = await s.client.submit(request.envelope);
      setReceipt(r);
      void refreshLedger();
      const pledged = r.effects.vouchers.find((v) => v.status === 'pledged');
      flash.set({
        text: (
          <span data-testid="receipt">
            Pledged {pledged ? <Money fen={pledged.amount} /> : null} of {pledged?.id ?? p?.voucherId} to {p?.bank} — entry #{r.seq}
            {r.duplicate ? ' (already on the ledger)' : ''}
          </span>
        ),
      });
    } catch (err) {
      setSubmitProblem(toShown(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="page">
      <h1>Pledges</h1>
      <p class="lead">
        A pledge is signed by the holder and by the bank. The holder prepares a request file from a voucher’s page (“Prepare a pledge”); the bank loads it here,
        checks it and co-signs; either of them submits it to the ledger.
      </p>
      <div class="card">
        <FileDrop label="Pledge request file" onText={load} testId="pledge-file" />
        {problem ? <ProblemBox problem={problem} title={`Cannot use ${fileName}`} /> : null}
      </div>
      {request && p ? (
        <div class="card" data-testid="pledge-request">
          <h2>
            Pledge of <code>{p.voucherId}</code> to {p.bank}
          </h2>
          <dl class="facts">
            <dt>Loan ref</dt>
            <dd>{p.loanRef}</dd>
            <dt>Bank</dt>
            <dd>{p.bank}</dd>
            <dt>Ledger</dt>
            <dd>
              <code>{p.ledger.slice(0, 16)}…</code> {p.ledger === ledgerId ? '(this ledger)' : '(another ledger!)'}
            </dd>
            <dt>Expires</dt>
            <dd>{p.expiresAt ? shortTime(p.expiresAt) : 'never'}</dd>
            <dt>Signed by</dt>
            <dd data-testid="pledge-signers">{signers.join(', ')}</dd>
          </dl>
          {review ? (
            <Review review={review} />
          ) : iAmBank ? null : (
            <Notice kind="info">
              This request names the bank {p.bank}; only {p.bank} can co-sign it.{bankSigned ? ' The bank has co-signed: you can submit it.' : ''}
            </Notice>
          )}
          <div class="actions actions-left">
            {iAmBank && !bankSigned ? (
              <button type="button" class="button" disabled={!canCosign} onClick={cosign} data-testid="cosign">
                Co-sign as {me}
              </button>
            ) : null}
            {canSubmit && !receipt ? (
              <button type="button" class="button" disabled={busy} onClick={() => void submit()} data-testid="submit-pledge">
                {busy ? 'Submitting…' : 'Submit to the ledger'}
              </button>
            ) : null}
            {bankSigned ? (
              <Download text={pledgeRequestText(request)} name={fileNameFor('pledge-cosigned', p.voucherId)} testId="download-cosigned">
                Download the co-signed file
              </Download>
            ) : null}
          </div>
          {submitProblem ? <ProblemBox problem={submitProblem} title="The ledger refused the pledge" /> : null}
          {receipt ? (
            <Notice>
              The ledger accepted the pledge at entry #{receipt.seq}: this receipt, not the co-signature, is what a loan can rest on.{' '}
              <a
                href={voucherPath(receipt.effects.vouchers.find((v) => v.status === 'pledged')?.id ?? p.voucherId)}
                onClick={(e) => {
                  e.preventDefault();
                  navigate(voucherPath(receipt.effects.vouchers.find((v) => v.status === 'pledged')?.id ?? p.voucherId));
                }}
              >
                See the voucher
              </a>
            </Notice>
          ) : null}
        </div>
      ) : null}
    </section>
  );
};
