// `vnetbench show` and `vnetbench runs` as text.

import { generatorReach } from "../analysis/generator-reach.js";
import type { PeakResult } from "../analysis/peak-search.js";
import type { ExcludedTrials } from "../analysis/summary.js";
import { describeCells } from "../compare/describe.js";
import type { RunRecord } from "../storage/store.js";
import type { CellView, RunView } from "./run-view.js";
import { fmt, formatTable, percent } from "./table.js";

type Summary = Pick<
  CellView["summary"],
  "trials" | "latencyUs" | "messagesPerSecond" | "throughputMbps" | "loss" | "generatorLimited"
> &
  Partial<Pick<CellView["summary"], "cpu" | "serviceDemand">>;

function row(name: string, trials: string, s: Summary): string[] {
  const demand = s.serviceDemand;
  const sd = demand?.usPerTransaction ?? demand?.usPerKB;
  const excluded = (s as { excluded?: ExcludedTrials }).excluded;
  const notes = [
    s.generatorLimited ? "generator-limited" : "",
    s.cpu?.steal.flagged ? "steal" : "",
    excluded?.failed ? `${excluded.failed} failed` : "",
    excluded?.flagged ? `${excluded.flagged} flagged` : "",
  ];
  return [
    name,
    trials,
    fmt(s.latencyUs?.p50),
    fmt(s.latencyUs?.p99),
    fmt(s.latencyUs?.max),
    fmt(s.messagesPerSecond),
    fmt(s.throughputMbps),
    s.loss.sent > 0 ? percent(s.loss.ratio) : "-",
    fmt(s.cpu?.perWallSecond),
    sd === undefined ? "-" : `${fmt(sd)} ${demand?.usPerKB === undefined ? "µs/tr" : "µs/KB"}`,
    notes.filter(Boolean).join(" "),
  ];
}

/**
 * Rows of one cell: one, or for a bidirectional cell the total (with the host CPU, which both
 * directions share) then each direction.
 */
function cellRows(cell: CellView, name: string, trialsPerCell: number): string[][] {
  const trials = `${cell.summary.trials}/${trialsPerCell}`;
  if (!cell.directions) return [row(name, trials, cell.summary)];
  const { forward, reverse, total } = cell.directions;
  const { cpu, serviceDemand } = cell.summary;
  return [
    row(`${name} both ways`, trials, { ...total, cpu, serviceDemand }),
    row("  → forward", "", forward),
    row("  ← reverse", "", reverse),
  ];
}

export function formatRun(view: RunView): string {
  const host = view.metadata as { hostname?: string; cpuModel?: string; cores?: number; kernel?: string };
  const header = [
    `run ${view.id}  ${view.status}  label=${view.label || "-"}  tester=${view.tester}`,
    `host ${host.hostname ?? "?"}: ${host.cpuModel ?? "?"} × ${host.cores ?? "?"}, ${host.kernel ?? "?"}`,
  ];
  const names = describeCells(view.cells);
  const rows = view.cells.flatMap((cell) => cellRows(cell, names.get(cell.key)!, view.trialsPerCell));
  const table = formatTable(
    [
      "cell",
      "trials",
      "p50 µs",
      "p99 µs",
      "max µs",
      "msg/s",
      "Mb/s",
      "loss",
      "CPU s/s",
      "service demand",
      "note",
    ],
    rows,
  );
  const peaks = view.cells.flatMap((cell) =>
    cell.summary.peak ? [formatPeak(cell, cell.summary.peak)] : [],
  );
  const reach = generatorReach(view.cells, (cell) => cell.summary.generatorLimited).map(
    ({ firstLimited, keptUpTo }) =>
      `  ${names.get(firstLimited.key)}: generator-limited at ${fmt(firstLimited.traffic.rate as number)} msg/s; ` +
      (keptUpTo === null
        ? "limited from the lowest rate tried"
        : `kept its schedule up to ${fmt(keptUpTo)} msg/s`) +
      (firstLimited.trials.some((trial) => trial.samples.some((sample) => sample.dataPath === "node"))
        ? " in Node's data path (build the native one: apt-get install gcc, npm run build; or driver: auto sends such cells to sockperf)"
        : ""),
  );
  const left = view.cells.flatMap((cell) =>
    (cell.summary.excluded?.reasons ?? []).map((reason) => `  ${names.get(cell.key)} ${reason}`),
  );
  return [
    ...header,
    "",
    table,
    ...(peaks.length > 0 ? ["", ...peaks] : []),
    ...(reach.length > 0
      ? ["", "where the traffic generator could not keep up on this machine:", ...reach]
      : []),
    ...(left.length > 0 ? ["", "left out of the figures above (failed or flagged):", ...left] : []),
  ].join("\n");
}

/** One line: the peak (or why there is none), the criterion that stopped the search, its precision. */
export function formatPeak(cell: CellView, peak: PeakResult): string {
  const limits = peak.limits;
  const why: Record<PeakResult["criterion"], string> = {
    "delivered-rate": `delivered < ${percent(limits?.deliveredFraction ?? 0.99)} of offered`,
    loss: `loss > ${percent(limits?.lossGoal ?? 0)}`,
    latency: `p99 > ${limits?.latencyFactor ?? "k"} × ${fmt(limits?.unloadedP99Us)} µs unloaded`,
    "generator-limited": peak.generatorLimited?.reason ?? "the generator could not keep up",
    "max-rate": `nothing up to ${fmt(peak.bounds.good)} msg/s was too much`,
    "min-rate": "the path did not keep up even at the lowest rate",
    "trial-limit": "the search ran out of trials",
  };
  const found =
    peak.messagesPerSecond === null
      ? `no peak (${peak.criterion}: ${why[peak.criterion]}; kept up to ${fmt(peak.bounds.good)} msg/s)`
      : `${fmt(peak.messagesPerSecond)} msg/s, stopped by ${peak.criterion} (${why[peak.criterion]}) at ${fmt(peak.bounds.bad)} msg/s`;
  const knee = peak.knee ? `; knee ${fmt(peak.knee.messagesPerSecond)} msg/s` : "";
  return `peak ${describeCells([cell]).get(cell.key)}: ${found}; precision ${percent(peak.precision)}, ${peak.trials} trials${knee}`;
}

export function formatRuns(runs: RunRecord[]): string {
  if (runs.length === 0) return "no runs stored";
  return formatTable(
    ["id", "status", "created", "label", "tester"],
    runs.map((run) => [
      run.id,
      run.status,
      run.createdAt.replace("T", " ").slice(0, 19),
      run.label || "-",
      run.tester,
    ]),
  );
}
