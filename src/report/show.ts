// `vnetbench show` and `vnetbench runs` as text.

import type { PeakResult } from "../analysis/peak-search.js";
import type { RunRecord } from "../storage/store.js";
import type { CellView, RunView } from "./run-view.js";
import { fmt, formatTable, percent } from "./table.js";

function describeTraffic(view: RunView["cells"][number]): string {
  const { traffic, setup } = view;
  const rate = traffic.rate === "max" ? "" : ` @${traffic.rate}${traffic.rate === "peak" ? "" : "/s"}`;
  return `${setup.network} ${traffic.driver} ${traffic.protocol} ${traffic.pattern} ${traffic.requestSize}/${traffic.responseSize}${rate}`;
}

export function formatRun(view: RunView): string {
  const host = view.metadata as { hostname?: string; cpuModel?: string; cores?: number; kernel?: string };
  const header = [
    `run ${view.id}  ${view.status}  label=${view.label || "-"}  tester=${view.tester}`,
    `host ${host.hostname ?? "?"}: ${host.cpuModel ?? "?"} × ${host.cores ?? "?"}, ${host.kernel ?? "?"}`,
  ];
  const rows = view.cells.map((cell) => {
    const s = cell.summary;
    const demand = s.serviceDemand;
    const sd = demand?.usPerTransaction ?? demand?.usPerKB;
    const notes = [
      s.generatorLimited ? "generator-limited" : "",
      s.cpu?.steal.flagged ? "steal" : "",
      s.excluded?.failed ? `${s.excluded.failed} failed` : "",
      s.excluded?.flagged ? `${s.excluded.flagged} flagged` : "",
    ];
    return [
      describeTraffic(cell),
      `${s.trials}/${view.trialsPerCell}`,
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
  });
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
  const left = view.cells.flatMap((cell) =>
    (cell.summary.excluded?.reasons ?? []).map((reason) => `  ${describeTraffic(cell)} ${reason}`),
  );
  return [
    ...header,
    "",
    table,
    ...(peaks.length > 0 ? ["", ...peaks] : []),
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
  return `peak ${describeTraffic(cell)}: ${found}; precision ${percent(peak.precision)}, ${peak.trials} trials${knee}`;
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
