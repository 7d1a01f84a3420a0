// Synthetic runs for report and comparison tests: real histograms, deterministic values.

import type { CpuSummary } from "../../../src/analysis/cpu.js";
import {
  encodeHistogram,
  newLatencyHistogram,
  recordNs,
  summarizeLatency,
} from "../../../src/analysis/latency.js";
import { type Cell, cellKey, type Trial, type TrialFlag } from "../../../src/domain/cell.js";
import { lossOf, type Sample } from "../../../src/domain/sample.js";
import { DEFAULT_SETUP, type SetupSelection } from "../../../src/domain/setup.js";
import type { Traffic } from "../../../src/domain/traffic.js";
import { cellView, type RunView } from "../../../src/report/run-view.js";

export const HOST = {
  hostname: "bench1",
  cpuModel: "Test CPU",
  cores: 8,
  kernel: "Linux 6.1.0",
};

export const TRAFFIC: Traffic = {
  protocol: "tcp",
  pattern: "rr",
  requestSize: 64,
  responseSize: 64,
  rate: "max",
  durationS: 1,
  warmupS: 0.1,
  driver: "builtin",
};

export interface TrialSpec {
  /** Median latency of the trial, µs; the tail reaches 4× it. */
  latencyUs: number;
  messagesPerSecond?: number;
  generatorLimited?: boolean;
  dataPath?: Sample["dataPath"];
  failed?: boolean;
  /** A completed trial that is flagged (left out of statistics). */
  flags?: TrialFlag[];
  cpu?: CpuSummary;
  serviceDemand?: { usPerTransaction?: number; usPerKB?: number; cyclesPerUnit: number | null };
}

export interface CellSpec {
  traffic?: Partial<Traffic>;
  setup?: Partial<SetupSelection>;
  trials: TrialSpec[];
}

/** One forward sample: 1000 latencies from `latencyUs` up to 4× it, most near the median. */
export function sampleOf(spec: TrialSpec, durationS = 1): Sample {
  const histogram = newLatencyHistogram();
  for (let i = 0; i < 1000; i++)
    recordNs(histogram, spec.latencyUs * 1000 * (0.8 + 0.4 * (i / 1000) + 2.8 * (i / 1000) ** 8));
  const rate = spec.messagesPerSecond ?? 1e6 / spec.latencyUs;
  const messages = Math.round(rate * durationS);
  return {
    driver: "builtin",
    direction: "forward",
    durationS,
    messagesSent: messages,
    messagesReceived: messages,
    bytesSent: messages * 64,
    bytesReceived: messages * 64,
    messagesPerSecond: rate,
    throughputMbps: (rate * 128 * 8) / 1e6,
    latencyUs: summarizeLatency(histogram),
    histogram: encodeHistogram(histogram),
    loss: lossOf(messages, messages),
    lateness: null,
    generatorLimited: spec.generatorLimited ?? false,
    warnings: [],
    ...(spec.dataPath ? { dataPath: spec.dataPath } : {}),
  };
}

export function cellOf(spec: CellSpec): Cell {
  const setup = { ...DEFAULT_SETUP, ...spec.setup };
  const traffic = { ...TRAFFIC, ...spec.traffic };
  return { key: cellKey(setup, traffic), setup, traffic };
}

/** A completed run of the given cells and trials. */
export function makeRun(id: string, cells: CellSpec[], metadata: Record<string, unknown> = HOST): RunView {
  return {
    id,
    label: id,
    tester: "tester",
    status: "completed",
    createdAt: "2026-01-02T03:04:05.000Z",
    finishedAt: "2026-01-02T03:05:05.000Z",
    command: ["run", "--trials", String(cells[0]?.trials.length ?? 0)],
    trialsPerCell: cells[0]?.trials.length ?? 0,
    metadata,
    cells: cells.map((spec) => {
      const cell = cellOf(spec);
      const trials = spec.trials.map(
        (t, i): Trial => ({
          cellKey: cell.key,
          trial: i + 1,
          status: t.failed ? "failed" : "completed",
          startedAt: "2026-01-02T03:04:05.000Z",
          finishedAt: "2026-01-02T03:04:06.000Z",
          samples: t.failed ? [] : [sampleOf(t, cell.traffic.durationS)],
          ...(t.failed ? { error: "agent died" } : {}),
          ...(t.cpu ? { cpu: t.cpu } : {}),
          ...(t.flags ? { flags: t.flags } : {}),
          ...(t.serviceDemand ? { serviceDemand: t.serviceDemand } : {}),
        }),
      );
      return cellView(cell, trials);
    }),
  };
}

/** `n` trial latencies around `centre`, ±1 % apart, deterministic. */
export function spread(n: number, centre: number): TrialSpec[] {
  return Array.from({ length: n }, (_, i) => ({ latencyUs: centre * (1 + (0.01 * (i - (n - 1) / 2)) / n) }));
}

/** A CPU summary of one trial (the shape src/analysis/cpu.ts merges). */
export function cpuSummary(hostSeconds: number, wallSeconds = 1): CpuSummary {
  return {
    hostSeconds,
    byCategory: {
      user: hostSeconds * 0.3,
      nice: 0,
      system: hostSeconds * 0.5,
      irq: 0,
      softirq: hostSeconds * 0.2,
      steal: 0,
    },
    generatorSeconds: hostSeconds * 0.4,
    perWallSecond: hostSeconds / wallSeconds,
    steal: { seconds: 0, fraction: 0, flagged: false },
    wallSeconds,
    onlineCpus: 8,
    processes: { qemu: hostSeconds * 0.3, vhost: hostSeconds * 0.1 },
    netRxSoftirqs: 1000,
    netTxSoftirqs: 900,
    interrupts: 5000,
    cycles: null,
    effectiveMhz: null,
    perfNote: "perf not available",
    warnings: [],
  };
}
