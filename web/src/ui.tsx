/**
 * Small building blocks shared by the console's pages: amounts, statuses, failures, fields, file
 * drops, check lists, dialogs.
 */
import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';

import type { VoucherStatus } from '../../src/client/index.js';
import { formatAmount } from '../../src/domain/money.js';
import type { Shown } from './explain.js';
import { ledger, navigate, parties, use, voucherPath } from './state.js';

// ---- text ----

/** `v3f9a0c1d…:0-60000000`: the root's first 8 hex digits and the range, for tables. */
export const shortId = (id: string): string => {
  const [root = id, range] = id.split(':');
  return `${root.slice(0, 9)}…${range === undefined ? '' : `:${range}`}`;
};

/** `2026-11-28 09:30:00 UTC` from an RFC 3339 time. */
export const shortTime = (iso: string): string => {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
};

/** The ledger's currency (its genesis `currency`), once the ledger info is loaded; CNY until then. */
export const ledgerCurrency = (): string => {
  const l = ledger.value;
  return l.kind === 'ready' ? l.info.currency : 'CNY';
};

/** Minor units as people read them, in `currency` (default: the ledger's): `¥1,234.56`, `USD 1,234.56`. */
export const money = (fen: bigint | string, currency: string = ledgerCurrency()): string => formatAmount(fen, currency);

export const sum = (amounts: readonly (string | bigint)[]): bigint => amounts.reduce<bigint>((a, b) => a + BigInt(b), 0n);

// ---- small components ----

/** An amount, in the voucher's `currency` where one is shown, else the ledger's. */
export const Money = ({ fen, currency, class: cls }: { fen: bigint | string; currency?: string; class?: string }) => (
  <span class={`money ${cls ?? ''}`}>{money(fen, currency ?? ledgerCurrency())}</span>
);

export const STATUS_LABEL: Record<VoucherStatus, string> = {
  offered: 'offered',
  active: 'active',
  pledged: 'pledged',
  split: 'split',
  settled: 'settled',
  cancelled: 'cancelled',
};

export const Status = ({ status }: { status: VoucherStatus }) => <span class={`status status-${status}`}>{STATUS_LABEL[status]}</span>;

export const Party = ({ id }: { id: string | null | undefined }) => {
  const list = use(parties);
  if (id == null) return <span class="muted">—</span>;
  const p = list?.find((x) => x.id === id);
  return (
    <span class="party" title={p ? `${p.name} (${p.role})` : id}>
      {id}
      {p && p.name !== id ? <span class="party-name"> {p.name}</span> : null}
    </span>
  );
};

export const Link = ({ href, children, class: cls, ...rest }: { href: string; children: ComponentChildren; class?: string } & Record<string, unknown>) => (
  <a
    href={href}
    class={cls}
    {...rest}
    onClick={(e: MouseEvent) => {
      if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      e.preventDefault();
      navigate(href);
    }}
  >
    {children}
  </a>
);

export const VoucherLink = ({ id }: { id: string }) => (
  <Link href={voucherPath(id)} class="voucher-id" title={id} data-voucher-id={id}>
    {shortId(id)}
  </Link>
);

/** A refusal or failure: the code, a plain explanation, and the detail from the answer. */
export const ProblemBox = ({ problem, title }: { problem: Shown; title?: string }) => (
  <div class="problem" role="alert" data-code={problem.code}>
    <div class="problem-head">
      <span class="problem-code">{problem.code}</span>
      {problem.status !== undefined ? <span class="problem-status">HTTP {problem.status}</span> : null}
      {title ? <span class="problem-title">{title}</span> : null}
    </div>
    <p class="problem-text">{problem.text}</p>
    {problem.detail ? (
      <p class="problem-detail">
        {problem.source === 'ledger' ? 'The ledger says: ' : ''}
        {problem.detail}
      </p>
    ) : null}
  </div>
);

export const Notice = ({ children, kind = 'ok' }: { children: ComponentChildren; kind?: 'ok' | 'info' | 'warn' }) => (
  <div class={`notice notice-${kind}`} role="status">
    {children}
  </div>
);

export const Field = ({
  label,
  error,
  hint,
  children,
  id,
}: {
  label: string;
  error?: string | undefined;
  hint?: ComponentChildren;
  children: ComponentChildren;
  id?: string;
}) => (
  <div class={`field ${error ? 'field-invalid' : ''}`}>
    <label for={id}>{label}</label>
    {children}
    {error ? (
      <div class="field-error" role="alert">
        {error}
      </div>
    ) : hint ? (
      <div class="field-hint">{hint}</div>
    ) : null}
  </div>
);

export const Spinner = ({ label = 'Loading…' }: { label?: string }) => (
  <div class="spinner" role="status">
    <span class="spinner-dot" /> {label}
  </div>
);

/** A check list (proof bundle or pledge review): each step passing or failing. */
export const Checks = ({ checks }: { checks: readonly { name: string; ok: boolean; detail: string; code?: string | undefined }[] }) => (
  <ol class="checks">
    {checks.map((c) => (
      <li class={c.ok ? 'check check-ok' : 'check check-fail'} data-check={c.name} data-ok={String(c.ok)}>
        <span class="check-mark" aria-hidden="true">
          {c.ok ? '✓' : '✗'}
        </span>
        <span class="check-name">{c.name}</span>
        <span class="check-detail">
          {c.code ? <span class="check-code">{c.code}</span> : null}
          {c.detail}
        </span>
      </li>
    ))}
  </ol>
);

/** A drop zone and file picker that hands over the text of one file. */
export const FileDrop = ({
  label,
  accept = '.json,application/json',
  onText,
  testId,
}: {
  label: string;
  accept?: string;
  onText: (text: string, name: string) => void;
  testId?: string;
}) => {
  const [over, setOver] = useState(false);
  const [name, setName] = useState<string | undefined>(undefined);
  const read = async (file: File | undefined | null) => {
    if (!file) return;
    setName(file.name);
    onText(await file.text(), file.name);
  };
  return (
    <label
      class={`drop ${over ? 'drop-over' : ''}`}
      onDragOver={(e: DragEvent) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e: DragEvent) => {
        e.preventDefault();
        setOver(false);
        void read(e.dataTransfer?.files[0]);
      }}
    >
      <input
        type="file"
        accept={accept}
        data-testid={testId}
        onChange={(e: JSX.TargetedEvent<HTMLInputElement>) => {
          void read(e.currentTarget.files?.[0]);
          e.currentTarget.value = '';
        }}
      />
      <span class="drop-label">{label}</span>
      <span class="drop-hint">{name ? `Loaded ${name}` : 'Drop a file here, or click to choose one'}</span>
    </label>
  );
};

/** A modal dialog (the native <dialog>): Escape or the close button closes it. */
export const Dialog = ({ title, onClose, children, wide }: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) => {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      class={wide ? 'dialog dialog-wide' : 'dialog'}
      aria-label={title}
      onCancel={(e: Event) => {
        e.preventDefault();
        onClose();
      }}
    >
      <header class="dialog-head">
        <h2>{title}</h2>
        <button type="button" class="icon-button" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </header>
      <div class="dialog-body">{children}</div>
    </dialog>
  );
};

/** A download link for a text file made in the browser (a Blob URL, revoked on unmount). */
export const Download = ({ text, name, children, testId }: { text: string; name: string; children: ComponentChildren; testId?: string }) => {
  const url = useMemo(() => URL.createObjectURL(new Blob([text], { type: 'application/json' })), [text]);
  useEffect(() => () => URL.revokeObjectURL(url), [url]);
  return (
    <a class="button button-secondary" href={url} download={name} data-testid={testId}>
      {children}
    </a>
  );
};

/** A file name safe on every system, from a voucher id. */
export const fileNameFor = (prefix: string, id: string): string => `${prefix}-${id.replace(/[^A-Za-z0-9_-]+/g, '_')}.json`;
