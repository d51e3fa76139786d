/**
 * The voucher ops a party takes from the console, each a form that validates as you type and
 * builds the op with the SDK's builders (the same strict check the service runs), signs it in the
 * browser and submits it. A refusal is shown with the ledger's code; a success closes the form
 * and says what the ledger recorded.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';

import {
  movedVoucherIdOf,
  opIdOf,
  PLEDGE_REQUEST_FORMAT,
  pledgeRequestText,
  signEnvelope,
  voucherAccept,
  voucherCancel,
  voucherIssue,
  voucherPledge,
  voucherReject,
  voucherRelease,
  voucherSettle,
  voucherSplit,
  voucherTransfer,
  type PledgeRequestFile,
  type SubmitResult,
  type WirePayload,
  type WireVoucher,
} from '../../src/client/index.js';
import { AmountError, currencyStyle, parseAmount } from '../../src/domain/money.js';
import { LIMITS, PATTERNS } from '../../src/domain/limits.js';
import { startsOp } from '../../src/domain/ops.js';
import type { VoucherPayload } from '../../src/domain/types.js';
import { toShown, type Shown } from './explain.js';
import { ledgerInfo, parties, refreshLedger, session, Store, use, type Session } from './state.js';
import { Dialog, Download, Field, fileNameFor, ledgerCurrency, money, Money, ProblemBox, shortId } from './ui.js';

// ---- what a party may do with a voucher ----

/** The ops on an existing voucher (every `voucher.*` op but `voucher.issue`), by their short name. */
export type ActionKind = VoucherPayload['type'] extends `voucher.${infer K}` ? K : never;

export const ACTION_LABEL: Record<ActionKind, string> = {
  accept: 'Accept',
  reject: 'Reject',
  cancel: 'Withdraw offer',
  split: 'Split',
  transfer: 'Transfer',
  pledge: 'Prepare a pledge',
  release: 'Release pledge',
  settle: 'Settle',
};

/**
 * The ops `me` can take on `v`, in `ACTION_LABEL`'s order: those whose declaration (domain/ops.ts)
 * says `me` starts them in `v`'s status. The ledger still decides.
 */
export const actionsFor = (v: WireVoucher, me: string): ActionKind[] =>
  (Object.keys(ACTION_LABEL) as ActionKind[]).filter((kind) => startsOp(`voucher.${kind}`, v, me));

// ---- page-wide notices ----

/** What the ledger recorded for the last op taken on this page. */
export interface Flash {
  readonly text: ComponentChildren;
}

export const flash = new Store<Flash | undefined>(undefined);

const codePoints = (s: string): number => [...s].length;

/**
 * What an amount field says before anything is typed. Fields are free text (no `type=number`, no
 * pattern, no numeric keyboard) so that every form `parseAmount` reads can be typed; the parsed
 * amount is shown back, in the ledger's currency ("= ¥…" for yuan), before signing.
 */
const amountHint = (currency: string = ledgerCurrency()): string =>
  currency === 'CNY' ? '例如 e.g. 1,000,000.00 · ¥ 1,000 · 100万 · 1.5亿' : `e.g. ${currencyStyle(currency).example} · ${currency} 1,000`;

/** An amount without the currency's sign, as it can be typed back into a field (`1,234.56`). */
const typedAmount = (fen: bigint, currency: string = ledgerCurrency()): string => money(fen, currency).slice(currencyStyle(currency).sign.length);

/** An amount as typed, in the ledger's currency: its fen, or why it is not one (empty → undefined both). */
const amountOf = (text: string, currency: string = ledgerCurrency()): { fen?: bigint; error?: string } => {
  if (text.trim().length === 0) return {};
  try {
    return { fen: parseAmount(text, currency) };
  } catch (err) {
    return { error: err instanceof AmountError ? err.reason : String(err) };
  }
};

/** Signs `payload` with the session's key and submits it; the receipt, or a thrown SDK error. */
const submitSigned = async (s: Session, payload: WirePayload): Promise<SubmitResult> => s.client.submit(signEnvelope(payload, [s.key]));

const receiptText = (r: SubmitResult, what: string, created: readonly string[]): ComponentChildren => (
  <span data-testid="receipt">
    {what} {r.duplicate ? '(already on the ledger)' : ''} — entry #{r.seq}, op <code>{r.opId.slice(0, 12)}…</code>
    {created.length > 0 ? (
      <>
        ; new vouchers:{' '}
        {created.map((id) => (
          <code class="new-id" data-new-voucher={id}>
            {shortId(id)}{' '}
          </code>
        ))}
      </>
    ) : null}
  </span>
);

interface FormProps {
  readonly voucher: WireVoucher;
  readonly session: Session;
  readonly onDone: (r: SubmitResult) => void;
  readonly onClose: () => void;
}

/** The submit button, the refusal if any, and the running state of one form. */
const useSubmission = (onDone: (r: SubmitResult) => void) => {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Shown | undefined>(undefined);
  const run = async (make: () => Promise<SubmitResult>) => {
    setBusy(true);
    setProblem(undefined);
    try {
      onDone(await make());
    } catch (err) {
      setProblem(toShown(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, problem, run };
};

const Facts = ({ v }: { v: WireVoucher }) => (
  <dl class="facts facts-compact">
    <dt>Voucher</dt>
    <dd>
      <code title={v.id}>{shortId(v.id)}</code>
    </dd>
    <dt>Amount</dt>
    <dd>
      <Money fen={v.amount} currency={v.currency} />
    </dd>
    <dt>Issuer</dt>
    <dd>{v.issuer}</dd>
    <dt>Due</dt>
    <dd>{v.dueDate}</dd>
  </dl>
);

const Buttons = ({ busy, disabled, label, onClose, testId }: { busy: boolean; disabled?: boolean; label: string; onClose: () => void; testId: string }) => (
  <div class="actions">
    <button type="submit" class="button" disabled={busy || disabled} data-testid={testId}>
      {busy ? 'Signing and sending…' : label}
    </button>
    <button type="button" class="button button-secondary" onClick={onClose}>
      Cancel
    </button>
  </div>
);

// ---- accept / reject / cancel / release: one signature, few fields ----

const SimpleForm = ({ voucher: v, session: s, onDone, onClose, kind }: FormProps & { kind: 'accept' | 'reject' | 'cancel' | 'release' }) => {
  const [reason, setReason] = useState('');
  const { busy, problem, run } = useSubmission(onDone);
  const ledger = ledgerInfo().ledgerId;
  const reasonError = codePoints(reason) > LIMITS.reasonCharsMax ? `at most ${LIMITS.reasonCharsMax} characters (${codePoints(reason)} now)` : undefined;
  const text: Record<typeof kind, string> = {
    accept: `Accept ${money(v.amount, v.currency)} from ${v.holder}. You become its holder.`,
    reject: `Refuse ${money(v.amount, v.currency)} offered by ${v.holder}. ${v.parentId === null && v.holder === v.issuer ? 'The voucher is cancelled and its invoices are free again.' : `It stays with ${v.holder}.`}`,
    cancel: `Withdraw your offer of ${money(v.amount, v.currency)} to ${v.offeredTo ?? '?'}.`,
    release: `Release your pledge on ${money(v.amount, v.currency)} (loan ${v.pledge?.loanRef ?? '?'}). The voucher becomes active again for ${v.holder}.`,
  };
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (reasonError) return;
        void run(() => {
          const payload =
            kind === 'accept'
              ? voucherAccept({ ledger, voucherId: v.id })
              : kind === 'reject'
                ? voucherReject({ ledger, voucherId: v.id, ...(reason.trim() ? { reason: reason.trim() } : {}) })
                : kind === 'cancel'
                  ? voucherCancel({ ledger, voucherId: v.id })
                  : voucherRelease({ ledger, voucherId: v.id });
          return submitSigned(s, payload);
        });
      }}
    >
      <Facts v={v} />
      <p>{text[kind]}</p>
      {kind === 'reject' ? (
        <Field label="Reason (optional)" id="reject-reason" error={reasonError}>
          <input id="reject-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        </Field>
      ) : null}
      <Buttons busy={busy} disabled={reasonError !== undefined} label={`${ACTION_LABEL[kind]} and sign`} onClose={onClose} testId={`confirm-${kind}`} />
      {problem ? <ProblemBox problem={problem} title="Refused" /> : null}
    </form>
  );
};

// ---- split: parts that must add up ----

const SplitForm = ({ voucher: v, session: s, onDone, onClose }: FormProps) => {
  const [parts, setParts] = useState<string[]>(['', '']);
  const { busy, problem, run } = useSubmission(onDone);
  const total = BigInt(v.amount);
  const parsed = parts.map((t) => amountOf(t));
  const known = parsed.map((p) => p.fen ?? 0n);
  const assigned = known.reduce((a, b) => a + b, 0n);
  const allValid = parsed.every((p) => p.fen !== undefined);
  const left = total - assigned;
  const status = left === 0n && allValid ? 'ok' : left < 0n ? 'over' : 'under';
  const setPart = (i: number, value: string) => setParts(parts.map((p, j) => (j === i ? value : p)));
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (status !== 'ok') return;
        void run(() => submitSigned(s, voucherSplit({ ledger: ledgerInfo().ledgerId, voucherId: v.id, amounts: known })));
      }}
    >
      <Facts v={v} />
      <p>
        Split into {LIMITS.splitPartsMin}–{LIMITS.splitPartsMax} parts that add up to exactly {money(total)}. Each part becomes its own voucher that you hold.
      </p>
      {parts.map((text, i) => (
        <div class="split-row">
          <Field
            label={`Part ${i + 1}`}
            id={`split-part-${i}`}
            error={parsed[i]?.error}
            hint={parsed[i]?.fen !== undefined ? `= ${money(parsed[i]!.fen!)}` : undefined}
          >
            <input
              id={`split-part-${i}`}
              placeholder="e.g. 600,000.00"
              value={text}
              data-testid={`split-part-${i}`}
              onInput={(e) => setPart(i, e.currentTarget.value)}
            />
          </Field>
          {parts.length > LIMITS.splitPartsMin ? (
            <button type="button" class="icon-button" aria-label={`Remove part ${i + 1}`} onClick={() => setParts(parts.filter((_, j) => j !== i))}>
              −
            </button>
          ) : null}
        </div>
      ))}
      <div class="actions actions-left">
        <button type="button" class="button button-secondary" disabled={parts.length >= LIMITS.splitPartsMax} onClick={() => setParts([...parts, ''])}>
          Add a part
        </button>
        <button
          type="button"
          class="button button-secondary"
          disabled={left <= 0n || parsed.slice(0, -1).some((p) => p.fen === undefined)}
          onClick={() => {
            const rest = total - known.slice(0, -1).reduce((a, b) => a + b, 0n);
            if (rest > 0n) setPart(parts.length - 1, typedAmount(rest));
          }}
        >
          Put the rest in the last part
        </button>
      </div>
      <div class={`sum sum-${status}`} data-testid="split-sum" data-status={status}>
        {status === 'ok' ? '✓ ' : ''}Parts add up to {money(assigned)} of {money(total)}
        {status === 'under' ? ` — ${money(left)} left to assign` : status === 'over' ? ` — ${money(-left)} too much` : ''}
      </div>
      <Buttons busy={busy} disabled={status !== 'ok'} label="Split and sign" onClose={onClose} testId="confirm-split" />
      {problem ? <ProblemBox problem={problem} title="Refused" /> : null}
    </form>
  );
};

// ---- choosing a party ----

const PartyChoice = ({
  id,
  label,
  value,
  onInput,
  roles,
  exclude,
  error,
}: {
  id: string;
  label: string;
  value: string;
  onInput: (v: string) => void;
  roles: readonly string[];
  exclude?: string;
  error: string | undefined;
}) => {
  const list = use(parties) ?? [];
  const options = list.filter((p) => roles.includes(p.role) && p.status === 'active' && p.id !== exclude);
  return (
    <Field label={label} id={id} error={error} hint={options.length > 0 ? `${options.length} to choose from; or type a party id` : 'type a party id'}>
      <input
        id={id}
        list={`${id}-list`}
        value={value}
        spellcheck={false}
        autocomplete="off"
        data-testid={id}
        onInput={(e) => onInput(e.currentTarget.value.trim())}
      />
      <datalist id={`${id}-list`}>
        {options.map((p) => (
          <option value={p.id}>{`${p.name} (${p.role})`}</option>
        ))}
      </datalist>
    </Field>
  );
};

/** Why `id` cannot be the other party of an op, or undefined. */
const partyProblem = (id: string, roles: readonly string[], me: string): string | undefined => {
  if (id.length === 0) return undefined;
  if (!PATTERNS.partyId.test(id)) return 'not a party id (lowercase letters, digits and inner hyphens)';
  if (id === me) return 'that is you';
  const p = parties.value?.find((x) => x.id === id);
  if (parties.value !== undefined && p === undefined) return 'no such party on this ledger';
  if (p && !roles.includes(p.role)) return `${id} is a ${p.role}; choose a ${roles.join(' or ')}`;
  if (p && p.status !== 'active') return `${id} is suspended`;
  return undefined;
};

/** The partial amount field shared by transfer and pledge. */
const partialProblem = (partial: boolean, text: string, total: bigint): { fen?: bigint; error?: string } => {
  if (!partial) return {};
  const a = amountOf(text);
  if (a.error) return a;
  if (a.fen !== undefined && a.fen >= total) return { error: `must be below the voucher’s ${money(total)}; untick “only part” to move the whole voucher` };
  return a;
};

// ---- transfer ----

const TransferForm = ({ voucher: v, session: s, onDone, onClose }: FormProps) => {
  const [to, setTo] = useState('');
  const [partial, setPartial] = useState(false);
  const [amount, setAmount] = useState('');
  const { busy, problem, run } = useSubmission(onDone);
  const total = BigInt(v.amount);
  const toError = partyProblem(to, ['supplier', 'bank'], s.key.party);
  const part = partialProblem(partial, amount, total);
  const ready = to.length > 0 && !toError && !part.error && (!partial || part.fen !== undefined);
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (!ready) return;
        void run(() =>
          submitSigned(s, voucherTransfer({ ledger: ledgerInfo().ledgerId, voucherId: v.id, to, ...(part.fen !== undefined ? { amount: part.fen } : {}) })),
        );
      }}
    >
      <Facts v={v} />
      <PartyChoice
        id="transfer-to"
        label="To (a supplier or a bank)"
        value={to}
        onInput={setTo}
        roles={['supplier', 'bank']}
        exclude={s.key.party}
        error={toError}
      />
      <label class="checkbox">
        <input type="checkbox" checked={partial} onChange={(e) => setPartial(e.currentTarget.checked)} data-testid="transfer-partial" />
        Transfer only part of it (the rest stays with you as its own voucher)
      </label>
      {partial ? (
        <Field
          label="Amount to transfer"
          id="transfer-amount"
          error={part.error}
          hint={part.fen !== undefined ? `= ${money(part.fen)} to ${to || '…'}, ${money(total - part.fen)} stays with you` : amountHint()}
        >
          <input
            id="transfer-amount"
            value={amount}
            placeholder="e.g. 100,000.00"
            data-testid="transfer-amount"
            onInput={(e) => setAmount(e.currentTarget.value)}
          />
        </Field>
      ) : null}
      <p class="muted">The recipient must accept it; until then you can withdraw the offer.</p>
      <Buttons busy={busy} disabled={!ready} label="Transfer and sign" onClose={onClose} testId="confirm-transfer" />
      {problem ? <ProblemBox problem={problem} title="Refused" /> : null}
    </form>
  );
};

// ---- settle ----

const SettleForm = ({ voucher: v, session: s, onDone, onClose }: FormProps) => {
  const [ref, setRef] = useState('');
  const { busy, problem, run } = useSubmission(onDone);
  const refError = codePoints(ref.trim()) > LIMITS.refCharsMax ? `at most ${LIMITS.refCharsMax} characters` : undefined;
  const payee = v.status === 'pledged' ? (v.pledge?.bank ?? '?') : v.holder;
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (refError || ref.trim().length === 0) return;
        void run(() => submitSigned(s, voucherSettle({ ledger: ledgerInfo().ledgerId, voucherId: v.id, paymentRef: ref.trim() })));
      }}
    >
      <Facts v={v} />
      <p>
        Record that you paid {money(v.amount, v.currency)} to <strong>{payee}</strong>
        {v.status === 'pledged' ? ' (the pledgee bank)' : ' (the holder)'}.
      </p>
      <Field label="Payment reference" id="settle-ref" error={refError} hint="e.g. the bank transfer's reference">
        <input id="settle-ref" value={ref} data-testid="settle-ref" onInput={(e) => setRef(e.currentTarget.value)} />
      </Field>
      <Buttons busy={busy} disabled={refError !== undefined || ref.trim().length === 0} label="Settle and sign" onClose={onClose} testId="confirm-settle" />
      {problem ? <ProblemBox problem={problem} title="Refused" /> : null}
    </form>
  );
};

// ---- pledge: the holder's half, as a request file for the bank ----

const EXPIRY_HOURS_DEFAULT = 24;
const EXPIRY_HOURS_MAX = 24 * 30;

const PledgeForm = ({ voucher: v, session: s, onClose }: Omit<FormProps, 'onDone'>) => {
  const [bank, setBank] = useState('');
  const [loanRef, setLoanRef] = useState('');
  const [partial, setPartial] = useState(false);
  const [amount, setAmount] = useState('');
  const [hours, setHours] = useState(String(EXPIRY_HOURS_DEFAULT));
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Shown | undefined>(undefined);
  const [request, setRequest] = useState<PledgeRequestFile | undefined>(undefined);
  const total = BigInt(v.amount);
  const bankError = partyProblem(bank, ['bank'], s.key.party);
  const refError = codePoints(loanRef.trim()) > LIMITS.refCharsMax ? `at most ${LIMITS.refCharsMax} characters` : undefined;
  const part = partialProblem(partial, amount, total);
  const hoursError = /^[1-9][0-9]{0,3}$/.test(hours) && Number(hours) <= EXPIRY_HOURS_MAX ? undefined : `a whole number of hours, 1–${EXPIRY_HOURS_MAX}`;
  const ready = bank.length > 0 && !bankError && loanRef.trim().length > 0 && !refError && !part.error && (!partial || part.fen !== undefined) && !hoursError;

  if (request) {
    const p = request.envelope.payload;
    const text = pledgeRequestText(request);
    return (
      <div data-testid="pledge-request-ready">
        <p>
          You signed a pledge of <strong>{money(p.amount ?? v.amount, v.currency)}</strong> of <code>{shortId(v.id)}</code> to <strong>{p.bank}</strong> (loan{' '}
          {p.loanRef}). Send the request file to the bank: it checks the proof inside, co-signs it on its Pledges page (or with <code>rvl pledge cosign</code>),
          and either of you submits it.
        </p>
        <ul class="summary">
          {request.summary.slice(1).map((l) => (
            <li>{l}</li>
          ))}
        </ul>
        <div class="actions">
          <Download text={text} name={fileNameFor('pledge', p.voucherId)} testId="download-pledge-request">
            Download the request file
          </Download>
          <button type="button" class="button button-secondary" onClick={onClose}>
            Done
          </button>
        </div>
      </div>
    );
  }

  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (!ready) return;
        setBusy(true);
        setProblem(undefined);
        void (async () => {
          try {
            const ledger = ledgerInfo().ledgerId;
            const expiresAt = new Date(Date.now() + Number(hours) * 3_600_000);
            const payload = voucherPledge({
              ledger,
              expiresAt,
              voucherId: v.id,
              bank,
              loanRef: loanRef.trim(),
              ...(part.fen !== undefined ? { amount: part.fen } : {}),
            });
            const envelope = signEnvelope(payload, [s.key]);
            const proof = await s.client.proof(v.id);
            const pledgedId = movedVoucherIdOf(payload, v) ?? v.id;
            const pledged = payload.amount ?? v.amount;
            const summary = [
              `Pledge request: ${s.key.party} asks ${bank} to take ${money(pledged)} of voucher ${v.id} in pledge.`,
              `voucher: ${v.id}`,
              `issuer: ${v.issuer}`,
              `holder: ${v.holder}`,
              `amount: ${money(pledged)} (${payload.amount === undefined ? 'the whole voucher' : `part of ${money(v.amount, v.currency)}; the pledged part will be ${pledgedId}`})`,
              `due date: ${v.dueDate}`,
              `bank: ${bank}`,
              `loan ref: ${payload.loanRef}`,
              `ledger: ${ledger}`,
              `expires: ${payload.expiresAt ?? 'never'}`,
              `Signed by the holder ${s.key.party} in the web console (op ${opIdOf(payload)}). Next: ${bank} co-signs it, then either party submits it.`,
            ];
            setRequest({ format: PLEDGE_REQUEST_FORMAT, summary, envelope, proof });
          } catch (err) {
            setProblem(toShown(err));
          } finally {
            setBusy(false);
          }
        })();
      }}
    >
      <Facts v={v} />
      <p>A pledge needs two signatures: yours here, then the bank’s. This prepares a request file with your signature and the voucher’s proof, for the bank.</p>
      <PartyChoice id="pledge-bank" label="Bank" value={bank} onInput={setBank} roles={['bank']} exclude={s.key.party} error={bankError} />
      <Field label="Loan reference" id="pledge-loan-ref" error={refError} hint="the bank’s reference for the loan">
        <input id="pledge-loan-ref" value={loanRef} data-testid="pledge-loan-ref" onInput={(e) => setLoanRef(e.currentTarget.value)} />
      </Field>
      <label class="checkbox">
        <input type="checkbox" checked={partial} onChange={(e) => setPartial(e.currentTarget.checked)} />
        Pledge only part of it
      </label>
      {partial ? (
        <Field label="Amount to pledge" id="pledge-amount" error={part.error} hint={part.fen !== undefined ? `= ${money(part.fen)}` : amountHint()}>
          <input id="pledge-amount" value={amount} onInput={(e) => setAmount(e.currentTarget.value)} />
        </Field>
      ) : null}
      <Field label="The request expires after (hours)" id="pledge-hours" error={hoursError}>
        <input id="pledge-hours" inputMode="numeric" value={hours} onInput={(e) => setHours(e.currentTarget.value.trim())} />
      </Field>
      <div class="actions">
        <button type="submit" class="button" disabled={busy || !ready} data-testid="confirm-pledge">
          {busy ? 'Signing…' : 'Sign and prepare the request'}
        </button>
        <button type="button" class="button button-secondary" onClick={onClose}>
          Cancel
        </button>
      </div>
      {problem ? <ProblemBox problem={problem} title="Not prepared" /> : null}
    </form>
  );
};

// ---- the dialog ----

const TITLES: Record<ActionKind, string> = {
  accept: 'Accept the voucher',
  reject: 'Reject the offer',
  cancel: 'Withdraw the offer',
  split: 'Split the voucher',
  transfer: 'Transfer the voucher',
  pledge: 'Prepare a pledge for a bank',
  release: 'Release the pledge',
  settle: 'Settle the voucher',
};

const DONE: Record<ActionKind, string> = {
  accept: 'Accepted',
  reject: 'Rejected',
  cancel: 'Offer withdrawn',
  split: 'Split',
  transfer: 'Offered',
  pledge: 'Pledge prepared',
  release: 'Pledge released',
  settle: 'Settled',
};

/** Which voucher ids an op created, from the receipt's effects (new ones since the op's voucher). */
const createdIds = (r: SubmitResult, v: WireVoucher): string[] => r.effects.vouchers.filter((x) => x.id !== v.id && x.createdSeq === r.seq).map((x) => x.id);

/** Clears the page's notice when a form opens: what it says is about the step before. */
const useFreshNotice = (): void => {
  useEffect(() => flash.set(undefined), []);
};

export const ActionDialog = ({ kind, voucher, onClose, onDone }: { kind: ActionKind; voucher: WireVoucher; onClose: () => void; onDone: () => void }) => {
  useFreshNotice();
  const s = use(session);
  if (!s) return null;
  const done = (r: SubmitResult) => {
    flash.set({ text: receiptText(r, `${DONE[kind]} ${shortId(voucher.id)}`, createdIds(r, voucher)) });
    onClose();
    onDone();
    void refreshLedger();
  };
  const props = { voucher, session: s, onDone: done, onClose };
  return (
    <Dialog title={TITLES[kind]} onClose={onClose}>
      {kind === 'split' ? (
        <SplitForm {...props} />
      ) : kind === 'transfer' ? (
        <TransferForm {...props} />
      ) : kind === 'settle' ? (
        <SettleForm {...props} />
      ) : kind === 'pledge' ? (
        <PledgeForm voucher={voucher} session={s} onClose={onClose} />
      ) : (
        <SimpleForm {...props} kind={kind} />
      )}
    </Dialog>
  );
};

// ---- issue (core enterprises) ----

const isoDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export const IssueDialog = ({ onClose, onDone }: { onClose: () => void; onDone: () => void }) => {
  useFreshNotice();
  const s = use(session);
  const info = ledgerInfo();
  const [to, setTo] = useState('');
  const [amount, setAmount] = useState('');
  const [due, setDue] = useState('');
  const [invoices, setInvoices] = useState('');
  const [memo, setMemo] = useState('');
  const { busy, problem, run } = useSubmission((r) => {
    flash.set({
      text: receiptText(
        r,
        `Issued ${r.effects.vouchers[0] ? money(r.effects.vouchers[0].amount) : ''} to ${to}`,
        r.effects.vouchers.map((v) => v.id),
      ),
    });
    onClose();
    onDone();
    void refreshLedger();
  });
  const dayMs = 86_400_000;
  const minDue = isoDate(Date.now() + dayMs);
  const maxDue = isoDate(Date.now() + info.maxTenorDays * dayMs);
  const ids = useMemo(
    () =>
      invoices
        .split(/[\n,]/)
        .map((x) => x.trim())
        .filter((x) => x.length > 0),
    [invoices],
  );
  if (!s) return null;
  const toError = partyProblem(to, ['supplier'], s.key.party);
  const a = amountOf(amount);
  const dueError =
    due.length === 0
      ? undefined
      : !PATTERNS.date.test(due)
        ? 'a date, YYYY-MM-DD'
        : due < minDue
          ? 'must be after today'
          : due > maxDue
            ? `at most ${info.maxTenorDays} days ahead (${maxDue})`
            : undefined;
  const invoiceError =
    ids.length > LIMITS.invoiceIdsMax
      ? `at most ${LIMITS.invoiceIdsMax} invoices`
      : ids.find((x) => codePoints(x) > LIMITS.invoiceIdCharsMax)
        ? `an invoice id has at most ${LIMITS.invoiceIdCharsMax} characters`
        : new Set(ids).size !== ids.length
          ? 'an invoice is listed twice'
          : undefined;
  const memoError = codePoints(memo) > LIMITS.memoCharsMax ? `at most ${LIMITS.memoCharsMax} characters (${codePoints(memo)} now)` : undefined;
  const ready = to.length > 0 && !toError && a.fen !== undefined && due.length > 0 && !dueError && ids.length > 0 && !invoiceError && !memoError;
  return (
    <Dialog title="Issue a voucher" onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!ready || a.fen === undefined) return;
          void run(() =>
            submitSigned(
              s,
              voucherIssue({
                ledger: info.ledgerId,
                issuer: s.key.party,
                to,
                amount: a.fen!,
                currency: info.currency,
                dueDate: due,
                invoiceIds: ids,
                ...(memo.trim() ? { memo: memo.trim() } : {}),
              }),
            ),
          );
        }}
      >
        <p>A voucher is your signed promise to pay a supplier on the due date, backed by invoices. The supplier must accept it. Currency: {info.currency}.</p>
        <PartyChoice id="issue-to" label="Supplier" value={to} onInput={setTo} roles={['supplier']} error={toError} />
        <Field
          label={`Amount (${currencyStyle(info.currency).sign.trim()})`}
          id="issue-amount"
          error={a.error}
          hint={a.fen !== undefined ? <span data-testid="issue-amount-parsed">= {money(a.fen)}</span> : amountHint()}
        >
          <input id="issue-amount" value={amount} data-testid="issue-amount" onInput={(e) => setAmount(e.currentTarget.value)} />
        </Field>
        <Field label="Due date" id="issue-due" error={dueError} hint={`between ${minDue} and ${maxDue}`}>
          <input id="issue-due" type="date" min={minDue} max={maxDue} value={due} data-testid="issue-due" onInput={(e) => setDue(e.currentTarget.value)} />
        </Field>
        <Field
          label="Invoice ids (one per line or comma-separated)"
          id="issue-invoices"
          error={invoiceError}
          hint={ids.length > 0 ? `${ids.length} invoice${ids.length === 1 ? '' : 's'}` : undefined}
        >
          <textarea id="issue-invoices" rows={2} value={invoices} data-testid="issue-invoices" onInput={(e) => setInvoices(e.currentTarget.value)} />
        </Field>
        <Field label="Memo (optional)" id="issue-memo" error={memoError}>
          <input id="issue-memo" value={memo} onInput={(e) => setMemo(e.currentTarget.value)} />
        </Field>
        <Buttons busy={busy} disabled={!ready} label="Issue and sign" onClose={onClose} testId="confirm-issue" />
        {problem ? <ProblemBox problem={problem} title="Refused" /> : null}
      </form>
    </Dialog>
  );
};
