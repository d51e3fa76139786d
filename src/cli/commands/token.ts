/**
 * `rvl token`: a §8 read token for the key's party, to paste into the API docs' "Authorize"
 * (/docs) or give to curl. The token goes alone on stdout (so `TOKEN=$(rvl token)` works); how to
 * use it goes to stderr.
 */
import { makeToken } from '../../client/index.js';
import type { Context } from '../context.js';
import { keyValues, shortTime } from '../format.js';

/** A token's default lifetime: long enough to try a few calls, short since it cannot be revoked. */
export const TOKEN_TTL_MS_DEFAULT = 10 * 60 * 1000;

export const token = async (ctx: Context, o: { readonly ttl?: number; readonly ledger?: string }): Promise<void> => {
  const key = await ctx.key('rvl token');
  // The audience: --ledger when given (then no request is made), else the id the service reports.
  const ledgerId = o.ledger ?? (await ctx.ledger()).ledgerId;
  const nowSeconds = Math.floor(Date.now() / 1000);
  const lifetimeSeconds = Math.round((o.ttl ?? TOKEN_TTL_MS_DEFAULT) / 1000);
  const value = await makeToken({ partyId: key.party, secretKeyHex: key.secretKey, ledgerId, nowSeconds, lifetimeSeconds });
  const issuedAt = new Date(nowSeconds * 1000).toISOString();
  const expiresAt = new Date((nowSeconds + lifetimeSeconds) * 1000).toISOString();
  if (ctx.json) {
    ctx.emit({ token: value, party: key.party, ledgerId, issuedAt, expiresAt });
    return;
  }
  ctx.out(value);
  ctx.note(
    `\nA read token for ${key.party}, valid until ${shortTime(expiresAt)} (it cannot be revoked before; keep it short-lived and private).\n` +
      keyValues(
        [
          ['in /docs', `${ctx.url}/docs → Authorize → paste the token (without "Bearer")`],
          ['with curl', `curl -H "Authorization: Bearer $TOKEN" ${ctx.url}/v1/parties`],
        ],
        '  ',
      ),
  );
};
