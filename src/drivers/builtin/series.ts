// A trial's time series (flent's core view): rates and latency percentiles per interval of the
// measured window, so a stall or a ramp shows instead of being averaged away. Messages with a
// latency are put in their interval by the time they completed (O(1) each, into a small
// histogram per interval); bulk flows' cumulative counts are read on a timer's ticks.

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
  private readonly ticked: SeriesPoint[] = [];
  private readonly readers: CountReader[] = [];
  private readerBase = { messages: 0, bytes: 0 };
  private lastNs = 0;
  private openedNs: number | null = null;
  private cancel: (() => void) | null = null;
  private window: { fromNs: number; toNs: number } | null = null;
  /** Messages recorded by the time they completed, per interval of the window's grid. */
  private readonly timed: Array<{ latencies: IntervalHistogram; messages: number; bytes: number }> = [];

  constructor(
    private readonly clock: SeriesClock,
    private readonly intervalMs = SERIES_INTERVAL_MS,
  ) {}

  /**
   * Records from `fromNs` (the end of the warm-up) to `toNs`, one point per interval: the measured
   * window of the trial's clock, set by the first flow that starts it (the others start within ms).
   */
  begin(fromNs: number, toNs: number): void {
    if (this.window) return;
    this.window = { fromNs, toNs };
    this.lastNs = fromNs;
    this.cancel = this.clock.every(fromNs, toNs, this.intervalMs, (atNs, last) => this.tick(atNs, last));
  }

  /**
   * One message (a transaction, or an open-loop answer) that completed at `atNs` on this process's
   * clock, with this latency. It goes to its interval of the window's grid whenever it is told:
   * the native data path reports its messages after the trial, so that nothing runs beside it.
   */
  latencyAt(atNs: number, latencyNs: number, bytes: number): void {
    const window = this.window;
    if (!window || atNs < window.fromNs || atNs > window.toNs) return;
    const stepNs = this.intervalMs * 1e6;
    const last = Math.max(0, Math.ceil((window.toNs - window.fromNs) / stepNs) - 1);
    const index = Math.min(last, Math.floor((atNs - window.fromNs) / stepNs));
    let interval = this.timed[index];
    if (!interval) {
      interval = { latencies: new IntervalHistogram(), messages: 0, bytes: 0 };
      this.timed[index] = interval;
    }
    interval.latencies.record(latencyNs);
    interval.messages++;
    interval.bytes += bytes;
  }

  /** The series: bulk flows' points as they were ticked; messages' points made from their times. */
  get points(): SeriesPoint[] {
    const window = this.window;
    if (this.timed.length === 0 || !window) return this.ticked;
    const stepNs = this.intervalMs * 1e6;
    const count = Math.max(1, Math.ceil((window.toNs - window.fromNs) / stepNs));
    const points: SeriesPoint[] = [];
    for (let index = 0; index < count; index++) {
      const endNs = Math.min(window.fromNs + (index + 1) * stepNs, window.toNs);
      const intervalS = (endNs - (window.fromNs + index * stepNs)) / 1e9;
      const interval = this.timed[index];
      const [p50Ns, p99Ns] = interval ? interval.latencies.percentiles([50, 99]) : [];
      points.push({
        tS: compact((endNs - window.fromNs) / 1e9),
        intervalS: compact(intervalS),
        messagesPerSecond: compact((interval?.messages ?? 0) / intervalS),
        throughputMbps: compact(((interval?.bytes ?? 0) * 8) / intervalS / 1e6),
        p50Us: p50Ns === undefined ? null : compact(p50Ns / 1000),
        p99Us: p99Ns === undefined ? null : compact(p99Ns / 1000),
      });
    }
    return points;
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
    const messages = followed.messages - this.readerBase.messages;
    const bytes = followed.bytes - this.readerBase.bytes;
    this.readerBase = followed;
    const intervalS = (atNs - this.lastNs) / 1e9;
    // The first tick opens the window: what came before it was the warm-up.
    if (this.openedNs !== null && intervalS > 0) {
      this.ticked.push({
        tS: compact((atNs - this.openedNs) / 1e9),
        intervalS: compact(intervalS),
        messagesPerSecond: compact(messages / intervalS),
        throughputMbps: compact((bytes * 8) / intervalS / 1e6),
        p50Us: null,
        p99Us: null,
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
