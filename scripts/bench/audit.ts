/**
 * The auditor's full check (src/client/audit.ts, with node:crypto's `verifyNode`, replay on, as
 * `rvl audit` runs it) in a process of its own, forked by scale.ts: its CPU and memory are then
 * not the harness's. Reports progress and the final report over IPC.
 */
import { audit, LedgerClient } from '../../src/client/index.js';
import { verifyNode } from '../../src/ledger/node/ed25519-node.js';
import { installNodeSha256 } from '../../src/ledger/node/sha256-node.js';
import { VerifyPool } from '../../src/ledger/node/verify-pool.js';

installNodeSha256(); // as rvl does

export interface AuditJob {
  readonly url: string;
  readonly ledgerId: string;
  readonly party: string;
  readonly secretKey: string;
}

export type AuditMessage =
  | { readonly kind: 'progress'; readonly checked: number; readonly total: number; readonly entriesPerSecond: number }
  | { readonly kind: 'report'; readonly report: unknown; readonly heapUsed: number; readonly rss: number }
  | { readonly kind: 'error'; readonly error: string };

if (!process.send) {
  process.stderr.write('scripts/bench/audit.ts is run by `npm run bench:scale`; it takes its job over IPC.\n');
  process.exit(2);
}
const send = (m: AuditMessage) => process.send!(m);
process.once('message', (job: AuditJob) => {
  const client = new LedgerClient({
    baseUrl: job.url,
    ledgerId: job.ledgerId,
    key: { party: job.party, secretKey: job.secretKey },
    tokenLifetimeSeconds: 3600,
  });
  let last = 0;
  const pool = new VerifyPool();
  audit(client, {
    verify: verifyNode,
    verifyMany: (items) => pool.verifyMany(items),
    onProgress: (p) => {
      const now = performance.now();
      if (now - last > 1000 || p.checked === p.total) {
        last = now;
        send({ kind: 'progress', checked: p.checked, total: p.total, entriesPerSecond: p.entriesPerSecond });
      }
    },
  }).then(
    (report) => {
      const mem = process.memoryUsage();
      send({ kind: 'report', report, heapUsed: mem.heapUsed, rss: mem.rss });
      void pool.close();
      process.disconnect();
    },
    (err: unknown) => {
      send({ kind: 'error', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      void pool.close();
      process.disconnect();
    },
  );
});
