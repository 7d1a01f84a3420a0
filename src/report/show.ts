// `vnetbench show` and `vnetbench runs` as text.

import type { RunRecord } from "../storage/store.js";
import type { RunView } from "./run-view.js";
import { fmt, formatTable, percent } from "./table.js";

function describeTraffic(view: RunView["cells"][number]): string {
  const { traffic, setup } = view;
  const rate = traffic.rate === "max" ? "" : ` @${traffic.rate}/s`;
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
    const notes = [s.generatorLimited ? "generator-limited" : "", s.cpu?.steal.flagged ? "steal" : ""];
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
  return [...header, "", table].join("\n");
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
