/**
 * Prometheus metrics (prom-client), on a registry of the service's own so that tests can build
 * several services in one process.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const WRITER_STAGES = ['verify', 'queue', 'decide', 'wait', 'commit'] as const;
export type WriterStage = (typeof WRITER_STAGES)[number];

export class Metrics {
  readonly registry = new Registry();
  readonly #ops = new Counter({
    name: 'rvl_ops_total',
    help: 'Ops decided, by type and outcome',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly #refusals = new Counter({
    name: 'rvl_refusals_total',
    help: 'Refused ops and requests, by code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly #batchOps = new Histogram({
    name: 'rvl_batch_ops',
    help: 'Ops per group commit',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [this.registry],
  });
  readonly #fsync = new Histogram({
    name: 'rvl_commit_seconds',
    help: 'Duration of one durable (fsync) commit',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly #commitFailures = new Counter({ name: 'rvl_commit_failures_total', help: 'Commits the store failed', registers: [this.registry] });
  readonly #stageSeconds = new Counter({
    name: 'rvl_op_stage_seconds_total',
    help: "Seconds ops spent in each stage of the writer, summed over ops (verify: signature checks on the workers; queue: waiting for the writer; decide: their batch being decided; wait: for the batch before to commit; commit: their batch's fsync'd commit). Mean per op = this / rvl_op_stage_ops_total",
    labelNames: ['stage'] as const,
    registers: [this.registry],
  });
  readonly #stageOps = new Counter({
    name: 'rvl_op_stage_ops_total',
    help: 'Ops counted in rvl_op_stage_seconds_total (every op that reached the writer)',
    registers: [this.registry],
  });
  readonly #size = new Gauge({ name: 'rvl_ledger_entries', help: 'Entries in the ledger', registers: [this.registry] });
  readonly requestSeconds = new Histogram({
    name: 'rvl_http_request_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  constructor(defaults = false) {
    if (defaults) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * One op decided by the writer. A refusal is counted here only in `rvl_ops_total`: its code is
   * counted in `rvl_refusals_total` by `refused`, once, where the refusal is answered.
   */
  decided(type: string, outcome: 'accepted' | 'refused'): void {
    this.#ops.inc({ type, outcome });
  }

  /** One refused op or request, counted where it is answered (the API's error handler). */
  refused(code: string): void {
    this.#refusals.inc({ code });
  }

  committed(ops: number, seconds: number, size: number): void {
    this.#batchOps.observe(ops);
    this.#fsync.observe(seconds);
    this.#size.set(size);
  }

  /** One batch's ops: the seconds they spent in each writer stage, summed over them. */
  stages(seconds: Readonly<Record<WriterStage, number>>, ops: number): void {
    for (const stage of WRITER_STAGES) this.#stageSeconds.inc({ stage }, seconds[stage]);
    this.#stageOps.inc(ops);
  }

  commitFailed(): void {
    this.#commitFailures.inc();
  }

  setSize(size: number): void {
    this.#size.set(size);
  }
}
