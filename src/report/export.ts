// `vnetbench export`: a run as CSV (one row per trial and direction, for spreadsheets and pandas)
// or as the RunView JSON contract. Pure serializers.

import type { Cell, Trial } from "../domain/cell.js";
import type { Sample } from "../domain/sample.js";
import type { Store } from "../storage/store.js";
import type { RunView } from "./run-view.js";

export const EXPORT_FORMATS = ["csv", "json"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

type Value = string | number | boolean | null | undefined;

/** One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. */
export function csvField(value: Value): string {
  if (value === null || value === undefined) return "";
  // Most fields of a large export are numbers: none needs quoting.
  if (typeof value === "number") return String(value);
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Extra per-trial measurements later issues store beside the samples; empty when absent. */
interface TrialExtras {
  cpu?: { hostSeconds?: number } | null;
  serviceDemand?: { usPerTransaction?: number; usPerKB?: number } | null;
}

const COLUMNS: Array<[string, (cell: Cell, trial: Trial, sample: Sample | undefined) => Value]> = [
  ["cell_key", (c) => c.key],
  ["network", (c) => c.setup.network],
  ["setup_direction", (c) => c.setup.direction],
  ["cpu_setup", (c) => c.setup.cpu],
  ["guest", (c) => c.setup.guest],
  ["hypervisor", (c) => c.setup.hypervisor],
  ["driver", (c) => c.traffic.driver],
  ["protocol", (c) => c.traffic.protocol],
  ["pattern", (c) => c.traffic.pattern],
  ["request_size", (c) => c.traffic.requestSize],
  ["response_size", (c) => c.traffic.responseSize],
  ["rate", (c) => c.traffic.rate],
  ["duration_s", (c) => c.traffic.durationS],
  ["warmup_s", (c) => c.traffic.warmupS],
  ["trial", (_, t) => t.trial],
  ["status", (_, t) => t.status],
  ["started_at", (_, t) => t.startedAt],
  ["finished_at", (_, t) => t.finishedAt],
  ["error", (_, t) => t.error],
  ["direction", (_, __, s) => s?.direction],
  ["measured_s", (_, __, s) => s?.durationS],
  ["messages_sent", (_, __, s) => s?.messagesSent],
  ["messages_received", (_, __, s) => s?.messagesReceived],
  ["bytes_sent", (_, __, s) => s?.bytesSent],
  ["bytes_received", (_, __, s) => s?.bytesReceived],
  ["messages_per_second", (_, __, s) => s?.messagesPerSecond],
  ["throughput_mbps", (_, __, s) => s?.throughputMbps],
  ["latency_min_us", (_, __, s) => s?.latencyUs?.min],
  ["latency_p50_us", (_, __, s) => s?.latencyUs?.p50],
  ["latency_mean_us", (_, __, s) => s?.latencyUs?.mean],
  ["latency_p90_us", (_, __, s) => s?.latencyUs?.p90],
  ["latency_p99_us", (_, __, s) => s?.latencyUs?.p99],
  ["latency_p999_us", (_, __, s) => s?.latencyUs?.p999],
  ["latency_max_us", (_, __, s) => s?.latencyUs?.max],
  ["loss_sent", (_, __, s) => s?.loss.sent],
  ["loss_received", (_, __, s) => s?.loss.received],
  ["loss_ratio", (_, __, s) => s?.loss.ratio],
  ["reordered", (_, __, s) => s?.loss.reordered],
  ["duplicates", (_, __, s) => s?.loss.duplicates],
  ["lateness_p50_us", (_, __, s) => s?.lateness?.p50Us],
  ["lateness_p99_us", (_, __, s) => s?.lateness?.p99Us],
  ["lateness_max_us", (_, __, s) => s?.lateness?.maxUs],
  ["generator_limited", (_, __, s) => s?.generatorLimited],
  ["warnings", (_, __, s) => s?.warnings.join("; ")],
  ["host_cpu_seconds", (_, t) => (t as Trial & TrialExtras).cpu?.hostSeconds],
  ["service_demand_us_per_transaction", (_, t) => (t as Trial & TrialExtras).serviceDemand?.usPerTransaction],
  ["service_demand_us_per_kb", (_, t) => (t as Trial & TrialExtras).serviceDemand?.usPerKB],
  // A flagged trial completed but is left out of every statistic: "reason: detail; …".
  ["flags", (_, t) => t.flags?.map((flag) => `${flag.reason}: ${flag.detail}`).join("; ")],
];

export const CSV_HEADER = ["run_id", ...COLUMNS.map(([name]) => name)];

/**
 * One row per trial and sample direction (a bidirectional trial has two; a failed trial without
 * samples one, with the sample's columns empty). The histogram is left out: export JSON keeps it.
 */
export function runCsv(view: RunView): string {
  return `${[CSV_HEADER.join(","), ...csvLines(view.id, view.cells)].join("\r\n")}\r\n`;
}

/** The CSV's rows (no header) of these cells' trials. */
function csvLines(runId: string, cells: ReadonlyArray<Cell & { trials: readonly Trial[] }>): string[] {
  const lines: string[] = [];
  for (const cell of cells) {
    for (const trial of cell.trials) {
      const samples: Array<Sample | undefined> = trial.samples.length > 0 ? trial.samples : [undefined];
      for (const sample of samples) {
        lines.push([runId, ...COLUMNS.map(([, read]) => read(cell, trial, sample))].map(csvField).join(","));
      }
    }
  }
  return lines;
}

/**
 * runCsv of a stored run, read a batch of cells at a time and without summaries (no column needs
 * one): a large run's trials, series and all, never all in memory at once.
 */
export function storedRunCsv(store: Store, runId: string): string {
  const { cells } = store.getRun(runId, { cells: [] });
  const lines = [CSV_HEADER.join(",")];
  for (let start = 0; start < cells.length; start += CSV_BATCH) {
    const batch = cells.slice(start, start + CSV_BATCH);
    const { results } = store.getRun(runId, {
      cells: batch.map((cell) => cell.key),
      histograms: false,
      series: false,
    });
    const byCell = new Map<string, Trial[]>();
    for (const trial of results) {
      const list = byCell.get(trial.cellKey);
      if (list) list.push(trial);
      else byCell.set(trial.cellKey, [trial]);
    }
    for (const line of csvLines(
      runId,
      batch.map((cell) => ({ ...cell, trials: byCell.get(cell.key) ?? [] })),
    ))
      lines.push(line);
  }
  return `${lines.join("\r\n")}\r\n`;
}

const CSV_BATCH = 50;

export function runJson(view: RunView): string {
  return `${JSON.stringify(view, null, 2)}\n`;
}

/** The run in the chosen format. */
export function serializeRun(view: RunView, format: ExportFormat): string {
  return format === "csv" ? runCsv(view) : runJson(view);
}
