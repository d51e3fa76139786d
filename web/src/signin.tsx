/**
 * Sign-in: a party loads its key file (the CLI's `rvl keygen` file, PROTOCOL §3) or pastes its
 * seed. The key stays in this page's memory; it is stored in this browser only if the user ticks
 * "remember", and never sent: the console proves it by signing a read token and reading the
 * party's own record with it.
 */
import { useMemo, useState } from 'preact/hooks';

import { keyFileFromJson, KeyFileError, parseKeyFile, type KeyFile } from '../../src/client/index.js';
import { PATTERNS } from '../../src/domain/limits.js';
import { publicKeyFromSeed } from '../../src/ledger/ed25519.js';
import { toShown, type Shown } from './explain.js';
import { ledger, navigate, rememberedKey, route, signIn, signOut, use } from './state.js';
import { Field, FileDrop, ProblemBox } from './ui.js';

/** A key from a pasted party id and seed, through the same strict check as a key file. */
const keyFromSeed = (party: string, seed: string): KeyFile => {
  if (!PATTERNS.seed.test(seed)) throw new KeyFileError('BAD_HEX', 'the seed is not 64 hexadecimal characters');
  return keyFileFromJson({ party, publicKey: publicKeyFromSeed(seed), secretKey: seed });
};

export const SignIn = () => {
  const r = use(route);
  const next = r.query.get('next') ?? '/vouchers';
  const [mode, setMode] = useState<'file' | 'seed'>('file');
  const [key, setKey] = useState<KeyFile | undefined>(undefined);
  const [problem, setProblem] = useState<Shown | undefined>(undefined);
  const [party, setParty] = useState('');
  const [seed, setSeed] = useState('');
  const [remember, setRemember] = useState(false);
  const [busy, setBusy] = useState(false);
  const [forgotten, setForgotten] = useState(false);
  const l = use(ledger);
  const remembered = useMemo(() => (forgotten || l.kind !== 'ready' ? undefined : rememberedKey()), [forgotten, l]);

  const go = async (k: KeyFile, keep: boolean) => {
    setBusy(true);
    setProblem(undefined);
    try {
      await signIn(k, keep);
      navigate(next.startsWith('/') && !next.startsWith('//') ? next : '/vouchers', true);
    } catch (err) {
      setProblem(toShown(err));
    } finally {
      setBusy(false);
    }
  };

  const seedText = seed.trim().toLowerCase();
  const partyError = party.length > 0 && !PATTERNS.partyId.test(party) ? 'a party id is lowercase letters, digits and inner hyphens, e.g. dongguan-parts' : undefined;
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
        Sign in with your party’s key. The key stays in this browser tab: the console signs your ops and read tokens itself and never sends the key anywhere.
      </p>
      {remembered ? (
        <div class="card">
          <p>
            This browser remembers the key of <strong>{remembered.party}</strong>.
          </p>
          <div class="actions">
            <button type="button" class="button" disabled={busy} onClick={() => void go(remembered, true)} data-testid="continue-remembered">
              Continue as {remembered.party}
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
        </div>
      ) : null}
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
        <label class="checkbox">
          <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.currentTarget.checked)} data-testid="remember" />
          Remember in this browser (the key is stored in this browser’s local storage until you choose “Forget”; anyone using this browser profile could sign as you)
        </label>
        <div class="actions">
          <button type="button" class="button" disabled={chosen === undefined || busy} onClick={() => chosen && void go(chosen, remember)} data-testid="sign-in">
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </div>
        {problem ? <ProblemBox problem={problem} /> : null}
      </div>
    </section>
  );
};
