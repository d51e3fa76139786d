/** Turns measured runs into the figures of the JSON and the rows of the tables. */
import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Measured } from './driver.js';
import type { LatencySummary } from './hist.js';
import { STAGES, type Stage } from './metrics.js';
import type { FailureSample, PrepareResult } from './protocol.js';
import { REPO_ROOT } from './server.js';
import { fmt, ms, table, type Cell } from './table.js';

export interface WriteFigures {
  readonly label: string;
  readonly concurrency: number;
  /** No failures, and something was measured. */
  readonly valid: boolean;
  readonly ops: number;
  readonly requests: number;
  readonly failed: number;
  readonly failureSamples: readonly FailureSample[];
  readonly seconds: number;
  readonly opsPerSec: number;
  /** opsPerSec ÷ the two-thread verify yardstick. */
  readonly ratio: number;
  readonly latencyUs: LatencySummary;
  readonly histogram: string;
  readonly serverCpuUsPerOp: number;
  /** Share of the machine's CPUs the server used in the window (1 = one core busy). */
  readonly serverCores: number;
  /** Server main-thread CPU per op, and the share of the window that thread was on a CPU (1 = saturated). */
  readonly serverMainThreadCpuUsPerOp: number;
  readonly serverMainThreadBusy: number;
  readonly loadCpuUsPerOp: number;
  /** Bytes the server wrote to storage per op in the window (log, tables, compactions). */
  readonly diskWriteBytesPerOp: number;
  readonly fsyncsPerSec: number;
  readonly opsPerBatch: number;
  readonly commitMsMean: number;
  /** Mean time an op spent in the server (request in → answer out), from its request histogram. */
  readonly serverMsMean: number;
  /** Mean ms per op in each stage of the writer (rvl_op_stage_seconds_total); the rest of serverMsMean is HTTP and parsing. */
  readonly stagesMs: Readonly<Record<Stage, number>>;
  readonly byType: Readonly<Record<string, number>>;
  readonly stoppedBy: string;
  readonly prepare: PrepareResult;
}

export const writeFigures = (m: Measured, yardstick: number): WriteFigures => {
  const r = m.run;
  const s = m.server;
  return {
    label: r.label,
    concurrency: r.concurrency,
    valid: r.failed === 0 && r.ok > 0,
    ops: r.ok,
    requests: r.requests,
    failed: r.failed,
    failureSamples: r.failureSamples,
    seconds: +r.seconds.toFixed(3),
    opsPerSec: +r.perSecond.toFixed(1),
    ratio: yardstick > 0 ? +(r.perSecond / yardstick).toFixed(4) : 0,
    latencyUs: r.latencyUs,
    histogram: r.histogram,
    serverCpuUsPerOp: r.ok > 0 ? Math.round(s.cpuUs / r.ok) : 0,
    serverCores: r.seconds > 0 ? +(s.cpuUs / 1e6 / r.seconds).toFixed(2) : 0,
    serverMainThreadCpuUsPerOp: r.ok > 0 ? Math.round(s.mainThreadCpuUs / r.ok) : 0,
    serverMainThreadBusy: r.seconds > 0 ? +(s.mainThreadCpuUs / 1e6 / r.seconds).toFixed(2) : 0,
    loadCpuUsPerOp: r.ok > 0 ? Math.round(r.loadCpuUs / r.ok) : 0,
    diskWriteBytesPerOp: r.ok > 0 ? Math.round(s.writeBytes / r.ok) : 0,
    fsyncsPerSec: r.seconds > 0 ? +(s.commits / r.seconds).toFixed(1) : 0,
    opsPerBatch: s.commits > 0 ? +(s.batchedOps / s.commits).toFixed(2) : 0,
    commitMsMean: s.commits > 0 ? +((s.commitSeconds / s.commits) * 1000).toFixed(3) : 0,
    serverMsMean: s.route && s.route.count > 0 ? +((s.route.seconds / s.route.count) * 1000).toFixed(3) : 0,
    stagesMs: Object.fromEntries(STAGES.map((st) => [st, s.stageOps > 0 ? +((s.stageSeconds[st] / s.stageOps) * 1000).toFixed(3) : 0])) as Record<
      Stage,
      number
    >,
    byType: r.byType,
    stoppedBy: r.stoppedBy,
    prepare: m.prepare,
  };
};

export interface ReadFigures {
  readonly label: string;
  readonly endpoint: string;
  readonly concurrency: number;
  readonly valid: boolean;
  readonly requests: number;
  readonly ok: number;
  readonly failed: number;
  readonly failureSamples: readonly FailureSample[];
  readonly seconds: number;
  readonly perSec: number;
  readonly latencyUs: LatencySummary;
  readonly histogram: string;
  readonly serverCpuUsPerRequest: number;
  /** Mean time in the server (Fastify onRequest → onResponse), from its request histogram. */
  readonly serverMsMean: number;
  readonly loadCpuUsPerRequest: number;
}

export const readFigures = (m: Measured, endpoint: string): ReadFigures => {
  const r = m.run;
  const route = m.server.route;
  return {
    label: r.label,
    endpoint,
    concurrency: r.concurrency,
    valid: r.failed === 0 && r.ok > 0,
    requests: r.requests,
    ok: r.ok,
    failed: r.failed,
    failureSamples: r.failureSamples,
    seconds: +r.seconds.toFixed(3),
    perSec: +r.perSecond.toFixed(1),
    latencyUs: r.latencyUs,
    histogram: r.histogram,
    serverCpuUsPerRequest: r.requests > 0 ? Math.round(m.server.cpuUs / r.requests) : 0,
    serverMsMean: route && route.count > 0 ? +((route.seconds / route.count) * 1000).toFixed(3) : 0,
    loadCpuUsPerRequest: r.requests > 0 ? Math.round(r.loadCpuUs / r.requests) : 0,
  };
};

export const WRITE_HEADERS = [
  'concurrency',
  'ops/s',
  'ratio',
  'p50 ms',
  'p99 ms',
  'p99.9 ms',
  'server CPU µs/op',
  'server cores',
  'main thread busy',
  'load CPU µs/op',
  'disk KiB/op',
  'fsyncs/s',
  'ops/batch',
  'commit ms',
  'ops',
  'failures',
];

export const writeRow = (w: WriteFigures): Cell[] => [
  w.concurrency,
  fmt(w.opsPerSec),
  w.ratio.toFixed(3),
  ms(w.latencyUs.p50),
  ms(w.latencyUs.p99),
  ms(w.latencyUs.p999),
  fmt(w.serverCpuUsPerOp),
  w.serverCores.toFixed(2),
  `${Math.round(w.serverMainThreadBusy * 100)}%`,
  fmt(w.loadCpuUsPerOp),
  (w.diskWriteBytesPerOp / 1024).toFixed(1),
  fmt(w.fsyncsPerSec),
  w.opsPerBatch.toFixed(1),
  w.commitMsMean.toFixed(2),
  fmt(w.ops),
  w.failed === 0 ? '0' : `${w.failed} INVALID`,
];

export const writeTable = (rows: readonly WriteFigures[]): string => table(WRITE_HEADERS, rows.map(writeRow));

/** Where a write's time goes in the server: the writer's stages, and the rest (HTTP, parsing). */
export const stageTable = (rows: readonly WriteFigures[]): string =>
  table(
    ['concurrency', 'in server ms', ...STAGES.map((st) => `${st} ms`), 'HTTP + parsing ms'],
    rows.map((w) => {
      const staged = STAGES.reduce((a, st) => a + w.stagesMs[st], 0);
      return [w.concurrency, w.serverMsMean.toFixed(2), ...STAGES.map((st) => w.stagesMs[st].toFixed(2)), Math.max(0, w.serverMsMean - staged).toFixed(2)];
    }),
  );

export const READ_HEADERS = ['read', 'concurrency', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'server ms/req', 'server CPU µs/req', 'requests', 'failures'];

export const readRow = (r: ReadFigures): Cell[] => [
  r.endpoint,
  r.concurrency,
  fmt(r.perSec),
  ms(r.latencyUs.p50),
  ms(r.latencyUs.p99),
  ms(r.latencyUs.p999),
  r.serverMsMean.toFixed(3),
  fmt(r.serverCpuUsPerRequest),
  fmt(r.requests),
  r.failed === 0 ? '0' : `${r.failed} INVALID`,
];

export const readTable = (rows: readonly ReadFigures[]): string => table([{ header: 'read', align: 'left' }, ...READ_HEADERS.slice(1)], rows.map(readRow));

/** Writes `bench-results/<prefix>-<ISO time>.json`; returns its path. */
export const writeJson = async (outDir: string, prefix: string, startedAt: Date, value: unknown): Promise<string> => {
  const dir = path.resolve(REPO_ROOT, outDir);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${prefix}-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
  return file;
};

/** The pre-signed budget for a timed level: enough for `seconds` at the rate the machine could reach. */
export const budgetFor = (concurrency: number, seconds: number, maxRate: number): number => {
  const perStreamMax = 1500; // ops/s one stream could reach at ≈0.7 ms a round trip
  return Math.ceil(seconds * Math.min(concurrency * perStreamMax, maxRate) * 1.15) + concurrency * 10;
};

/**
 * The end of a bench script: where its JSON went, and for a run with failures (`invalid` says
 * which), that its figures do not count. Returns the exit code.
 */
export const closeRun = (say: (line: string) => void, file: string, invalid: string | undefined): number => {
  say(`\nJSON: ${path.relative(process.cwd(), file)}`);
  if (invalid === undefined) return 0;
  say(`INVALID RUN: ${invalid}; the figures do not count.`);
  return 1;
};
