/**
 * Model checking: a concurrent run against the compiled server over HTTP, every
 * request and answer recorded, then the whole history checked against the pure domain model
 * (check.ts `checkModel`): every entry replayed through parseOp + decide + MemoryState in seq
 * order, every receipt (effects, seq, entry hash, time) and the final state of every voucher and
 * party equal to the model's, and every refusal one the model gives where it can have been decided.
 */
import { Rng } from '../../support/faults.js';
import { checkAll, type ModelReport, type Snapshot } from './check.js';
import { startService, tempDir, type Proc } from '../../support/service-process.js';
import { httpTarget, registerAll, type Key, type Target } from './target.js';
import { History, makeCast, runWorkload, Workload, type Call } from './workload.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface ModelRunOptions {
  readonly mainJs: string;
  readonly seed: number;
  readonly workers: number;
  /** Ops to send, or a time budget (ms), whichever ends first. */
  readonly ops?: number;
  readonly ms?: number;
  readonly log?: (line: string) => void;
}

export interface ModelRun {
  readonly seed: number;
  readonly calls: readonly Call[];
  readonly snap: Snapshot;
  readonly report: ModelReport;
  readonly findings: string[];
  readonly seconds: number;
  readonly server: Proc;
  readonly target: Target;
  readonly operator: Key;
}

export const runModelCheck = async (o: ModelRunOptions): Promise<ModelRun> => {
  const dataDir = await tempDir('rvl-model-');
  const server = await startService({ mainJs: o.mainJs, dataDir });
  const t = await httpTarget(server.url() as string);
  const keyFile = JSON.parse(readFileSync(path.join(dataDir, 'operator.key'), 'utf8')) as { publicKey: string; secretKey: string };
  const operator: Key = { id: 'operator', role: 'operator', seed: keyFile.secretKey, publicKey: keyFile.publicKey };
  const cast = makeCast('model', { cores: 3, suppliers: 10, banks: 4 });
  await registerAll(t, operator, cast.all);
  const w = new Workload(cast, operator, o.seed);
  const history = new History();
  const started = performance.now();
  let lastLog = started;
  await runWorkload(t, w, history, new Rng(o.seed).fork('model'), {
    workers: o.workers,
    ...(o.ops !== undefined ? { ops: o.ops } : {}),
    ...(o.ms !== undefined ? { until: started + o.ms } : {}),
    tag: 'model',
    onCall: () => {
      if (o.log && performance.now() - lastLog > 15_000) {
        lastLog = performance.now();
        const t2 = history.tally();
        o.log(`    ${t2.sent} ops sent, ${t2.acked} acknowledged, ${t2.refused} refused, ${Math.round((performance.now() - started) / 1000)} s`);
      }
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const checked = await checkAll(t, operator, history.calls);
  return { seed: o.seed, calls: history.calls, snap: checked.snap, report: checked.model, findings: checked.findings, seconds, server, target: t, operator };
};
