/**
 * A quick write-throughput measurement: starts the compiled service on a temporary ledger,
 * prepares vouchers (untimed), then sends pre-signed partial transfers from this process at a
 * fixed concurrency over keep-alive HTTP and prints ops/s and latency percentiles.
 *
 *   npm run build && npx tsx scripts/bench-writes.ts [--ops 4000] [--concurrency 64]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { publicKeyFromSeed } from '../src/ledger/ed25519.js';
import { signNode } from '../src/ledger/ed25519-node.js';
import { opId, opPreimage } from '../src/ledger/op.js';
import { createHash } from 'node:crypto';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const OPS = arg('ops', 4000);
const CONCURRENCY = arg('concurrency', 64);

const seedOf = (name: string) => createHash('sha256').update(`bench:${name}`).digest('hex');
interface K { id: string; role: string; seed: string; publicKey: string }
const k = (id: string, role: string): K => ({ id, role, seed: seedOf(id), publicKey: publicKeyFromSeed(seedOf(id)) });

const main = async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'rvl-bench-'));
  const nodeArgs = (process.env.RVL_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...nodeArgs, 'dist/src/main.js'], {
    env: { ...process.env, LEDGER_DATA_DIR: dir, PORT: '0', RATE_LIMIT_PER_MIN: '0', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    proc.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  try {
    const ledger = (await (await fetch(`${url}/v1/ledger`)).json()) as { ledgerId: string };
    const op = JSON.parse(await readFile(path.join(dir, 'operator.key'), 'utf8')) as { secretKey: string; publicKey: string };
    const operator: K = { id: 'operator', role: 'operator', seed: op.secretKey, publicKey: op.publicKey };
    let nonce = 0;
    const envelope = (payload: Record<string, unknown>, signers: K[]) => {
      const full = { ledger: ledger.ledgerId, nonce: `bench-nonce-${(nonce += 1)}`, ...payload };
      const pre = opPreimage(full);
      return { payload: full, signatures: signers.map((s) => ({ signer: s.id, sig: signNode(s.seed, pre) })) };
    };
    const post = async (body: unknown) => {
      const res = await fetch(`${url}/v1/ops`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const json = (await res.json()) as { effects?: { vouchers: { id: string }[] }; code?: string; detail?: string };
      if (res.status !== 201) throw new Error(`${res.status} ${json.code} ${json.detail}`);
      return json;
    };
    const core = k('core', 'core');
    const suppliers = Array.from({ length: 8 }, (_, i) => k(`sup-${i}`, 'supplier'));
    for (const p of [core, ...suppliers]) {
      await post(envelope({ type: 'party.register', party: { id: p.id, name: p.id, role: p.role, publicKey: p.publicKey } }, [operator]));
    }
    // One voucher per in-flight stream, each held by a supplier; every timed op is a partial
    // transfer of the remaining part, so each stream's ops depend on the one before.
    const due = new Date(Date.now() + 90 * 86_400_000).toISOString().slice(0, 10);
    const streams: { holder: K; to: K; voucher: string; start: bigint; end: bigint }[] = [];
    for (let i = 0; i < CONCURRENCY; i += 1) {
      const holder = suppliers[i % suppliers.length] as K;
      const issued = await post(
        envelope({ type: 'voucher.issue', issuer: core.id, to: holder.id, amount: '1000000000', currency: 'CNY', dueDate: due, invoiceIds: [`B-${i}`] }, [core]),
      );
      const id = issued.effects?.vouchers[0]?.id ?? '';
      await post(envelope({ type: 'voucher.accept', voucherId: id }, [holder]));
      streams.push({ holder, to: suppliers[(i + 1) % suppliers.length] as K, voucher: id, start: 0n, end: 1_000_000_000n });
    }
    // Pre-sign everything.
    const perStream = Math.ceil(OPS / CONCURRENCY);
    const bodies = streams.map((s) => {
      const list: string[] = [];
      let start = s.start;
      for (let j = 0; j < perStream; j += 1) {
        const id = start === 0n ? s.voucher : `${s.voucher}:${start}-${s.end}`;
        list.push(JSON.stringify(envelope({ type: 'voucher.transfer', voucherId: id, to: s.to.id, amount: '1000' }, [s.holder])));
        start += 1000n;
      }
      return list;
    });
    void opId;
    const latencies: number[] = [];
    const t0 = performance.now();
    await Promise.all(
      bodies.map(async (list) => {
        for (const body of list) {
          const t = performance.now();
          const res = await fetch(`${url}/v1/ops`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          await res.arrayBuffer();
          if (res.status !== 201) throw new Error(`status ${res.status}`);
          latencies.push(performance.now() - t);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    latencies.sort((a, b) => a - b);
    const pct = (p: number) => (latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0).toFixed(2);
    process.stdout.write(
      `${latencies.length} partial transfers, concurrency ${CONCURRENCY}: ${(latencies.length / seconds).toFixed(0)} ops/s; ` +
        `latency ms p50 ${pct(0.5)} p99 ${pct(0.99)} p99.9 ${pct(0.999)}\n`,
    );
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    await rm(dir, { recursive: true, force: true });
  }
};

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
