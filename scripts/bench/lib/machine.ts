/** What the figures were measured on. */
import os from 'node:os';

export interface MachineInfo {
  readonly cpus: number;
  readonly availableParallelism: number;
  readonly model: string;
  readonly mhz: number;
  readonly memoryBytes: number;
  readonly platform: string;
  readonly kernel: string;
  readonly node: string;
  readonly v8: string;
  readonly openssl: string;
  /** 1, 5 and 15 minute load averages before the benchmark started. */
  readonly loadAverageBefore: readonly number[];
}

export const machineInfo = (): MachineInfo => {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    availableParallelism: os.availableParallelism(),
    model: cpus[0]?.model.trim() ?? 'unknown',
    mhz: cpus[0]?.speed ?? 0,
    memoryBytes: os.totalmem(),
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    node: process.version,
    v8: process.versions.v8,
    openssl: process.versions.openssl ?? '',
    loadAverageBefore: os.loadavg().map((x) => +x.toFixed(2)),
  };
};

export const loadAverage = (): number[] => os.loadavg().map((x) => +x.toFixed(2));

export const describeMachine = (m: MachineInfo): string =>
  `${m.cpus} × ${m.model}, ${(m.memoryBytes / 2 ** 30).toFixed(0)} GiB, ${m.platform}, Node ${m.node} (OpenSSL ${m.openssl}); ` +
  `load average before start ${m.loadAverageBefore.join(' ')}`;
