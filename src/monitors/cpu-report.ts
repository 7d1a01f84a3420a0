// The CPU report of one monitored window on one endpoint (the shape the run engine stores).

import type { MhzSource } from "../analysis/cpu-hosts.js";

/** Busy categories; together they make up hostSeconds. guest/guest_nice are inside user/nice. */
export const CPU_CATEGORIES = ["user", "nice", "system", "irq", "softirq", "steal"] as const;
export type CpuCategory = (typeof CPU_CATEGORIES)[number];
export type CategorySeconds = Record<CpuCategory, number>;

export interface PerCpuSeconds {
  cpu: number;
  /** Busy CPU-seconds: seconds online − Δidle − Δiowait. */
  seconds: number;
  byCategory: CategorySeconds;
  idleSeconds: number;
  iowaitSeconds: number;
  /** Seconds of the window this CPU was online and sampled (less than wall if it went offline). */
  onlineSeconds: number;
}

export interface AttributedThread {
  pid: number;
  tid: number;
  name: string;
  /** CPU-seconds in the window, from schedstat (nanoseconds). */
  seconds: number;
  /** Started after the window opened (its whole run time counts). */
  started: boolean;
  /** Gone before the window closed (counted up to the last sample that saw it). */
  exited: boolean;
}

export interface AttributedProcess {
  name: string;
  pids: number[];
  seconds: number;
  threads: AttributedThread[];
}

/** Event counts per CPU (keyed by CPU number as a string, for JSON) and their total. */
export interface EventCounts {
  total: number;
  perCpu: Record<string, number>;
}

export interface InterruptCounts extends EventCounts {
  /** Rows with a non-zero count, e.g. { id: "45", description: "... virtio2-input.0", total: 1234 }. */
  lines: Array<{ id: string; description: string; total: number }>;
}

export interface CpuTimelinePoint {
  /** End of the interval, seconds since the window opened. */
  t: number;
  dt: number;
  /** Host busy CPU-seconds in this interval. */
  hostSeconds: number;
  generatorSeconds: number;
  /** Attributed CPU-seconds per selected process name. */
  processes: Record<string, number>;
}

export interface StealSummary {
  seconds: number;
  /** Steal over the window's capacity (wall × online CPUs). */
  fraction: number;
  threshold: number;
  flagged: boolean;
}

export interface CpuReport {
  endpoint: string;
  wallSeconds: number;
  onlineCpus: number;
  /** Host busy CPU-seconds = wall × CPUs − Δidle − Δiowait (idle is accounted exactly, busy columns are not). */
  hostSeconds: number;
  perWallSecond: number;
  idleSeconds: number;
  iowaitSeconds: number;
  /** hostSeconds split by the tick proportions of /proc/stat, CPU by CPU; steal is taken as measured. */
  byCategory: CategorySeconds;
  perCpu: PerCpuSeconds[];
  steal: StealSummary;
  stealFlagged: boolean;
  interrupts: InterruptCounts;
  /** Per softirq name (NET_RX, NET_TX, TIMER, ...). */
  softirqs: Record<string, EventCounts>;
  processes: AttributedProcess[];
  generator: AttributedProcess | null;
  generatorSeconds: number;
  cycles: number | null;
  instructions: number | null;
  taskClockSeconds: number | null;
  /**
   * The clock while busy: cycles / hostSeconds (cycles do not count in halted idle), else the mean
   * `cpu MHz` of /proc/cpuinfo sampled over the window; mhzSource says which.
   */
  effectiveMhz: number | null;
  mhzSource: MhzSource | null;
  perfNote: string | null;
  timeline: CpuTimelinePoint[];
  /** Anomalies met and handled: counters going backwards, CPUs going offline, unreadable files. */
  warnings: string[];
}
