/**
 * The service's Prometheus text (`GET /metrics`), parsed just enough to take differences:
 * commits (= fsyncs), ops per batch, commit time, the writer's stage times, and server-side
 * request time per route.
 */

import { WRITER_STAGES, type WriterStage } from '../../../src/service/metrics.js';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export type Scrape = readonly Sample[];

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export const parseMetrics = (text: string): Scrape => {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
};

/** Sum of every sample named `name` whose labels include `match`. */
export const sumOf = (s: Scrape, name: string, match: Record<string, string> = {}): number =>
  s.filter((x) => x.name === name && Object.entries(match).every(([k, v]) => x.labels[k] === v)).reduce((a, x) => a + x.value, 0);

/** Reads the Prometheus text at `metricsUrl` (a server's `RunningServer.metricsUrl`). */
export const scrape = async (metricsUrl: string): Promise<Scrape> => {
  const res = await fetch(metricsUrl);
  if (res.status !== 200) throw new Error(`GET ${metricsUrl} answered ${res.status}`);
  return parseMetrics(await res.text());
};

export interface WriteCounters {
  /** Group commits, each one LevelDB batch with sync: true (one fsync of the log). */
  readonly commits: number;
  readonly commitSeconds: number;
  readonly batchedOps: number;
}

export const writeCounters = (s: Scrape): WriteCounters => ({
  commits: sumOf(s, 'rvl_commit_seconds_count'),
  commitSeconds: sumOf(s, 'rvl_commit_seconds_sum'),
  batchedOps: sumOf(s, 'rvl_batch_ops_sum'),
});

/** Server-side request time for one route (all statuses): count and total seconds. */
export const routeCounters = (s: Scrape, route: string, method = 'GET'): { count: number; seconds: number } => ({
  count: sumOf(s, 'rvl_http_request_seconds_count', { route, method }),
  seconds: sumOf(s, 'rvl_http_request_seconds_sum', { route, method }),
});

/** The writer's stages (`rvl_op_stage_seconds_total`, summed over ops), as the service names them. */
export const STAGES = WRITER_STAGES;
export type Stage = WriterStage;

export const stageCounters = (s: Scrape): { ops: number; seconds: Record<Stage, number> } => ({
  ops: sumOf(s, 'rvl_op_stage_ops_total'),
  seconds: Object.fromEntries(STAGES.map((stage) => [stage, sumOf(s, 'rvl_op_stage_seconds_total', { stage })])) as Record<Stage, number>,
});
