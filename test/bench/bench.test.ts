/**
 * Smoke test of the benchmark harness (scripts/bench): runs `npm run bench` and
 * `npm run bench:scale` at tiny sizes against this run's compiled server and checks that they
 * finish, print their tables and write JSON with the figures. No time limits: benchmarks print
 * figures, they do not pass or fail on them.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '../e2e/server.js';

const mainJs = (): string => {
  try {
    return inject('rvlMainJs');
  } catch {
    return path.join(REPO_ROOT, 'dist', 'src', 'main.js');
  }
};

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const tsx = (script: string, args: readonly string[]): Promise<Run> =>
  new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    proc.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    proc.once('error', reject);
    proc.once('close', (code) => resolve({ code, stdout, stderr }));
  });

const onlyJson = async (dir: string, prefix: string): Promise<Record<string, unknown>> => {
  const files = (await readdir(dir)).filter((f) => f.startsWith(`${prefix}-`) && f.endsWith('.json'));
  expect(files).toHaveLength(1);
  return JSON.parse(await readFile(path.join(dir, files[0]!), 'utf8')) as Record<string, unknown>;
};

const positive = (value: unknown, what: string): void => {
  expect(typeof value, what).toBe('number');
  expect(value as number, what).toBeGreaterThan(0);
};

const latencyPositive = (l: unknown, what: string): void => {
  const lat = l as Record<string, unknown>;
  for (const k of ['p50', 'p99', 'p999', 'max']) positive(lat[k], `${what}.${k}`);
};

describe('benchmark harness (smoke)', () => {
  let out: string;

  beforeAll(async () => {
    out = await mkdtemp(path.join(tmpdir(), 'rvl-bench-smoke-'));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('npm run bench: runs the levels and reads, prints the tables, writes the JSON', { timeout: 60_000 }, async () => {
    const run = await tsx('scripts/bench/run.ts', [
      '--levels',
      '1,4',
      '--ops',
      '40',
      '--ceiling-at',
      '4',
      '--yardstick-seconds',
      '0.2',
      '--main',
      mainJs(),
      '--out',
      out,
    ]);
    expect(run.stderr + run.stdout).not.toMatch(/INVALID/);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toMatch(/concurrency\s+ops\/s\s+ratio\s+p50 ms\s+p99 ms\s+p99\.9 ms\s+server CPU µs\/op/);
    expect(run.stdout).toMatch(/fsyncs\/s\s+ops\/batch/);
    expect(run.stdout).toMatch(/read\s+concurrency\s+req\/s\s+p50 ms/);
    expect(run.stdout).toContain('GET /v1/vouchers/:id');
    expect(run.stdout).toContain('GET /v1/proofs/inclusion');
    expect(run.stdout).toMatch(/ceiling at concurrency 4: [\d,]+ ops\/s = ratio [\d.]+, p99 [\d.]+ ms .*the service reached [\d.]+ of it/);

    const json = await onlyJson(out, 'bench');
    expect(json.kind).toBe('rvl-bench');
    expect(json.valid).toBe(true);
    const machine = json.machine as Record<string, unknown>;
    positive(machine.cpus, 'machine.cpus');
    expect(typeof machine.model).toBe('string');
    expect(machine.node).toBe(process.version);
    expect(Array.isArray(machine.loadAverageBefore)).toBe(true);
    const yardstick = json.yardstick as Record<string, unknown>;
    positive(yardstick.twoThreads, 'yardstick.twoThreads');
    positive(yardstick.oneThread, 'yardstick.oneThread');

    const writes = json.writes as Record<string, unknown>[];
    expect(writes.map((w) => w.concurrency)).toEqual([1, 4]);
    for (const w of writes) {
      expect(w.failed).toBe(0);
      expect(w.ops).toBe(40);
      for (const k of ['opsPerSec', 'ratio', 'serverCpuUsPerOp', 'fsyncsPerSec', 'opsPerBatch', 'seconds'])
        positive(w[k], `writes@${String(w.concurrency)}.${k}`);
      latencyPositive(w.latencyUs, `writes@${String(w.concurrency)}.latencyUs`);
      const types = Object.keys(w.byType as object).sort();
      expect(types).toEqual(['voucher.accept', 'voucher.pledge', 'voucher.release', 'voucher.split', 'voucher.transfer']);
    }
    // bench:floor's durable rung, measured right after the level it is compared with.
    const ceiling = json.ceiling as Record<string, unknown>;
    expect(ceiling.rung).toBe('durable');
    expect(ceiling.concurrency).toBe(4);
    for (const k of ['perSecond', 'ratio', 'serverCpuUsPerRequest', 'serviceShare']) positive(ceiling[k], `ceiling.${k}`);
    expect(ceiling.serviceShare).toBeCloseTo((writes[1]!.opsPerSec as number) / (ceiling.perSecond as number), 2);
    const reads = json.reads as Record<string, unknown>[];
    expect(reads.map((r) => r.endpoint)).toEqual(['GET /v1/vouchers/:id', 'GET /v1/proofs/inclusion']);
    for (const r of reads) {
      expect(r.failed).toBe(0);
      expect(r.concurrency).toBe(64);
      positive(r.perSec, `${String(r.endpoint)}.perSec`);
      latencyPositive(r.latencyUs, `${String(r.endpoint)}.latencyUs`);
    }
  });

  it('npm run bench:ab: builds the base ref, runs A B B A, prints the paired table, writes the JSON', { timeout: 120_000 }, async () => {
    const run = await tsx('scripts/bench/ab.ts', [
      '--rounds',
      '1',
      '--ops',
      '30',
      '--warmup-ops',
      '0',
      '--yardstick-seconds',
      '0.2',
      '--main',
      mainJs(),
      '--b-env',
      'RATE_LIMIT_PER_MIN=1000000',
      '--out',
      out,
    ]);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toMatch(/^B = work tree \(.*\) with RATE_LIMIT_PER_MIN=1000000$/m);
    expect(run.stdout).toMatch(/figure\s+A\s+B\s+B ÷ A \(median\)\s+B ÷ A \(range\)/);
    expect(run.stdout).toMatch(/^ops\/s\s+\d+\s+\d+\s+\d+\.\d{3}/m);
    const json = await onlyJson(out, 'bench-ab');
    expect(json.kind).toBe('rvl-bench-ab');
    expect(json.valid).toBe(true);
    const runs = json.runs as { side: string; round: number; yardstick: number; figures: Record<string, unknown> }[];
    expect(runs.map((r) => r.side)).toEqual(['A', 'B', 'B', 'A']);
    for (const r of runs) {
      expect(r.figures.ops).toBe(30);
      expect(r.figures.failed).toBe(0);
      positive(r.yardstick, 'yardstick');
      for (const k of ['opsPerSec', 'serverCpuUsPerOp', 'serverMainThreadCpuUsPerOp']) positive(r.figures[k], k);
    }
    // The base was built in a temporary worktree, and that worktree is gone.
    const config = json.config as { baseSha: string; envA: unknown; envB: unknown };
    expect(config.baseSha).toMatch(/^[0-9a-f]{40}$/);
    expect(config).toMatchObject({ envA: {}, envB: { RATE_LIMIT_PER_MIN: '1000000' } });
    expect(run.stdout).toMatch(/building HEAD \([0-9a-f]{12}\) in (\S+) …/);
    const built = /building HEAD \([0-9a-f]{12}\) in (\S+) …/.exec(run.stdout)![1]!;
    await expect(readdir(built)).rejects.toThrow();
  });

  it('npm run bench:floor: the http, verify and durable rungs under the same client, with CPU per request and the JSON', { timeout: 60_000 }, async () => {
    const run = await tsx('scripts/bench/floor.ts', ['--concurrency', '4', '--seconds', '0.5', '--yardstick-seconds', '0.2', '--out', out]);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    for (const rung of ['http', 'verify', 'durable']) {
      const row = new RegExp(`^${rung}\\s+([\\d,]+)\\s+([\\d.]+)\\s+([\\d.]+)\\s+([\\d.]+)\\s+([\\d,]+)\\s+[\\d.]+\\s+([\\d,]+)`, 'm').exec(run.stdout);
      expect(row, run.stdout).not.toBeNull();
      for (const figure of row!.slice(1)) expect(Number(figure!.replace(/,/g, ''))).toBeGreaterThan(0);
    }
    expect(run.stdout).toMatch(/ceiling: [\d,]+ ops\/s = ratio [\d.]+ \(durable\)/);
    const json = await onlyJson(out, 'bench-floor');
    expect(json.kind).toBe('rvl-bench-floor');
    const rungs = json.rungs as { rung: string; requests: number; serverCpuUsPerRequest: number }[];
    expect(rungs.map((r) => r.rung)).toEqual(['http', 'verify', 'durable']);
    for (const r of rungs) {
      positive(r.requests, `${r.rung} requests`);
      positive(r.serverCpuUsPerRequest, `${r.rung} server CPU`);
    }
    // --verify-threads 0 verifies on the floor server's event loop (it was once refused as not positive).
    const inline = await tsx('scripts/bench/floor.ts', [
      '--concurrency',
      '2',
      '--seconds',
      '0.3',
      '--rungs',
      'verify',
      '--verify-threads',
      '0',
      '--yardstick-seconds',
      '0.2',
      '--out',
      out,
    ]);
    expect(inline.code, inline.stderr + inline.stdout).toBe(0);
    expect(inline.stdout).toMatch(/verify threads 0/);
    expect(inline.stdout).toMatch(/^verify\s+[\d,]+\s/m);
  });

  it('npm run bench:scale: builds, restarts, reads, audits, writes again, writes the JSON', { timeout: 60_000 }, async () => {
    const run = await tsx('scripts/bench/scale.ts', [
      '--entries',
      '300',
      '--ops',
      '40',
      '--read-requests',
      '50',
      '--yardstick-seconds',
      '0.2',
      '--main',
      mainJs(),
      '--out',
      out,
    ]);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toMatch(/measure\s+value/);
    expect(run.stdout).toMatch(/start-up \(spawn → listening\)/);
    expect(run.stdout).toMatch(/concurrency\s+ops\/s\s+ratio/);

    const json = await onlyJson(out, 'bench-scale');
    expect(json.kind).toBe('rvl-bench-scale');
    expect(json.valid).toBe(true);
    expect(json.entries as number).toBeGreaterThanOrEqual(300);
    positive(json.startupMs, 'startupMs');
    const disk = json.disk as Record<string, unknown>;
    positive(disk.bytesPerEntry, 'disk.bytesPerEntry');
    const rss = json.rss as Record<string, unknown>;
    for (const k of ['afterStart', 'afterWrites', 'peak']) positive(rss[k], `rss.${k}`);
    const audit = json.audit as Record<string, unknown>;
    expect(audit.complete).toBe(true);
    expect(audit.ok).toBe(true);
    expect(audit.entries).toBe(json.entries);
    positive(audit.entriesPerSec, 'audit.entriesPerSec');
    const reads = json.reads as Record<string, unknown>[];
    expect(reads.map((r) => r.endpoint)).toEqual(['GET /v1/proofs/inclusion', 'GET /v1/proofs/consistency', 'GET /v1/vouchers/:id']);
    for (const r of reads) {
      expect(r.failed).toBe(0);
      latencyPositive(r.latencyUs, `${String(r.endpoint)}.latencyUs`);
    }
    const writes = json.writes as {
      large: Record<string, unknown>;
      fresh: Record<string, unknown>;
      runs: { side: string; round: number; ops: number }[];
      opsChangePercent: unknown;
    };
    // Two rounds of fresh (A), large (B), large, fresh.
    expect(writes.runs.map((r) => `${r.round}${r.side}`)).toEqual(['1A', '1B', '1B', '1A', '2A', '2B', '2B', '2A']);
    for (const r of writes.runs) expect(r.ops).toBe(40);
    expect(typeof writes.opsChangePercent).toBe('number');
    expect(run.stdout).toMatch(/large vs fresh, paired in 2 round\(s\)\s+ops\/s [+-]?\d/);
    expect(writes.large.ledgerSize as number).toBeGreaterThanOrEqual(300);
    for (const w of [writes.large, writes.fresh]) {
      expect(w.failed).toBe(0);
      positive(w.opsPerSec, 'writes.opsPerSec');
      positive(w.ratio, 'writes.ratio');
    }
  });
});
