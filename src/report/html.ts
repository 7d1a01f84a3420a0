// `vnetbench report`: one self-contained HTML file — styles inline, plots as inline SVG rendered
// here — that opens offline and can be attached to a patch.

import type { TopLevelSpec } from "vega-lite";
import type { MetricComparison } from "../compare/compare.js";
import { describeSetup } from "../compare/describe.js";
import { FINGERPRINT_FIELDS } from "../compare/fingerprint.js";
import { METRIC_NAMES, METRICS } from "../compare/metrics.js";
import {
  describeFingerprint,
  describeRun,
  describeThresholds,
  FACT_HEADERS,
  factRows,
  formatChange,
  formatVerdict,
  groupCells,
  HEADERS,
  headline,
  metricFigures,
  unchangedLine,
  verdictSummary,
} from "../compare/report.js";
import type { CellComparison, RunComparison } from "../compare/runs.js";
import { CPU_CATEGORIES } from "../monitors/cpu-report.js";
import { DETAIL_LIMIT, detailCells, type TrialCounts, trialCounts } from "./detail.js";
import { matrixFacts, factsTable as recordedFacts } from "./facts.js";
import {
  cpuBarsSpec,
  deltasSpec,
  latencyCdfSpec,
  latencyLoadSpec,
  latencyPercentilesSpec,
  serviceDemandSpec,
  trialSeriesSpec,
  VERDICT_COLORS,
} from "./plots.js";
import type { CpuData } from "./plots-data.js";
import {
  cdfRows,
  cellLabels,
  cpuData,
  deltaRows,
  demandRows,
  loadRows,
  percentileRows,
  seriesRows,
} from "./plots-data.js";
import type { RunView } from "./run-view.js";
import { fmt, percent } from "./table.js";

export interface ReportInput {
  run: RunView;
  /** The baseline run itself, to overlay its latency on the candidate's plots. */
  baseline?: RunView;
  /** The comparison of `run` (the candidate) with a baseline, for `report --vs`. */
  comparison?: RunComparison;
  /** vnetbench version and time of writing, shown in the footer. */
  generator: { version: string; at: string };
  /** Trial counts of the cells whose trials were not read (a large run reads only the detailed cells'). */
  trialCounts?: ReadonlyMap<string, TrialCounts>;
}

/** Text safe in HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

type Cell = string | { html: string; className?: string };

function td(cell: Cell, tag: "td" | "th" = "td"): string {
  if (typeof cell === "string") return `<${tag}>${escapeHtml(cell)}</${tag}>`;
  const cls = cell.className ? ` class="${cell.className}"` : "";
  return `<${tag}${cls}>${cell.html}</${tag}>`;
}

/** A table; every column after `textColumns` holds numbers and is right-aligned. */
export function htmlTable(headers: string[], rows: Cell[][], textColumns = 1): string {
  const head = `<tr>${headers.map((h) => td(h, "th")).join("")}</tr>`;
  const body = rows.map((row) => `<tr>${row.map((c) => td(c)).join("")}</tr>`).join("\n");
  return `<table data-text-columns="${textColumns}"><thead>${head}</thead><tbody>\n${body}\n</tbody></table>`;
}

/**
 * A table of more rows than a report details, folded: the browser lays it out only when opened,
 * so a report of a thousand cells opens quickly.
 */
function folded(table: string, rows: number, what: string): string {
  if (rows <= DETAIL_LIMIT) return table;
  return `<details class="table"><summary>${escapeHtml(what)}: ${rows} rows</summary>\n${table}\n</details>`;
}

function definitionList(entries: Array<[string, string | number]>): string {
  return `<dl>${entries
    .map(([key, value]) => `<dt>${escapeHtml(key)}</dt><dd>${escapeHtml(String(value))}</dd>`)
    .join("")}</dl>`;
}

/** Recorded facts: scalars as a list, each nested group as a table, the matrix as its YAML. */
function factsHtml(entries: Array<[string, unknown]>): string {
  const nested = (value: unknown) => typeof value === "object" && value !== null;
  const scalars = entries.filter(([, value]) => !nested(value));
  const groups = entries.filter(([, value]) => nested(value));
  return [
    scalars.length > 0 ? definitionList(scalars.map(([key, value]) => [key, String(value ?? "-")])) : "",
    ...groups.map(([key, value]) =>
      key === "matrix"
        ? `<h4>matrix</h4>\n${matrixFacts(value, escapeHtml)}`
        : `<h4>${escapeHtml(key)}</h4>\n${recordedFacts(key, value, escapeHtml)}`,
    ),
  ]
    .filter(Boolean)
    .join("\n");
}

function runSection(run: RunView): string {
  const fingerprint = FINGERPRINT_FIELDS.filter((f) => run.metadata[f] !== undefined).map(
    (f): [string, unknown] => [f, run.metadata[f]],
  );
  const others = Object.entries(run.metadata).filter(
    ([key]) => !(FINGERPRINT_FIELDS as readonly string[]).includes(key),
  );
  return `<section id="run"><h2>Run</h2>
${definitionList([
  ["id", run.id],
  ["label", run.label || "-"],
  ["status", run.status],
  ["tester", run.tester],
  ["created", run.createdAt],
  ["finished", run.finishedAt ?? "-"],
  ["trials per cell", run.trialsPerCell],
  ["command", `vnetbench ${run.command.join(" ")}`],
])}
<h3>Fingerprint</h3>
<p class="note">What must agree for two runs to be comparable.</p>
${factsHtml(fingerprint)}
<h3>Machine and software</h3>
${others.length > 0 ? factsHtml(others) : `<p class="note">Nothing else recorded.</p>`}
</section>`;
}

function matrixSection(run: RunView, counts?: ReadonlyMap<string, TrialCounts>): string {
  const rows = run.cells.map((cell, i): Cell[] => {
    const { total, completed } = trialCounts(cell, counts);
    const failed = total - completed;
    return [
      String(i + 1),
      describeSetup(cell.setup),
      cell.traffic.driver,
      cell.traffic.protocol,
      cell.traffic.pattern,
      `${cell.traffic.requestSize}/${cell.traffic.responseSize}`,
      String(cell.traffic.rate),
      `${cell.traffic.durationS}s + ${cell.traffic.warmupS}s`,
      `${completed}/${run.trialsPerCell}`,
      failed > 0 ? { html: String(failed), className: "bad" } : "0",
    ];
  });
  return `<section id="matrix"><h2>Matrix</h2>
<p class="note">${run.cells.length} cells × ${run.trialsPerCell} trials. Cells are matched between runs on every parameter shown.</p>
${folded(
  htmlTable(
    [
      "#",
      "setup",
      "driver",
      "protocol",
      "pattern",
      "sizes (B)",
      "rate (msg/s)",
      "measured + warm-up",
      "completed",
      "failed",
    ],
    rows,
    8,
  ),
  rows.length,
  "every cell",
)}
</section>`;
}

function resultsSection(run: RunView): string {
  const labels = cellLabels(run.cells);
  const rows = run.cells.map((cell): Cell[] => {
    const s = cell.summary;
    // Trials' warnings repeat per trial: count them here; the trials section lists them.
    const warnings = s.warnings.length > 0 ? [`${s.warnings.length} warning(s), see the trials`] : [];
    const left = s.excluded ? s.excluded.failed + s.excluded.flagged : 0;
    const notes = [
      ...(left > 0 ? [`${left} trial(s) failed or flagged, left out`] : []),
      ...(s.generatorLimited ? ["generator-limited"] : []),
      ...warnings,
    ];
    return [
      labels.get(cell.key)!,
      fmt(s.latencyUs?.p50),
      fmt(s.latencyUs?.p90),
      fmt(s.latencyUs?.p99),
      fmt(s.latencyUs?.p999),
      fmt(s.latencyUs?.max),
      fmt(s.messagesPerSecond),
      fmt(s.throughputMbps),
      s.loss.sent > 0 ? percent(s.loss.ratio) : "-",
      notes.length > 0 ? { html: escapeHtml(notes.join("; ")), className: "warn text" } : "",
    ];
  });
  return `<section id="results"><h2>Results per cell</h2>
<p class="note">Latency from the histograms of all trusted trials merged (µs; failed and flagged trials are left out); rates over the summed measured time.</p>
${folded(htmlTable(["cell", "p50", "p90", "p99", "p99.9", "max", "msg/s", "Mbit/s", "loss", "notes"], rows), rows.length, "every cell")}
</section>`;
}

type Figure = (spec: TopLevelSpec, caption: string) => Promise<string>;

/**
 * Renders plots into figures, each with its own id prefix within the page. The renderer (vega,
 * vega-lite) is loaded on the first plot: loading it took half a second of every command.
 */
function figures(): Figure {
  let count = 0;
  return async (spec, caption) => {
    const { renderSvg, scopeSvgIds } = await import("./plots-render.js");
    const svg = scopeSvgIds(await renderSvg(spec), `plot${++count}`);
    return `<figure class="plot">${svg}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
  };
}

/** Why a CPU column reads the same in every cell, said once instead of filling the table. */
const EMPTY_COLUMN_WHY: Record<string, string> = {
  NET_RX: "no receive softirq ran on the host during the measured windows",
  NET_TX:
    "no transmit softirq ran: the host's transmits completed in the sender's own context (as on veth and loopback)",
  interrupts: "no hardware interrupt was counted on the host",
};

function cpuTable(cpu: CpuData): string {
  const headers = [
    "cell",
    "host CPU-s per trial (median)",
    "CPUs busy",
    "generator CPU-s per trial (median)",
    "steal",
    "NET_RX",
    "NET_TX",
    "interrupts",
    "MHz",
  ];
  const rows = cpu.cells.map(({ cell, summary, perTrial }): Cell[] => [
    cell,
    fmt(perTrial.hostSeconds),
    fmt(summary.perWallSecond),
    fmt(perTrial.generatorSeconds),
    summary.steal.flagged
      ? { html: escapeHtml(percent(summary.steal.fraction)), className: "bad" }
      : percent(summary.steal.fraction),
    fmt(summary.netRxSoftirqs),
    fmt(summary.netTxSoftirqs),
    fmt(summary.interrupts),
    summary.effectiveMhz === null ? (summary.perfNote ?? "-") : fmt(summary.effectiveMhz),
  ]);
  // Columns with one value in every cell that says nothing (0, -, or why perf counted nothing).
  const same = (column: number) => {
    const values = new Set(rows.map((row) => (typeof row[column] === "string" ? row[column] : null)));
    const [value] = [...values];
    return values.size === 1 && typeof value === "string" && (value === "0" || value === "-" || column === 8)
      ? value
      : null;
  };
  const dropped = [5, 6, 7, 8].filter((column) => same(column) !== null);
  const notes = dropped.map((column) => {
    const header = headers[column]!;
    const text =
      header === "MHz"
        ? `MHz: not measured in any cell — ${same(column)}`
        : `${header}: ${same(column)} in every cell — ${EMPTY_COLUMN_WHY[header]}`;
    return `<li>${escapeHtml(text)}</li>`;
  });
  const keep = (_: unknown, column: number) => !dropped.includes(column);
  return `<p class="note">Host CPU-seconds are the median over a cell's trials of each trial's measured window (the figure compare judges); CPUs busy is CPU-seconds per wall-second over all its trials.</p>
${htmlTable(
  headers.filter(keep),
  rows.map((row) => row.filter(keep)),
)}${notes.length > 0 ? `\n<ul class="note">${notes.join("")}</ul>` : ""}`;
}

async function plotsSection(
  run: RunView,
  figure: Figure,
  scope: string,
  baseline?: RunView,
): Promise<string> {
  const parts: string[] = [scope];
  // With a baseline, its cells are drawn dashed under the candidate's labels.
  const labels = cellLabels(run.cells);
  const sides = baseline
    ? ([
        [run, { run: "candidate", labels }],
        [baseline, { run: "baseline", labels }],
      ] as const)
    : ([[run, undefined]] as const);
  const overlay = baseline ? " The baseline is dashed, the candidate solid." : "";
  const percentiles = sides.flatMap(([view, side]) => percentileRows(view, side));
  if (percentiles.length > 0)
    parts.push(
      await figure(
        latencyPercentilesSpec(percentiles),
        `Each cell's latency percentiles, log scale.${overlay}`,
      ),
    );
  else parts.push(`<p class="note">No cell${scope ? " drawn here" : ""} measured latency.</p>`);
  const cdf = sides.flatMap(([view, side]) => cdfRows(view, 200, side));
  if (cdf.length > 0)
    parts.push(
      await figure(
        latencyCdfSpec(cdf),
        `Share of messages answered within a latency; the vertical axis stretches the tail (90 %, 99 %, 99.9 %, 99.99 %).${overlay}`,
      ),
    );
  const load = loadRows(run);
  if (load.rows.length > 0)
    parts.push(
      await figure(
        latencyLoadSpec(load.rows, load.peaks),
        "p50 (solid) and p99 (dashed) latency of paced cells against their offered rate; a dashed vertical rule marks the peak throughput when measured.",
      ),
    );
  const cpu = cpuData(run);
  if (cpu) {
    parts.push(`<h3>CPU</h3>`, cpuTable(cpu));
    parts.push(
      await figure(
        cpuBarsSpec(cpu.byCategory, { title: "Host CPU by category", part: "category" }, [...CPU_CATEGORIES]),
        "Host busy CPU split by /proc/stat category.",
      ),
    );
    if (cpu.byProcess.length > 0)
      parts.push(
        await figure(
          cpuBarsSpec(cpu.byProcess, { title: "Host CPU by attributed process", part: "process" }),
          "CPU attributed to selected processes and threads (qemu, vhost, …) and to the traffic generator.",
        ),
      );
  }
  const series = seriesRows(run);
  if (series.rows.length > 0)
    parts.push(
      await figure(
        trialSeriesSpec(series.rows),
        `Each cell's median trial (by messages/s: ${[...series.trials].map(([cell, trial]) => `${cell} trial ${trial}`).join("; ")}) in intervals of ${[...series.intervalsMs].map((ms) => `${ms} ms`).join(" or ")}: a stall or a ramp shows here, where the trial's totals average it away.`,
      ),
    );
  const demand = demandRows(run);
  if (demand.length > 0)
    parts.push(
      await figure(
        serviceDemandSpec(demand),
        "Host CPU microseconds per transaction (rr, crr, paced) or per KB delivered (stream).",
      ),
    );
  return `<section id="plots"><h2>Plots</h2>\n${parts.join("\n")}\n</section>`;
}

function verdictCell(m: MetricComparison): Cell {
  return { html: escapeHtml(formatVerdict(m)), className: `verdict ${m.verdict}` };
}

function factsTable(comparison: RunComparison): string {
  const rows = factRows(comparison);
  if (rows.length === 0) return "";
  return `<h3>What differs between the runs</h3>\n${htmlTable(FACT_HEADERS, rows, 3)}`;
}

/** A row per cell that is not detailed: its verdict and each metric's change, in one table. */
function compactComparison(cells: readonly CellComparison[]): string {
  if (cells.length === 0) return "";
  const metrics = METRIC_NAMES.filter((name) => cells.some((c) => c.metrics.some((m) => m.metric === name)));
  const rows = cells.map((cell): Cell[] => [
    cell.group,
    cell.name,
    { html: escapeHtml(cell.verdict), className: `verdict ${cell.verdict}` },
    ...metrics.map((name) => {
      const m = cell.metrics.find((metric) => metric.metric === name);
      return m ? formatChange(m, m.estimate) : "-";
    }),
  ]);
  return `<h3>Every other cell</h3>
<p class="note">${cells.length} cells: their verdict and the change of each metric's median; <code>vnetbench compare --json</code> has their intervals and p-values.</p>
${folded(htmlTable(["setup", "cell", "verdict", ...metrics.map((name) => METRICS[name].label)], rows, 3), rows.length, "the other cells")}`;
}

async function comparisonSection(
  comparison: RunComparison,
  figure: Figure,
  detail: ReadonlySet<string> | null,
): Promise<string> {
  const fingerprintClass = comparison.fingerprint.matches ? "" : ` class="bad"`;
  const detailed = detail ? comparison.cells.filter((cell) => detail.has(cell.key)) : comparison.cells;
  const tables = [...groupCells(detailed)].map(([group, cells]) => {
    const rows = cells.flatMap((cell) =>
      cell.metrics.map((m, i): Cell[] => [i === 0 ? cell.name : "", ...metricFigures(m), verdictCell(m)]),
    );
    return `<h3>${escapeHtml(group)}</h3><p class="note">${escapeHtml(unchangedLine(cells))}</p>
${htmlTable(HEADERS, rows, 2)}`;
  });
  const deltas = deltaRows({ ...comparison, cells: detailed });
  const plot =
    deltas.length > 0
      ? await figure(
          deltasSpec(deltas, comparison.thresholds.noise * 100),
          "Each dot is the change of medians, candidate vs baseline, in percent; its bar the 95 % interval of the change (Welch's t on log trial values) (dashed where cut at the panel's edge: the table below has the whole interval); the grey band the noise threshold.",
        )
      : "";
  const warnings =
    comparison.warnings.length > 0
      ? `<h3>Warnings</h3><ul class="warn">${comparison.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join("")}</ul>`
      : "";
  const banner = { regression: "bad", inconclusive: "unsure", "no regression": "good" }[comparison.result];
  const title = headline(comparison);
  return `<section id="comparison"><h2>Compared with the baseline</h2>
<p class="banner ${banner}">${escapeHtml(title[0]!.toUpperCase() + title.slice(1))} (${escapeHtml(verdictSummary(comparison))})</p>
${definitionList([
  ["baseline", describeRun(comparison.baseline)],
  ["candidate", describeRun(comparison.candidate)],
  ["thresholds", describeThresholds(comparison)],
])}
<p${fingerprintClass}>Fingerprint: ${escapeHtml(describeFingerprint(comparison))}</p>
${factsTable(comparison)}
${warnings}
${plot}
${detail ? `<p class="note">Detailed below: the ${detailed.length} cells that changed or are inconclusive${detail.size < comparison.cells.filter((c) => c.verdict !== "unchanged").length ? `, the first ${detail.size} of them` : ""}; the others in one table after them.</p>` : ""}
${tables.join("\n")}
${detail ? compactComparison(comparison.cells.filter((cell) => !detail.has(cell.key))) : ""}
</section>`;
}

function trialsSection(run: RunView, scope: string): string {
  const labels = cellLabels(run.cells);
  const cells = run.cells.map((cell) => {
    const rows = cell.trials.flatMap((trial) =>
      (trial.samples.length > 0 ? trial.samples : [null]).map((s): Cell[] => [
        String(trial.trial),
        trial.status === "failed"
          ? { html: escapeHtml(trial.status), className: "bad" }
          : trial.flags?.length
            ? { html: "flagged", className: "warn" }
            : trial.status,
        s?.direction ?? "-",
        fmt(s?.latencyUs?.p50),
        fmt(s?.latencyUs?.p99),
        fmt(s?.latencyUs?.max),
        fmt(s?.messagesPerSecond),
        fmt(s?.throughputMbps),
        s && s.loss.sent > 0 ? percent(s.loss.ratio) : "-",
        s?.generatorLimited ? { html: "yes", className: "warn" } : "",
        trial.error ??
          [
            ...(trial.flags ?? []).map((flag) => `${flag.reason}: ${flag.detail}`),
            ...(s?.warnings ?? []),
          ].join("; "),
      ]),
    );
    return `<details><summary>${escapeHtml(labels.get(cell.key)!)} <code>${escapeHtml(cell.key)}</code></summary>
${htmlTable(["trial", "status", "direction", "p50 µs", "p99 µs", "max µs", "msg/s", "Mbit/s", "loss", "generator-limited", "notes"], rows, 3)}
</details>`;
  });
  const rest = scope
    ? `${scope}<p class="note">Every trial of every cell: <code>vnetbench export RUN --format csv</code>.</p>`
    : "";
  return `<section id="trials"><h2>Trials per cell</h2>\n${rest}${cells.join("\n")}\n</section>`;
}

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .85rem; }
th, td { border-bottom: 1px solid #e4e4e4; padding: .25rem .6rem; text-align: right; white-space: nowrap; }
th { background: #f4f4f4; }
td:first-child, th:first-child, td.text { text-align: left; }
td.text { white-space: normal; min-width: 16rem; }
table[data-text-columns="2"] td:nth-child(2), table[data-text-columns="3"] td:nth-child(-n+3),
table[data-text-columns="8"] td:nth-child(-n+8) { text-align: left; }
dl { display: grid; grid-template-columns: max-content auto; gap: .15rem 1rem; font-size: .9rem; }
dt { font-weight: 600; } dd { margin: 0; font-family: ui-monospace, monospace; word-break: break-all; }
table.facts td.text { font-family: ui-monospace, monospace; font-size: .8rem; min-width: 8rem; word-break: break-all; }
pre.yaml { background: #f7f7f7; padding: .6rem .8rem; font-size: .8rem; overflow-x: auto; }
.note { color: #666; font-size: .85rem; }
.bad { color: #b00; font-weight: 600; } .warn { color: #a60; }
.banner { padding: .5rem .8rem; border-radius: 4px; font-weight: 600; }
.banner.bad { background: #fde8e8; } .banner.good { background: #e6f4e6; color: #185c18; }
.banner.unsure { background: #fff3cd; color: #7a5300; }
.verdict { font-weight: 600; }
${Object.entries(VERDICT_COLORS)
  .map(([verdict, color]) => `.verdict.${verdict} { color: ${color}; }`)
  .join("\n")}
figure.plot { margin: 1rem 0 2rem; } figure.plot svg { max-width: 100%; height: auto; }
figcaption { color: #666; font-size: .85rem; }
details { margin: .3rem 0; } summary { cursor: pointer; } details.table > summary { color: #444; font-size: .9rem; } code { font-size: .75rem; color: #666; }
`;

/** The whole report as one HTML document. */
export async function reportHtml(input: ReportInput): Promise<string> {
  const { run, comparison, generator, baseline } = input;
  const figure = figures();
  const title = `vnetbench report: ${run.label ? `${run.label} ` : ""}${run.id}`;
  // A large run plots and lists the trials of the cells that matter only; tables cover every cell.
  const detail = detailCells(run, comparison, input.trialCounts);
  const detailed = detail ? { ...run, cells: run.cells.filter((cell) => detail.has(cell.key)) } : run;
  const scope = detail
    ? `<p class="note">${run.cells.length} cells: drawn here are the ${detailed.cells.length} ${comparison ? "that changed or are inconclusive" : "with failed or generator-limited trials or warnings"} (at most ${DETAIL_LIMIT}); the tables above cover every cell.</p>`
    : "";
  // The verdict first, then what it rests on; the recorded facts last.
  const sections = [
    comparison ? await comparisonSection(comparison, figure, detail) : "",
    resultsSection(run),
    await plotsSection(detailed, figure, scope, baseline),
    matrixSection(run, input.trialCounts),
    runSection(run),
    trialsSection(detailed, scope),
  ];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${sections.filter(Boolean).join("\n")}
<footer class="note">Written by vnetbench ${escapeHtml(generator.version)} at ${escapeHtml(generator.at)}.</footer>
</body>
</html>
`;
}
