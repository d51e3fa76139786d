/**
 * Progress on stderr for long commands. On a terminal, one line redrawn in place (a bar with the
 * rate and the time left, or a running count when the total is unknown); elsewhere, for `audit`,
 * a plain line at every tenth so that logs show it is alive; otherwise nothing.
 */
import { count, duration } from './format.js';

const BAR_WIDTH = 24;
/** Redraws at most this often. */
const REDRAW_MS = 100;
const CLEAR_LINE = '\r\u001b[2K';

export type ProgressMode = 'bar' | 'lines' | 'off';

export interface Progress {
  /** `total` undefined: a running count. */
  update(done: number, total?: number): void;
  /** Clears a bar (lines stay). */
  finish(): void;
}

export const progress = (stream: NodeJS.WritableStream, mode: ProgressMode, label: string, unit: string): Progress => {
  const started = performance.now();
  let lastDraw = 0;
  let lastTenth = 0;
  let drawn = false;
  const rate = (done: number): number => {
    const seconds = (performance.now() - started) / 1000;
    return seconds > 0 ? done / seconds : 0;
  };
  return {
    update(done, total) {
      if (mode === 'off') return;
      const perSecond = rate(done);
      if (mode === 'lines') {
        if (total === undefined || total <= 0) return;
        const tenth = Math.floor((done / total) * 10);
        if (tenth > lastTenth) {
          lastTenth = tenth;
          stream.write(`${label}: ${tenth * 10}% (${count(done)}/${count(total)} ${unit}, ${count(perSecond)} ${unit}/s)\n`);
        }
        return;
      }
      const now = performance.now();
      if (now - lastDraw < REDRAW_MS && (total === undefined || done < total)) return;
      lastDraw = now;
      drawn = true;
      if (total === undefined || total <= 0) {
        stream.write(`${CLEAR_LINE}${label}… ${count(done)} ${unit}`);
        return;
      }
      const fraction = Math.min(1, done / total);
      const filled = Math.round(fraction * BAR_WIDTH);
      const eta = perSecond > 0 ? (total - done) / perSecond : Number.NaN;
      stream.write(
        `${CLEAR_LINE}${label} [${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}] ${Math.floor(fraction * 100)}%  ` +
          `${count(done)}/${count(total)} ${unit}  ${count(perSecond)}/s  ETA ${duration(eta)}`,
      );
    },
    finish() {
      if (mode === 'bar' && drawn) stream.write(CLEAR_LINE);
    },
  };
};
