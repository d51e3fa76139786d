/**
 * An entry of the log in plain words, for timelines and the auditor's recent activity. Reads only
 * the signed payload (what the parties signed), never a summary from the service.
 */
import type { HashedEntry } from '../../src/client/index.js';
import type { OpType } from '../../src/domain/types.js';
import { money as moneyText } from './ui.js';

type Payload = Record<string, unknown>;

const str = (x: unknown): string => (typeof x === 'string' ? x : '?');
const money = (x: unknown): string => (typeof x === 'string' && /^[0-9]{1,16}$/.test(x) ? moneyText(x) : '?');

/** The op type and a sentence about it. */
export const describeEntry = (item: HashedEntry): { type: string; text: string; signers: string[] } => {
  const op = item.entry.op as unknown as { payload?: Payload; signatures?: readonly { signer?: unknown }[] };
  const p: Payload = op.payload ?? {};
  const signers = (op.signatures ?? []).map((s) => str(s.signer));
  const by = signers[0] ?? '?';
  const type = str(p.type);
  const v = str(p.voucherId);
  const text = ((): string => {
    const known = type as OpType | 'ledger.genesis';
    switch (known) {
      case 'ledger.genesis':
        return `Ledger “${str(p.name)}” created (${str(p.currency)}, tenor up to ${String(p.maxTenorDays)} days)`;
      case 'party.register': {
        const party = (p.party ?? {}) as Payload;
        return `Operator registered ${str(party.id)} (“${str(party.name)}”) as ${str(party.role)}`;
      }
      case 'party.update':
        return `Operator updated ${str(p.partyId)}${p.publicKey ? ': new key' : ''}${p.status ? `: ${str(p.status)}` : ''}`;
      case 'voucher.issue': {
        const invoices = Array.isArray(p.invoiceIds) ? p.invoiceIds.map(str).join(', ') : '?';
        return `${str(p.issuer)} issued ${money(p.amount)} to ${str(p.to)}, due ${str(p.dueDate)} (invoices ${invoices})`;
      }
      case 'voucher.accept':
        return `${by} accepted ${v}`;
      case 'voucher.reject':
        return `${by} rejected ${v}${p.reason ? `: “${str(p.reason)}”` : ''}`;
      case 'voucher.cancel':
        return `${by} withdrew the offer of ${v}`;
      case 'voucher.split':
        return `${by} split ${v} into ${Array.isArray(p.amounts) ? p.amounts.map(money).join(' + ') : '?'}`;
      case 'voucher.transfer':
        return `${by} transferred ${p.amount === undefined ? 'all of' : `${money(p.amount)} of`} ${v} to ${str(p.to)}`;
      case 'voucher.pledge':
        return `${signers.filter((s) => s !== p.bank).join(', ') || '?'} pledged ${p.amount === undefined ? 'all of' : `${money(p.amount)} of`} ${v} to ${str(p.bank)} (loan ${str(p.loanRef)})`;
      case 'voucher.release':
        return `${by} released the pledge on ${v}`;
      case 'voucher.settle':
        return `${by} settled ${v} (payment ${str(p.paymentRef)})`;
      default: {
        const _exhaustive: never = known;
        return type;
      }
    }
  })();
  return { type, text, signers };
};
