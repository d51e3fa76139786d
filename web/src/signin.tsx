/**
 * Sign-in: a party loads its key file (the CLI's `rvl keygen` file, docs/protocol.md §3) or pastes
 * its seed. The key stays in this tab (memory and sessionStorage); with "remember" it is also kept
 * in this browser sealed under a passphrase, asked for on return. It is never sent: the console
 * proves it by signing a read token and reading the party's own record with it. Each role then
 * lands on the page of its work (`LANDING`).
 */
import { useMemo, useState } from 'preact/hooks';

import { keyFileFromJson, KeyFileError, parseKeyFile, type KeyFile } from '../../src/client/index.js';
import { PATTERNS } from '../../src/domain/limits.js';
import { publicKeyFromSeed } from '../../src/ledger/ed25519.js';
import { toShown, type Shown } from './explain.js';
import { canSeal, PASSPHRASE_CHARS_MIN } from './keystore.js';
import { LANDING, ledger, navigate, rememberedKey, route, signIn, signInRemembered, signOut, use, type Remember, type Session } from './state.js';
import { Field, FileDrop, ProblemBox } from './ui.js';

/** The sentences of this page that are new in both languages (the rest waits for the zh catalog). */
const TEXT = {
  rememberLabel: '在此浏览器中记住（用口令加密） Remember in this browser, encrypted under a passphrase',
  rememberHint:
    '密钥用口令加密后保存在此浏览器；回来时输入口令即可。 The key is kept in this browser encrypted under your passphrase (AES-GCM, PBKDF2-SHA256); you type the passphrase when you come back. Anyone who learns the passphrase and uses this browser profile could sign as you.',
  noWebCrypto: '此页面不是安全连接，不能记住密钥。 This page is not a secure context (https or localhost), so the console cannot encrypt a key to remember it.',
  passphrase: '口令 Passphrase',
  passphraseAgain: '再输一次口令 Passphrase again',
  passphraseShort: `口令至少 ${PASSPHRASE_CHARS_MIN} 个字符。 At least ${PASSPHRASE_CHARS_MIN} characters.`,
  passphraseDiffers: '两次口令不一致。 The two passphrases differ.',
  remembered: (party: string) => `此浏览器记住了 ${party} 的密钥（已加密）。 This browser remembers the key of ${party}, encrypted.`,
  unlock: (party: string) => `输入口令，以 ${party} 登录 Continue as ${party}`,
  unlocking: '正在解密…  Opening the key…',
};

/** A key from a pasted party id and seed, through the same strict check as a key file. */
const keyFromSeed = (party: string, seed: string): KeyFile => {
  if (!PATTERNS.seed.test(seed)) throw new KeyFileError('BAD_HEX', 'the seed is not 64 hexadecimal characters');
  return keyFileFromJson({ party, publicKey: publicKeyFromSeed(seed), secretKey: seed });
};

/** Where a signed-in party goes: the page it asked for, else its role's own page. */
const destination = (next: string | null, s: Session): string =>
  next !== null && next.startsWith('/') && !next.startsWith('//') ? next : LANDING[s.party.role];

const Remembered = ({ next }: { next: string | null }) => {
  const l = use(ledger);
  const [forgotten, setForgotten] = useState(false);
  const [passphrase, setPassphrase] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Shown | undefined>(undefined);
  const sealed = useMemo(() => (forgotten || l.kind !== 'ready' ? undefined : rememberedKey()), [forgotten, l]);
  if (!sealed) return null;
  const unlock = async () => {
    setBusy(true);
    setProblem(undefined);
    try {
      const s = await signInRemembered(passphrase);
      navigate(destination(next, s), true);
    } catch (err) {
      setProblem(toShown(err, sealed.party));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="card" data-testid="remembered">
      <p>{TEXT.remembered(sealed.party)}</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (passphrase.length > 0) void unlock();
        }}
      >
        <Field label={TEXT.passphrase} id="unlock-passphrase">
          <input
            id="unlock-passphrase"
            type="password"
            autocomplete="current-password"
            value={passphrase}
            data-testid="unlock-passphrase"
            onInput={(e) => setPassphrase(e.currentTarget.value)}
          />
        </Field>
        <div class="actions">
          <button type="submit" class="button" disabled={busy || passphrase.length === 0} data-testid="continue-remembered">
            {busy ? TEXT.unlocking : TEXT.unlock(sealed.party)}
          </button>
          <button
            type="button"
            class="button button-danger"
            onClick={() => {
              signOut(true);
              setForgotten(true);
            }}
            data-testid="forget-key"
          >
            Forget this key
          </button>
        </div>
      </form>
      {problem ? <ProblemBox problem={problem} /> : null}
    </div>
  );
};

export const SignIn = () => {
  const r = use(route);
  const next = r.query.get('next');
  const [mode, setMode] = useState<'file' | 'seed'>('file');
  const [key, setKey] = useState<KeyFile | undefined>(undefined);
  const [problem, setProblem] = useState<Shown | undefined>(undefined);
  const [party, setParty] = useState('');
  const [seed, setSeed] = useState('');
  const [remember, setRemember] = useState(false);
  const [passphrase, setPassphrase] = useState('');
  const [passphrase2, setPassphrase2] = useState('');
  const [busy, setBusy] = useState(false);
  const sealable = canSeal();

  const passphraseError = remember && passphrase.length > 0 && [...passphrase].length < PASSPHRASE_CHARS_MIN ? TEXT.passphraseShort : undefined;
  const passphrase2Error = remember && passphrase2.length > 0 && passphrase2 !== passphrase ? TEXT.passphraseDiffers : undefined;
  const rememberReady = !remember || ([...passphrase].length >= PASSPHRASE_CHARS_MIN && passphrase === passphrase2);

  const go = async (k: KeyFile) => {
    setBusy(true);
    setProblem(undefined);
    try {
      const keep: Remember = remember ? { kind: 'seal', passphrase } : { kind: 'forget' };
      const s = await signIn(k, keep);
      navigate(destination(next, s), true);
    } catch (err) {
      setProblem(toShown(err, k.party));
    } finally {
      setBusy(false);
    }
  };

  const seedText = seed.trim().toLowerCase();
  const partyError =
    party.length > 0 && !PATTERNS.partyId.test(party) ? 'a party id is lowercase letters, digits and inner hyphens, e.g. dongguan-parts' : undefined;
  const seedError = seedText.length > 0 && !PATTERNS.seed.test(seedText) ? `the seed is 64 hexadecimal characters (${seedText.length} now)` : undefined;
  const seedKey = ((): KeyFile | undefined => {
    if (mode !== 'seed' || partyError || seedError || party.length === 0 || seedText.length === 0) return undefined;
    try {
      return keyFromSeed(party, seedText);
    } catch {
      return undefined;
    }
  })();
  const chosen = mode === 'file' ? key : seedKey;

  return (
    <section class="page page-narrow">
      <h1>Sign in</h1>
      <p class="lead">
        Sign in with your party’s key. The key stays in this browser tab (a reload keeps you signed in; closing the tab or “Sign out” forgets it): the console
        signs your ops and read tokens itself and never sends the key anywhere.
      </p>
      <Remembered next={next} />
      <div class="card">
        <div class="tabs" role="tablist">
          <button type="button" role="tab" aria-selected={mode === 'file'} class={mode === 'file' ? 'tab tab-on' : 'tab'} onClick={() => setMode('file')}>
            Key file
          </button>
          <button type="button" role="tab" aria-selected={mode === 'seed'} class={mode === 'seed' ? 'tab tab-on' : 'tab'} onClick={() => setMode('seed')}>
            Paste a seed
          </button>
        </div>
        {mode === 'file' ? (
          <div>
            <FileDrop
              label="Your key file (from rvl keygen, e.g. dongguan-parts.key)"
              accept=".key,.json,application/json"
              testId="key-file"
              onText={(text) => {
                setProblem(undefined);
                try {
                  setKey(parseKeyFile(text));
                } catch (err) {
                  setKey(undefined);
                  setProblem(toShown(err));
                }
              }}
            />
            {key ? (
              <p class="muted" data-testid="key-loaded">
                Key of <strong>{key.party}</strong>, public key <code>{key.publicKey.slice(0, 16)}…</code>
              </p>
            ) : null}
          </div>
        ) : (
          <div>
            <Field label="Party id" id="signin-party" error={partyError}>
              <input id="signin-party" value={party} autocomplete="off" spellcheck={false} onInput={(e) => setParty(e.currentTarget.value.trim())} />
            </Field>
            <Field label="Secret seed (64 hex characters)" id="signin-seed" error={seedError} hint="The secretKey of your key file.">
              <input id="signin-seed" type="password" value={seed} autocomplete="off" spellcheck={false} onInput={(e) => setSeed(e.currentTarget.value)} />
            </Field>
          </div>
        )}
        {sealable ? (
          <>
            <label class="checkbox">
              <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.currentTarget.checked)} data-testid="remember" />
              {TEXT.rememberLabel}
            </label>
            {remember ? (
              <div class="remember">
                <p class="muted small">{TEXT.rememberHint}</p>
                <Field label={TEXT.passphrase} id="remember-passphrase" error={passphraseError}>
                  <input
                    id="remember-passphrase"
                    type="password"
                    autocomplete="new-password"
                    value={passphrase}
                    data-testid="remember-passphrase"
                    onInput={(e) => setPassphrase(e.currentTarget.value)}
                  />
                </Field>
                <Field label={TEXT.passphraseAgain} id="remember-passphrase2" error={passphrase2Error}>
                  <input
                    id="remember-passphrase2"
                    type="password"
                    autocomplete="new-password"
                    value={passphrase2}
                    data-testid="remember-passphrase2"
                    onInput={(e) => setPassphrase2(e.currentTarget.value)}
                  />
                </Field>
              </div>
            ) : null}
          </>
        ) : (
          <p class="muted small">{TEXT.noWebCrypto}</p>
        )}
        <div class="actions">
          <button
            type="button"
            class="button"
            disabled={chosen === undefined || busy || !rememberReady}
            onClick={() => chosen && void go(chosen)}
            data-testid="sign-in"
          >
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </div>
        {problem ? <ProblemBox problem={problem} /> : null}
      </div>
    </section>
  );
};
