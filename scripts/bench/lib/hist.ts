/**
 * Latency recording: an HDR histogram (hdr-histogram-js) in microseconds, 3 significant digits,
 * 1 µs … 120 s, and its summary for tables and JSON.
 */
import * as hdr from 'hdr-histogram-js';

export interface LatencySummary {
  /** Microseconds. */
  readonly count: number;
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export type Histogram = hdr.Histogram;

export const newHistogram = (): Histogram =>
  hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3, bitBucketSize: 32, useWebAssembly: false });

/** Records a duration given in milliseconds (performance.now() differences) as whole µs, at least 1. */
export const recordMs = (h: Histogram, ms: number): void => {
  h.recordValue(Math.max(1, Math.round(ms * 1000)));
};

export const summarize = (h: Histogram): LatencySummary => ({
  count: h.totalCount,
  min: h.totalCount === 0 ? 0 : h.minNonZeroValue,
  mean: Math.round(h.mean),
  p50: h.getValueAtPercentile(50),
  p90: h.getValueAtPercentile(90),
  p99: h.getValueAtPercentile(99),
  p999: h.getValueAtPercentile(99.9),
  max: h.maxValue,
});

/** The whole histogram, compressed and base64 (HdrHistogram's standard encoding), for the JSON. */
export const encode = (h: Histogram): string => hdr.encodeIntoCompressedBase64(h);
