// A trial's time series (flent's core view): rates and latency percentiles per interval of the
// measured window, so a stall or a ramp shows instead of being averaged away. The data path does
// O(1) work per message (a counter, one histogram record); each tick reads the interval's small
// histogram over the buckets it touched, so the thread's I/O waits microseconds at most.

import { IntervalHistogram } from "../../analysis/interval-histogram.js";
import { compact, type SeriesPoint } from "../../domain/sample.js";
import { nowNs } from "./trial.js";

/** Default interval of a trial's time series, ms (flent's default step is 200 ms, pbench's 1 s). */
export const SERIES_INTERVAL_MS = 100;

/** Cumulative counts a bulk pattern already keeps, read at each tick instead of per message. */
export type CountReader = () => { messages: number; bytes: number };

export interface SeriesClock {
  now(): number;
  /** Calls `tick` at `fromNs`, then every `intervalMs` from `fromNs` to `toNs`; returns a function that cancels it. */
  every(
    fromNs: number,
    toNs: number,
    intervalMs: number,
    tick: (atNs: number, last: boolean) => void,
  ): () => void;
}

export class IntervalSeries {
  readonly points: SeriesPoint[] = [];
  private messages = 0;
  private bytes = 0;
  private readonly latencies = new IntervalHistogram();
  private readonly readers: CountReader[] = [];
  private readerBase = { messages: 0, bytes: 0 };
  private lastNs = 0;
  private openedNs: number | null = null;
  private cancel: (() => void) | null = null;

  constructor(
    private readonly clock: SeriesClock,
    private readonly intervalMs = SERIES_INTERVAL_MS,
  ) {}

  /**
   * Records from `fromNs` (the end of the warm-up) to `toNs`, one point per interval: the measured
   * window of the trial's clock, set by the first flow that starts it (the others start within ms).
   */
  begin(fromNs: number, toNs: number): void {
    if (this.cancel) return;
    this.lastNs = fromNs;
    this.cancel = this.clock.every(fromNs, toNs, this.intervalMs, (atNs, last) => this.tick(atNs, last));
  }

  /** One message (a transaction, or an open-loop answer) completed with this latency. */
  latency(latencyNs: number, bytes: number): void {
    this.latencies.record(latencyNs);
    this.messages++;
    this.bytes += bytes;
  }

  /** Adds a bulk flow whose cumulative counts are read at each tick. */
  follow(reader: CountReader): void {
    this.readers.push(reader);
    const now = reader();
    this.readerBase = {
      messages: this.readerBase.messages + now.messages,
      bytes: this.readerBase.bytes + now.bytes,
    };
  }

  /** Stops the timer (the points recorded so far stay). */
  stop(): void {
    this.cancel?.();
  }

  private readAll(): { messages: number; bytes: number } {
    let messages = 0;
    let bytes = 0;
    for (const reader of this.readers) {
      const now = reader();
      messages += now.messages;
      bytes += now.bytes;
    }
    return { messages, bytes };
  }

  private tick(atNs: number, last: boolean): void {
    const followed = this.readAll();
    const messages = this.messages + followed.messages - this.readerBase.messages;
    const bytes = this.bytes + followed.bytes - this.readerBase.bytes;
    const [p50Ns, p99Ns] = this.latencies.percentiles([50, 99]);
    this.latencies.reset();
    this.messages = 0;
    this.bytes = 0;
    this.readerBase = followed;
    const intervalS = (atNs - this.lastNs) / 1e9;
    // The first tick opens the window: what came before it was the warm-up.
    if (this.openedNs !== null && intervalS > 0) {
      this.points.push({
        tS: compact((atNs - this.openedNs) / 1e9),
        intervalS: compact(intervalS),
        messagesPerSecond: compact(messages / intervalS),
        throughputMbps: compact((bytes * 8) / intervalS / 1e6),
        p50Us: p50Ns === undefined ? null : compact(p50Ns / 1000),
        p99Us: p99Ns === undefined ? null : compact(p99Ns / 1000),
      });
    }
    this.lastNs = atNs;
    this.openedNs ??= atNs;
    if (last) this.stop();
  }
}

/** The process's monotonic clock and timers (tests give their own). */
export const systemSeriesClock: SeriesClock = {
  now: nowNs,
  every(fromNs, toNs, intervalMs, tick) {
    let timer: NodeJS.Timeout | undefined;
    let target = fromNs;
    let cancelled = false;
    const stepNs = intervalMs * 1e6;
    const schedule = () => {
      if (cancelled) return;
      const waitMs = Math.max(0, (target - systemSeriesClock.now()) / 1e6);
      timer = setTimeout(() => {
        const now = systemSeriesClock.now();
        // Which tick this is follows the grid, not the clock (a timer may fire a hair early).
        const last = target >= toNs;
        tick(now, last);
        if (last) return;
        // On the window's grid, so late timers do not drift it; a tick missed is merged into the next.
        target += stepNs;
        while (target <= now) target += stepNs;
        target = Math.min(target, toNs);
        schedule();
      }, waitMs);
      timer.unref?.();
    };
    schedule();
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  },
};
