/**
 * Auditor view: the ledger's size, the latest checkpoint (verified here under the node key and
 * followed forward only along consistency proofs, with `CheckpointTracker`, kept in this browser;
 * this address is pinned to the ledger first found here, and a new ledger behind it is refused
 * until the user re-pins it deliberately), recent activity from
 * the raw log, and a full audit of the log in this browser (`audit`) with a progress bar.
 */
import { useEffect, useState } from 'preact/hooks';

import {
  audit,
  LedgerPins,
  TrustError,
  type AuditProgress,
  type AuditReport,
  type CheckpointTracker,
  type HashedEntry,
  type UpdateResult,
} from '../../src/client/index.js';
import { describeEntry } from './describe.js';
import { AUDIT_TEXT, toShown, type Shown } from './explain.js';
import { BASE_URL, ledger, ledgerInfo, loadPins, loadTracker, publicClient, refreshLedger, savePins, saveTracker, session, Store, use } from './state.js';
import { Notice, ProblemBox, shortTime, Spinner } from './ui.js';

/** The trusted checkpoint of the ledger this page talks to (also kept in this browser, per ledger). */
const tracker = new Store<CheckpointTracker | undefined>(undefined);

const RECENT = 20;
/** Entries a request during the audit: small enough for a lively progress bar. */
const AUDIT_PAGE = 250;

const CheckpointCard = () => {
  const t = use(tracker);
  const [result, setResult] = useState<UpdateResult | undefined>(undefined);
  const [problem, setProblem] = useState<Shown | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  /** Set when this address now serves another ledger than the one pinned (or the pins are damaged). */
  const [changed, setChanged] = useState<{ readonly pinned?: string; readonly served: string } | undefined>(undefined);
  const [repinned, setRepinned] = useState<string | undefined>(undefined);
  const refresh = async () => {
    setBusy(true);
    setProblem(undefined);
    setChanged(undefined);
    try {
      const info = ledgerInfo();
      let pins;
      try {
        pins = loadPins();
        pins.check(BASE_URL, info.ledgerId, new Date().toISOString());
      } catch (err) {
        if (err instanceof TrustError && (err.code === 'LEDGER_CHANGED' || err.code === 'BAD_STATE')) {
          setChanged({ ...(err.evidence.trusted ? { pinned: err.evidence.trusted } : {}), served: info.ledgerId });
        }
        throw err;
      }
      const tr = tracker.value?.ledgerId === info.ledgerId ? tracker.value : loadTracker(info);
      const r = await tr.update(publicClient());
      tracker.set(tr);
      saveTracker(tr);
      savePins(pins);
      setResult(r);
      await refreshLedger();
    } catch (err) {
      setProblem(toShown(err));
    } finally {
      setBusy(false);
    }
  };
  /** The user's deliberate choice: this address now serves a new ledger, to be trusted from here on. */
  const trustNewLedger = async () => {
    if (!changed) return;
    let pins;
    try {
      pins = loadPins();
    } catch {
      pins = undefined; // damaged: start again with this ledger only
    }
    const next = pins ?? new LedgerPins();
    next.repin(BASE_URL, changed.served, new Date().toISOString());
    savePins(next);
    tracker.set(undefined);
    setRepinned(changed.pinned);
    await refresh();
  };
  useEffect(() => {
    void refresh();
  }, []);
  const cp = t?.trusted;
  return (
    <div class="card">
      <h2>Latest checkpoint</h2>
      {cp ? (
        <>
          <dl class="facts">
            <dt>Size</dt>
            <dd data-testid="checkpoint-size">{cp.size} entries</dd>
            <dt>Root</dt>
            <dd>
              <code>{cp.root}</code>
            </dd>
            <dt>Signature</dt>
            <dd>✓ signed by the node key of genesis</dd>
          </dl>
          {result ? (
            <p class="muted">
              {result.from === 0
                ? 'Trusted on first sight in this browser (anchored by the ledger id and node key); this address is now pinned to this ledger, and a new ledger here will be refused.'
                : result.changed
                  ? `Moved from size ${result.from} to ${result.to} along a verified consistency proof: nothing before was rewritten.`
                  : 'No new entries since the checkpoint trusted before.'}
            </p>
          ) : null}
          <pre class="note">{cp.note}</pre>
        </>
      ) : busy ? (
        <Spinner label="Reading the checkpoint…" />
      ) : null}
      {problem ? <ProblemBox problem={problem} title="Checkpoint not trusted" /> : null}
      {changed ? (
        <div class="notice notice-warn" role="alert" data-testid="ledger-changed">
          <p>
            {changed.pinned ? (
              <>
                This address served ledger <code data-testid="ledger-pinned">{changed.pinned}</code>; it now serves ledger{' '}
                <code data-testid="ledger-served">{changed.served}</code>.
              </>
            ) : (
              <>
                The ledger this browser trusted at this address cannot be read; this address serves ledger{' '}
                <code data-testid="ledger-served">{changed.served}</code>.
              </>
            )}{' '}
            Nothing was trusted. Check the new id with the ledger’s operator before you trust it.
          </p>
          <button type="button" class="button button-secondary" disabled={busy} onClick={() => void trustNewLedger()} data-testid="trust-new-ledger">
            I checked with the operator: trust the new ledger at this address
          </button>
        </div>
      ) : null}
      {repinned && !changed && cp ? (
        <p class="muted" data-testid="ledger-repinned">
          Re-pinned: this address now stands for ledger <code>{ledgerInfo().ledgerId}</code>, replacing ledger <code>{repinned}</code>.
        </p>
      ) : null}
      <div class="actions actions-left">
        <button type="button" class="button button-secondary" disabled={busy} onClick={() => void refresh()} data-testid="checkpoint-refresh">
          {busy ? 'Checking…' : 'Check for a newer checkpoint'}
        </button>
      </div>
    </div>
  );
};

const Recent = () => {
  const s = use(session);
  const l = use(ledger);
  const [entries, setEntries] = useState<readonly HashedEntry[] | undefined>(undefined);
  const [problem, setProblem] = useState<Shown | undefined>(undefined);
  const size = l.kind === 'ready' ? l.info.size : 0;
  const allowed = s !== undefined && (s.party.role === 'auditor' || s.party.role === 'operator');
  useEffect(() => {
    if (!s || !allowed) return;
    const from = Math.max(0, size - RECENT);
    s.client.entries(from, RECENT).then(
      (page) => {
        setEntries([...page.entries].reverse());
        setProblem(undefined);
      },
      (err: unknown) => setProblem(toShown(err)),
    );
  }, [s, size, allowed]);
  return (
    <div class="card">
      <h2>Recent activity</h2>
      {!allowed ? (
        <p class="muted">
          The raw log is readable by auditors and the operator only (docs/protocol.md §8). Sign in with an auditor’s key to see it and to run a full audit.
        </p>
      ) : problem ? (
        <ProblemBox problem={problem} title="Could not read the log" />
      ) : entries === undefined ? (
        <Spinner />
      ) : (
        <table class="recent stack" data-testid="recent">
          <thead>
            <tr>
              <th class="num">#</th>
              <th>time</th>
              <th>op</th>
              <th>what</th>
              <th>signed by</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => {
              const d = describeEntry(e);
              return (
                <tr>
                  <td class="num" data-label="#">
                    {e.entry.seq}
                  </td>
                  <td class="nowrap" data-label="time">
                    {shortTime(e.entry.time)}
                  </td>
                  <td data-label="op">
                    <code>{d.type}</code>
                  </td>
                  <td data-label="what">{d.text}</td>
                  <td data-label="signed by">{d.signers.join(', ') || '—'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
};

const FullAudit = () => {
  const s = use(session);
  const [progress, setProgress] = useState<AuditProgress | undefined>(undefined);
  const [report, setReport] = useState<AuditReport | undefined>(undefined);
  const [problem, setProblem] = useState<Shown | undefined>(undefined);
  const [running, setRunning] = useState(false);
  const allowed = s !== undefined && (s.party.role === 'auditor' || s.party.role === 'operator');
  if (!allowed || !s) return null;
  const run = async () => {
    setRunning(true);
    setReport(undefined);
    setProblem(undefined);
    setProgress(undefined);
    try {
      const r = await audit(s.client, { ledgerId: ledgerInfo().ledgerId, pageLimit: AUDIT_PAGE, onProgress: (p) => setProgress(p) });
      setReport(r);
    } catch (err) {
      setProblem(toShown(err));
    } finally {
      setRunning(false);
    }
  };
  const pct = progress && progress.total > 0 ? Math.min(100, Math.round((progress.checked / progress.total) * 100)) : report ? 100 : 0;
  return (
    <div class="card">
      <h2>Full audit</h2>
      <p class="muted">
        Reads every entry up to the signed checkpoint and checks, here in your browser: each hash and link, genesis against the ledger id, every signature under
        the key in force at the time, a replay of every op under the rules, and the Merkle root against the checkpoint.
      </p>
      <div class="actions actions-left">
        <button type="button" class="button" disabled={running} onClick={() => void run()} data-testid="run-audit">
          {running ? 'Auditing…' : 'Run a full audit'}
        </button>
      </div>
      {running || report ? (
        <div class="progress" data-testid="audit-progress">
          <div class="progress-bar" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} style={{ width: `${pct}%` }} />
          <span class="progress-text">
            {progress ? `${progress.checked} of ${progress.total} entries · ${Math.round(progress.entriesPerSecond)}/s` : 'starting…'}
          </span>
        </div>
      ) : null}
      {problem ? <ProblemBox problem={problem} title="The audit could not run" /> : null}
      {report ? (
        report.ok ? (
          <Notice>
            <span data-testid="audit-result" data-ok="true">
              ✓ The log is intact: {report.entriesChecked} entries and {report.signaturesChecked} signatures checked, every op replayed, root matches the
              checkpoint of size {report.checkpointSize} ({report.seconds.toFixed(1)} s).
            </span>
          </Notice>
        ) : (
          <div data-testid="audit-result" data-ok="false">
            <ProblemBox
              problem={{
                code: report.firstFailure?.code ?? 'FAILED',
                text: report.firstFailure ? AUDIT_TEXT[report.firstFailure.code] : '',
                detail: `${report.firstFailure?.seq === undefined ? '' : `entry #${report.firstFailure.seq}: `}${report.firstFailure?.detail ?? ''}`,
                source: 'console',
              }}
              title="The audit found a discrepancy"
            />
          </div>
        )
      ) : null}
    </div>
  );
};

export const Audit = () => {
  const l = use(ledger);
  if (l.kind !== 'ready') return null;
  const info = l.info;
  return (
    <section class="page">
      <h1>Auditor view</h1>
      <div class="columns">
        <div class="card">
          <h2>Ledger</h2>
          <dl class="facts">
            <dt>Name</dt>
            <dd>{info.name}</dd>
            <dt>Ledger id</dt>
            <dd>
              <code data-testid="ledger-id">{info.ledgerId}</code>
            </dd>
            <dt>Size</dt>
            <dd data-testid="ledger-size">{info.size} entries</dd>
            <dt>Currency</dt>
            <dd>{info.currency}</dd>
            <dt>Longest tenor</dt>
            <dd>{info.maxTenorDays} days</dd>
            <dt>Node key</dt>
            <dd>
              <code>{info.nodeKey}</code>
            </dd>
          </dl>
        </div>
        <CheckpointCard />
      </div>
      <FullAudit />
      <Recent />
    </section>
  );
};
