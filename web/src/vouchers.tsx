/**
 * "My vouchers": every voucher the signed-in party holds, is offered, has pledged or been pledged,
 * was paid, or issued (`GET /v1/parties/:id/vouchers`, every page), grouped with totals, and the
 * ops the party can take on each.
 *
 * Settled vouchers are grouped by who was paid (`settlement.payee`): "settled to me" counts only
 * money paid to this party; a voucher it held but had pledged was paid to the bank, and is shown
 * apart, never in what it received. Parties that hold no vouchers (auditors, the operator) are
 * pointed to their own pages.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';

import type { WireVoucher } from '../../src/client/index.js';
import { ACTION_LABEL, actionsFor, ActionDialog, IssueDialog, type ActionKind } from './actions.js';
import { toShown, type Shown } from './explain.js';
import { LANDING, loadParties, use, session, type Session } from './state.js';
import { Link, Money, Party, ProblemBox, Spinner, Status, sum, VoucherLink } from './ui.js';

/** The sentences of this page that are new in both languages (the rest waits for the zh catalog). */
const TEXT = {
  settledToMe: '已结清给我 Settled to me',
  settledToMeBlurb: '到期付给你的款项 vouchers paid to you at maturity',
  paidByMe: '已付款 Settled (paid by me)',
  paidByMeBlurb: '你已付款的凭证 vouchers you have paid',
  settledToPledgee: '已结清，付给质权银行 Settled, paid to your bank',
  settledToPledgeeBlurb: '你质押的凭证到期付给了银行，不是你收到的款项 vouchers you had pledged: the issuer paid the bank that held them, not you',
  paidToPledgee: (bank: string) => `已结清（付给 ${bank}，质押） settled, paid to ${bank} (pledged)`,
  noVouchers: (role: string) => `${role === 'auditor' ? '审计方' : '运营方'}不持有凭证。 An ${role} holds no vouchers.`,
  goToOwnPage: (role: string) => (role === 'auditor' ? 'Go to the audit page' : 'Go to the parties'),
};

interface Group {
  readonly key: string;
  readonly title: string;
  readonly blurb: string;
  readonly items: readonly WireVoucher[];
  /** Whom the "counterparty" column shows. */
  readonly other: (v: WireVoucher) => string | null;
  readonly otherLabel: string;
}

/** The groups a party sees, in the order people look for them. */
export const groupsOf = (all: readonly WireVoucher[], s: Session): Group[] => {
  const me = s.key.party;
  const role = s.party.role;
  const groups: Group[] = [
    {
      key: 'offered',
      title: 'Offered to me',
      blurb: 'waiting for you to accept or reject',
      items: all.filter((v) => v.status === 'offered' && v.offeredTo === me),
      other: (v) => v.holder,
      otherLabel: 'from',
    },
    {
      key: 'held',
      title: 'Held',
      blurb: 'active vouchers you hold: split, transfer or pledge them',
      items: all.filter((v) => v.status === 'active' && v.holder === me),
      other: (v) => v.issuer,
      otherLabel: 'issuer',
    },
    {
      key: 'pledged',
      title: role === 'bank' ? 'Pledged to me' : 'Pledged',
      blurb: role === 'bank' ? 'vouchers held in pledge by you' : 'your vouchers held in pledge by a bank',
      items: all.filter((v) => v.status === 'pledged' && (v.holder === me || v.pledge?.bank === me)),
      other: (v) => (v.pledge?.bank === me ? v.holder : (v.pledge?.bank ?? null)),
      otherLabel: role === 'bank' ? 'holder' : 'bank',
    },
    role === 'core'
      ? {
          key: 'settled',
          title: TEXT.paidByMe,
          blurb: TEXT.paidByMeBlurb,
          items: all.filter((v) => v.status === 'settled' && v.issuer === me),
          other: (v) => v.settlement?.payee ?? null,
          otherLabel: 'paid to',
        }
      : {
          key: 'settled',
          title: TEXT.settledToMe,
          blurb: TEXT.settledToMeBlurb,
          items: all.filter((v) => v.status === 'settled' && v.settlement?.payee === me),
          other: (v) => v.issuer,
          otherLabel: 'paid by',
        },
    {
      key: 'outgoing',
      title: 'Offered by me',
      blurb: 'waiting for the recipient to accept',
      items: all.filter((v) => v.status === 'offered' && v.holder === me),
      other: (v) => v.offeredTo,
      otherLabel: 'to',
    },
  ];
  const paidToPledgee = all.filter((v) => v.status === 'settled' && v.holder === me && v.settlement !== null && v.settlement.payee !== me);
  if (role !== 'core' && paidToPledgee.length > 0) {
    // Right after "settled to me", so the two are read together.
    groups.splice(groups.findIndex((x) => x.key === 'settled') + 1, 0, {
      key: 'settled-to-pledgee',
      title: TEXT.settledToPledgee,
      blurb: TEXT.settledToPledgeeBlurb,
      items: paidToPledgee,
      other: (v) => v.settlement?.payee ?? null,
      otherLabel: 'paid to',
    });
  }
  if (role === 'core') {
    groups.push({
      key: 'outstanding',
      title: 'Outstanding (issued by me)',
      blurb: 'every live voucher you must pay at maturity',
      items: all.filter((v) => v.issuer === me && (v.status === 'active' || v.status === 'pledged' || v.status === 'offered')),
      other: (v) => (v.status === 'pledged' ? (v.pledge?.bank ?? null) : v.status === 'offered' ? v.offeredTo : v.holder),
      otherLabel: 'pay to',
    });
  }
  return groups;
};

const VoucherTable = ({ group, me, onAction }: { group: Group; me: string; onAction: (kind: ActionKind, v: WireVoucher) => void }) => (
  <table class="vouchers stack" data-group={group.key}>
    <thead>
      <tr>
        <th>voucher</th>
        <th class="num">amount</th>
        <th>{group.otherLabel}</th>
        <th>due</th>
        <th>status</th>
        <th />
      </tr>
    </thead>
    <tbody>
      {group.items.map((v) => {
        const actions = actionsFor(v, me);
        return (
          <tr data-voucher-row={v.id}>
            <td data-label="voucher">
              <VoucherLink id={v.id} />
            </td>
            <td class="num" data-label="amount">
              <Money fen={v.amount} currency={v.currency} />
            </td>
            <td data-label={group.otherLabel}>
              <Party id={group.other(v)} />
            </td>
            <td data-label="due">{v.dueDate}</td>
            <td data-label="status">
              {v.status === 'settled' && v.settlement !== null && v.settlement.payee !== me && v.holder === me ? (
                <span class="status status-settled" data-testid="paid-to-pledgee">
                  {TEXT.paidToPledgee(v.settlement.payee)}
                </span>
              ) : (
                <Status status={v.status} />
              )}
            </td>
            <td class={actions.length > 0 ? 'row-actions' : 'row-actions row-actions-none'}>
              {actions.map((a) => (
                <button
                  type="button"
                  class={a === 'reject' || a === 'cancel' ? 'button button-small button-secondary' : 'button button-small'}
                  data-action={a}
                  onClick={() => onAction(a, v)}
                >
                  {ACTION_LABEL[a]}
                </button>
              ))}
            </td>
          </tr>
        );
      })}
    </tbody>
  </table>
);

export const Vouchers = () => {
  const s = use(session);
  const [all, setAll] = useState<readonly WireVoucher[] | undefined>(undefined);
  const [problem, setProblem] = useState<Shown | undefined>(undefined);
  const [action, setAction] = useState<{ kind: ActionKind; voucher: WireVoucher } | undefined>(undefined);
  const [issuing, setIssuing] = useState(false);
  const [loading, setLoading] = useState(false);

  const load = useCallback(async () => {
    if (!s || s.party.role === 'auditor' || s.party.role === 'operator') return;
    setLoading(true);
    try {
      const items: WireVoucher[] = [];
      for await (const v of s.client.vouchersOf(s.key.party, { limit: 1000 })) items.push(v);
      setAll(items);
      setProblem(undefined);
      void loadParties().catch(() => undefined);
    } catch (err) {
      setProblem(toShown(err));
    } finally {
      setLoading(false);
    }
  }, [s]);

  useEffect(() => {
    void load();
  }, [load]);

  if (!s) return null;
  if (s.party.role === 'auditor' || s.party.role === 'operator') {
    return (
      <section class="page page-narrow">
        <h1>My vouchers</h1>
        <p data-testid="no-vouchers">{TEXT.noVouchers(s.party.role)}</p>
        <p>
          <Link href={LANDING[s.party.role]} class="button">
            {TEXT.goToOwnPage(s.party.role)}
          </Link>
        </p>
      </section>
    );
  }
  const groups = all ? groupsOf(all, s) : [];
  return (
    <section class="page">
      <div class="page-head">
        <div>
          <h1>My vouchers</h1>
          <p class="muted">
            {s.party.name} · {s.party.role} · <code>{s.key.party}</code>
          </p>
        </div>
        <div class="actions">
          {s.party.role === 'core' ? (
            <button type="button" class="button" onClick={() => setIssuing(true)} data-testid="issue">
              Issue a voucher
            </button>
          ) : null}
          <button type="button" class="button button-secondary" onClick={() => void load()} disabled={loading} data-testid="refresh">
            {loading ? 'Refreshing…' : 'Refresh'}
          </button>
        </div>
      </div>
      {problem ? <ProblemBox problem={problem} title="Could not read your vouchers" /> : null}
      {all === undefined && !problem ? <Spinner label="Reading your vouchers…" /> : null}
      {all !== undefined ? (
        <>
          <div class="totals">
            {groups.map((g) => (
              <a class={`total total-${g.key}`} href={`#group-${g.key}`} data-total={g.key}>
                <span class="total-title">{g.title}</span>
                <Money fen={sum(g.items.map((v) => v.amount))} class="total-amount" />
                <span class="total-count">
                  {g.items.length} voucher{g.items.length === 1 ? '' : 's'}
                </span>
              </a>
            ))}
          </div>
          {groups.map((g) => (
            <div class="group" id={`group-${g.key}`}>
              <h2>
                {g.title} <span class="muted">— {g.blurb}</span>
              </h2>
              {g.items.length === 0 ? (
                <p class="muted empty">None.</p>
              ) : (
                <VoucherTable group={g} me={s.key.party} onAction={(kind, voucher) => setAction({ kind, voucher })} />
              )}
            </div>
          ))}
        </>
      ) : null}
      {action ? <ActionDialog kind={action.kind} voucher={action.voucher} onClose={() => setAction(undefined)} onDone={() => void load()} /> : null}
      {issuing ? <IssueDialog onClose={() => setIssuing(false)} onDone={() => void load()} /> : null}
    </section>
  );
};
