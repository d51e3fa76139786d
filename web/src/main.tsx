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
 *   /parties        the registered parties (the operator's start page)
 *
 * After sign-in each role lands on its own page (`LANDING` in state.ts), and the navigation shows
 * the pages of that role's work.
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
import { Parties } from './parties.js';
import { LANDING, ledger, loadLedger, navigate, restoreSession, restoring, route, session, signOut, Store, use } from './state.js';
import { Link, Notice, ProblemBox, Spinner } from './ui.js';
import type { Role } from '../../src/domain/types.js';
import { VoucherPage } from './voucher.js';
import { Vouchers } from './vouchers.js';

// Read tokens are signed with noble's async API, which hashes with WebCrypto; a page served over
// plain HTTP to another host has no `crypto.subtle`, so give noble the portable SHA-512 there.
if (globalThis.crypto?.subtle === undefined) ed.hashes.sha512Async = (m: Uint8Array) => Promise.resolve(sha512(m));

interface NavItem {
  readonly href: string;
  readonly label: string;
}

const VOUCHERS: NavItem = { href: '/vouchers', label: 'My vouchers' };
const PLEDGES: NavItem = { href: '/pledges', label: 'Pledges' };
const BANK_CHECK: NavItem = { href: '/bank-check', label: 'Bank check' };
const AUDIT: NavItem = { href: '/audit', label: 'Auditor' };
const PARTIES: NavItem = { href: '/parties', label: 'Parties' };

/** The pages each role works on, its landing page first; signed out, the public ones. */
const NAV: Record<Role | 'signed-out', readonly NavItem[]> = {
  core: [VOUCHERS, BANK_CHECK, AUDIT],
  supplier: [VOUCHERS, PLEDGES, BANK_CHECK, AUDIT],
  bank: [PLEDGES, VOUCHERS, BANK_CHECK, AUDIT],
  auditor: [AUDIT, BANK_CHECK],
  operator: [PARTIES, AUDIT, BANK_CHECK],
  'signed-out': [BANK_CHECK, AUDIT],
};

/** The party whose clear-text key was deleted on start, until the user dismisses the notice. */
const deletedKeyOf = new Store<string | undefined>(undefined);

const DeletedKeyNotice = () => {
  const party = use(deletedKeyOf);
  if (party === undefined) return null;
  return (
    <div class="flash" data-testid="clear-key-deleted">
      <Notice kind="warn">{clearTextKeyNotice(party)}</Notice>
      <button type="button" class="icon-button" aria-label="Dismiss" onClick={() => deletedKeyOf.set(undefined)}>
        ×
      </button>
    </div>
  );
};

/** Shown once, when the console deletes a key an earlier version kept in clear. */
const clearTextKeyNotice = (party: string): string =>
  `旧版控制台曾以明文保存 ${party} 的密钥，现已删除；请重新登录，并可选择用口令加密记住。 An earlier version of this console kept the key of ${party} in this browser unencrypted; it has been deleted. Sign in again, and tick “remember” to keep it encrypted under a passphrase.`;

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
        {NAV[s ? s.party.role : 'signed-out'].map((n) => (
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
            <button
              type="button"
              class="button button-small button-secondary"
              onClick={() => {
                signOut(false);
                navigate('/');
              }}
              data-testid="sign-out"
            >
              Sign out
            </button>
            {s.remembered ? (
              <button
                type="button"
                class="button button-small button-danger"
                onClick={() => {
                  signOut(true);
                  navigate('/');
                }}
                data-testid="forget"
              >
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
        Core enterprises issue vouchers for what they owe; suppliers accept, split and pass them on; banks check a voucher’s whole history and take it in
        pledge, so the same money is never lent against twice. This console signs with your key in this browser and checks every proof here, so you need not
        trust the server to know a voucher is genuine.
      </p>
      <div class="tiles">
        <Link href={s ? LANDING[s.party.role] : '/sign-in'} class="tile">
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
  const back = use(restoring);
  useEffect(() => {
    if (!s && !back) navigate(`/sign-in?next=${encodeURIComponent(r.path)}`, true);
  }, [s, back, r.path]);
  return s ? <>{children}</> : back ? <Spinner label="Signing you back in…" /> : null;
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
  if (path === '/parties')
    return (
      <NeedsKey>
        <Parties />
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
  const back = use(restoring);
  return (
    <>
      <Header />
      <main>
        {l.kind === 'loading' || back ? (
          <Spinner label={back ? 'Signing you back in…' : 'Connecting to the ledger…'} />
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
            <DeletedKeyNotice />
            <Flash />
            <Page />
          </>
        )}
      </main>
      <footer class="foot">
        {l.kind === 'ready' ? (
          <>
            ledger <code title={l.info.ledgerId}>{l.info.ledgerId.slice(0, 16)}…</code> · {l.info.size} {l.info.size === 1 ? 'entry' : 'entries'} · protocol
            rvl/op/v1 ·{' '}
          </>
        ) : null}
        <a href="/docs">API docs</a>
      </footer>
    </>
  );
};

/** Connects, then signs the tab's key back in (a reload or a link opened in the tab). */
const start = async (): Promise<void> => {
  await loadLedger();
  const { clearTextKeyDeleted } = await restoreSession();
  if (clearTextKeyDeleted !== undefined) deletedKeyOf.set(clearTextKeyDeleted);
};

render(<App />, document.getElementById('app')!);
void start();
