/**
 * The web console of the receivable voucher ledger: the page frame, the routes, and start-up.
 *
 * Routes (history API; the service answers index.html for these paths):
 *   /               home: what the console does, and where to go
 *   /sign-in        load a key file or paste a seed
 *   /vouchers       my vouchers, with totals and the ops I can take; issue (core enterprises)
 *   /vouchers/:id   one voucher: facts, pledge status, split tree, timeline, verify
 *   /pledges        load a pledge request, co-sign it (banks), submit it
 *   /bank-check     verify a proof bundle against a ledger id, in the browser
 *   /audit          ledger size, checkpoint, recent activity, full audit
 */
import './app.css';

import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { render } from 'preact';
import { useEffect } from 'preact/hooks';

import { flash } from './actions.js';
import { Audit } from './audit.js';
import { BankCheck } from './bank-check.js';
import { Pledges } from './pledges.js';
import { SignIn } from './signin.js';
import { ledger, loadLedger, navigate, route, session, signOut, use } from './state.js';
import { Link, Notice, ProblemBox, Spinner } from './ui.js';
import { VoucherPage } from './voucher.js';
import { Vouchers } from './vouchers.js';

// Read tokens are signed with noble's async API, which hashes with WebCrypto; a page served over
// plain HTTP to another host has no `crypto.subtle`, so give noble the portable SHA-512 there.
if (globalThis.crypto?.subtle === undefined) ed.hashes.sha512Async = (m: Uint8Array) => Promise.resolve(sha512(m));

const NAV: readonly { href: string; label: string; signedIn: boolean }[] = [
  { href: '/vouchers', label: 'My vouchers', signedIn: true },
  { href: '/pledges', label: 'Pledges', signedIn: true },
  { href: '/bank-check', label: 'Bank check', signedIn: false },
  { href: '/audit', label: 'Auditor', signedIn: false },
];

const Header = () => {
  const s = use(session);
  const l = use(ledger);
  const r = use(route);
  return (
    <header class="top">
      <Link href="/" class="brand">
        <span class="brand-mark" aria-hidden="true">
          ¥
        </span>
        <span>
          Voucher Ledger
          {l.kind === 'ready' ? <span class="brand-ledger"> · {l.info.name}</span> : null}
        </span>
      </Link>
      <nav>
        {NAV.map((n) => (
          <Link href={n.href} class={r.path === n.href || (n.href === '/vouchers' && r.path.startsWith('/vouchers/')) ? 'nav nav-on' : 'nav'} data-nav={n.href}>
            {n.label}
          </Link>
        ))}
      </nav>
      <div class="who">
        {s ? (
          <>
            <span class="who-party" data-testid="signed-in-as" title={s.party.name}>
              {s.key.party} <span class="who-role">{s.party.role}</span>
            </span>
            <button type="button" class="button button-small button-secondary" onClick={() => { signOut(false); navigate('/'); }} data-testid="sign-out">
              Sign out
            </button>
            {s.remembered ? (
              <button type="button" class="button button-small button-danger" onClick={() => { signOut(true); navigate('/'); }} data-testid="forget">
                Forget key
              </button>
            ) : null}
          </>
        ) : (
          <Link href="/sign-in" class="button button-small">
            Sign in
          </Link>
        )}
      </div>
    </header>
  );
};

const Home = () => {
  const s = use(session);
  return (
    <section class="page page-narrow">
      <h1>Supply-chain vouchers, signed and verified in your browser</h1>
      <p class="lead">
        Core enterprises issue vouchers for what they owe; suppliers accept, split and pass them on; banks check a voucher’s whole history and take it in pledge, so the same money is never
        lent against twice. This console signs with your key in this browser and checks every proof here, so you need not trust the server to know a voucher is genuine.
      </p>
      <div class="tiles">
        <Link href={s ? '/vouchers' : '/sign-in'} class="tile">
          <strong>My vouchers</strong>
          <span>Accept, split, transfer, pledge, settle, issue.</span>
        </Link>
        <Link href="/bank-check" class="tile">
          <strong>Bank check</strong>
          <span>Verify a proof bundle against a ledger id.</span>
        </Link>
        <Link href="/audit" class="tile">
          <strong>Auditor</strong>
          <span>Checkpoint, recent activity, full audit of the log.</span>
        </Link>
      </div>
    </section>
  );
};

const NotFound = () => (
  <section class="page page-narrow">
    <h1>No such page</h1>
    <p>
      <Link href="/">Go to the start page</Link>
    </p>
  </section>
);

/** A page that needs a signed-in party sends others to sign in first, and back afterwards. */
const NeedsKey = ({ children }: { children: preact.ComponentChildren }) => {
  const s = use(session);
  const r = use(route);
  useEffect(() => {
    if (!s) navigate(`/sign-in?next=${encodeURIComponent(r.path)}`, true);
  }, [s, r.path]);
  return s ? <>{children}</> : null;
};

const Page = () => {
  const r = use(route);
  const path = r.path.length > 1 ? r.path.replace(/\/+$/, '') : r.path;
  if (path === '/') return <Home />;
  if (path === '/sign-in') return <SignIn />;
  if (path === '/bank-check') return <BankCheck />;
  if (path === '/audit') return <Audit />;
  if (path === '/vouchers')
    return (
      <NeedsKey>
        <Vouchers />
      </NeedsKey>
    );
  if (path === '/pledges')
    return (
      <NeedsKey>
        <Pledges />
      </NeedsKey>
    );
  const m = /^\/vouchers\/([^/]+)$/.exec(path);
  if (m) {
    let id: string;
    try {
      id = decodeURIComponent(m[1]!);
    } catch {
      return <NotFound />;
    }
    return (
      <NeedsKey>
        <VoucherPage id={id} />
      </NeedsKey>
    );
  }
  return <NotFound />;
};

const Flash = () => {
  const f = use(flash);
  const r = use(route);
  useEffect(() => {
    // A notice belongs to the page it was raised on.
    return () => flash.set(undefined);
  }, [r.path]);
  if (!f) return null;
  return (
    <div class="flash">
      <Notice>{f.text}</Notice>
      <button type="button" class="icon-button" aria-label="Dismiss" onClick={() => flash.set(undefined)}>
        ×
      </button>
    </div>
  );
};

const App = () => {
  const l = use(ledger);
  return (
    <>
      <Header />
      <main>
        {l.kind === 'loading' ? (
          <Spinner label="Connecting to the ledger…" />
        ) : l.kind === 'failed' ? (
          <section class="page page-narrow">
            <h1>The ledger cannot be reached</h1>
            <ProblemBox problem={l.problem} />
            <button type="button" class="button" onClick={() => void loadLedger()}>
              Try again
            </button>
          </section>
        ) : (
          <>
            <Flash />
            <Page />
          </>
        )}
      </main>
      <footer class="foot">
        {l.kind === 'ready' ? (
          <>
            ledger <code title={l.info.ledgerId}>{l.info.ledgerId.slice(0, 16)}…</code> · {l.info.size} entries · protocol rvl/op/v1 ·{' '}
          </>
        ) : null}
        <a href="/docs">API docs</a>
      </footer>
    </>
  );
};

render(<App />, document.getElementById('app')!);
void loadLedger();
