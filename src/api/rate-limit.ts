/**
 * PROTOCOL.md §10 `RATE_LIMIT_PER_MIN`: requests a minute per party and per client address, in
 * fixed one-minute windows held in memory. `0` turns limiting off.
 */
export class RateLimiter {
  readonly #perMinute: number;
  readonly #now: () => number;
  #window = -1;
  #counts = new Map<string, number>();

  constructor(perMinute: number, now: () => number = Date.now) {
    this.#perMinute = perMinute;
    this.#now = now;
  }

  get enabled(): boolean {
    return this.#perMinute > 0;
  }

  #roll(): void {
    const window = Math.floor(this.#now() / 60_000);
    if (window !== this.#window) {
      this.#window = window;
      this.#counts = new Map();
    }
  }

  /** Is `key` already at its limit this minute? Does not count. */
  over(key: string): boolean {
    if (!this.enabled) return false;
    this.#roll();
    return (this.#counts.get(key) ?? 0) >= this.#perMinute;
  }

  /** Counts one request for `key`; false if that passes the limit. */
  hit(key: string): boolean {
    if (!this.enabled) return true;
    this.#roll();
    const n = (this.#counts.get(key) ?? 0) + 1;
    this.#counts.set(key, n);
    return n <= this.#perMinute;
  }
}
