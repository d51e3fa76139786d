/**
 * Bank check: a proof bundle (a dropped file, or fetched by voucher id when signed in) and the
 * ledger id the bank trusts, checked entirely in this browser with `verifyBundle`. Nothing the
 * service says is trusted: the ledger id is typed by the bank (and remembered in this browser), and
 * genesis must hash to it. A bundle proves that its entries are in the log and the state they
 * give, not that nothing changed since (it cannot show an entry left out of it): the result says
 * which entry that state is as of, and, signed in to this ledger, compares it with the voucher's
 * current state.
 */
import { useState } from 'preact/hooks';

import { verifyBundle, type BundleReport, type WireVoucher } from '../../src/client/index.js';
import { PATTERNS } from '../../src/domain/limits.js';
import { toShown, type Shown } from './explain.js';
import { ledger, session, setTrustedLedgerId, trustedLedgerId, use, type Session } from './state.js';
import { Field, FileDrop, ProblemBox } from './ui.js';
import { BundleResult, type Current } from './verdict.js';

export const BankCheck = () => {
  const s = use(session);
  const l = use(ledger);
  const [ledgerId, setLedgerId] = useState(trustedLedgerId);
  const [expected, setExpected] = useState('');
  const [bundle, setBundle] = useState<{ value: unknown; from: string } | undefined>(undefined);
  const [fileProblem, setFileProblem] = useState<string | undefined>(undefined);
  const [fetchId, setFetchId] = useState('');
  const [fetchProblem, setFetchProblem] = useState<Shown | undefined>(undefined);
  const [fetching, setFetching] = useState(false);
  const [report, setReport] = useState<{ report: BundleReport; ledgerId: string; bundle: unknown } | undefined>(undefined);
  const [current, setCurrent] = useState<Current>({ kind: 'signed-out' });

  /** Reads the voucher's current state and history from this ledger, to compare with the bundle's. */
  const readCurrent = async (who: Session | undefined, trusted: string, state: WireVoucher | undefined) => {
    if (state === undefined) return;
    if (!who) return setCurrent({ kind: 'signed-out' });
    if (l.kind !== 'ready' || l.info.ledgerId !== trusted) return setCurrent({ kind: 'other-ledger' });
    setCurrent({ kind: 'loading' });
    try {
      const [voucher, history] = await Promise.all([who.client.voucher(state.id), who.client.history(state.id)]);
      setCurrent({ kind: 'read', voucher, history, readAt: new Date().toISOString() });
    } catch (err) {
      setCurrent({ kind: 'failed', problem: toShown(err) });
    }
  };

  const id = ledgerId.trim().toLowerCase();
  const ledgerError = id.length > 0 && !PATTERNS.hash.test(id) ? `a ledger id is 64 hexadecimal characters (${id.length} now)` : undefined;
  const expectedError = expected.trim().length > 0 && !PATTERNS.voucherId.test(expected.trim()) ? 'not a voucher id' : undefined;
  const fetchError = fetchId.trim().length > 0 && !PATTERNS.voucherId.test(fetchId.trim()) ? 'not a voucher id' : undefined;
  const ready = bundle !== undefined && id.length > 0 && !ledgerError && !expectedError;

  const fetchBundle = async () => {
    if (!s || fetchError || fetchId.trim().length === 0) return;
    setFetching(true);
    setFetchProblem(undefined);
    setReport(undefined);
    try {
      const b = await s.client.proof(fetchId.trim());
      setBundle({ value: b, from: `the ledger’s proof of ${fetchId.trim()}` });
      if (expected.trim().length === 0) setExpected(fetchId.trim());
    } catch (err) {
      setFetchProblem(toShown(err));
    } finally {
      setFetching(false);
    }
  };

  return (
    <section class="page page-narrow">
      <h1>Bank check</h1>
      <p class="lead">
        Check a voucher before lending against it, trusting only the ledger id you were given — not this service. The proof bundle is checked here, in your
        browser.
      </p>
      <div class="card">
        <Field
          label="Ledger id you trust"
          id="bank-ledger-id"
          error={ledgerError}
          hint="64 hexadecimal characters, as your operator published it (onboarding papers, the contract) — not read from this service; remembered in this browser"
        >
          <input
            id="bank-ledger-id"
            value={ledgerId}
            spellcheck={false}
            autocomplete="off"
            data-testid="bank-ledger-id"
            onInput={(e) => setLedgerId(e.currentTarget.value)}
          />
        </Field>
        <FileDrop
          label="Proof bundle file (from “Download the proof bundle” or rvl proof)"
          testId="bundle-file"
          onText={(text, name) => {
            setReport(undefined);
            try {
              setBundle({ value: JSON.parse(text) as unknown, from: name });
              setFileProblem(undefined);
            } catch {
              // Not JSON: verifyBundle would call it MALFORMED_BUNDLE; say so now.
              setBundle({ value: text, from: name });
              setFileProblem(`${name} is not JSON; the check will report it as a malformed bundle`);
            }
          }}
        />
        {fileProblem ? <p class="field-error">{fileProblem}</p> : null}
        {s ? (
          <div class="inline-form">
            <Field label="…or fetch the bundle of a voucher you can see" id="bank-fetch-id" error={fetchError}>
              <input id="bank-fetch-id" value={fetchId} spellcheck={false} data-testid="bank-fetch-id" onInput={(e) => setFetchId(e.currentTarget.value)} />
            </Field>
            <button
              type="button"
              class="button button-secondary"
              disabled={fetching || fetchError !== undefined || fetchId.trim().length === 0}
              onClick={() => void fetchBundle()}
              data-testid="bank-fetch"
            >
              {fetching ? 'Fetching…' : 'Fetch'}
            </button>
          </div>
        ) : (
          <p class="muted">Signed in, you can also fetch a voucher’s bundle by its id.</p>
        )}
        {fetchProblem ? <ProblemBox problem={fetchProblem} title="Could not fetch the bundle" /> : null}
        <Field label="Voucher you are asked about (optional)" id="bank-expected" error={expectedError} hint="if given, a bundle for another voucher fails">
          <input id="bank-expected" value={expected} spellcheck={false} onInput={(e) => setExpected(e.currentTarget.value)} />
        </Field>
        {bundle ? <p class="muted">Bundle: {bundle.from}</p> : null}
        <div class="actions actions-left">
          <button
            type="button"
            class="button"
            disabled={!ready}
            data-testid="bank-verify"
            onClick={() => {
              if (!bundle) return;
              const e = expected.trim();
              const r = verifyBundle(bundle.value, id, e.length > 0 ? { voucherId: e } : {});
              setTrustedLedgerId(id);
              setReport({ report: r, ledgerId: id, bundle: bundle.value });
              if (r.ok) void readCurrent(s, id, (bundle.value as { state?: WireVoucher }).state);
            }}
          >
            Check the bundle
          </button>
        </div>
      </div>
      {report ? <BundleResult report={report.report} ledgerId={report.ledgerId} trust="entered" bundle={report.bundle} current={current} /> : null}
    </section>
  );
};
