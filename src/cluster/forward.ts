/**
 * A write sent to a follower is passed to the leader as it came, and the leader's answer is
 * relayed as it is (docs/protocol.md §11.6): the client cannot tell which node decided it. An op
 * that reached a node as a forward is never forwarded again (a node that has just lost the lease
 * answers 503 instead), so a leader change cannot make a request go round in circles.
 */
import { Problem } from '../api/problem.js';

/** The header that marks a forwarded write. */
export const FORWARDED_HEADER = 'x-rvl-forwarded';

/** How long a follower waits for the leader's answer (a batch waits for a durable append). */
const FORWARD_TIMEOUT_MS = 30_000;

export interface Relayed {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** POSTs `body` (the request's JSON value) to `path` on the leader and returns its answer. */
export const forwardToLeader = async (
  leader: string | null,
  path: string,
  body: unknown,
  headers: { authorization?: string | undefined },
): Promise<Relayed> => {
  if (leader === null) throw new Problem('LEDGER_UNAVAILABLE', 'no node leads the cluster now (an election is under way); retry');
  let res: Response;
  try {
    res = await fetch(`${leader}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [FORWARDED_HEADER]: '1',
        ...(headers.authorization === undefined ? {} : { authorization: headers.authorization }),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
    });
  } catch (err) {
    throw new Problem('LEDGER_UNAVAILABLE', `the leader (${leader}) cannot be reached (${err instanceof Error ? err.message : String(err)}); retry`);
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? 'application/json', body: await res.text() };
};
