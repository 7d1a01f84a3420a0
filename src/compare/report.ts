// The comparison as text: the terminal table of `vnetbench compare`, grouped by setup, the cells
// needing attention first and the unchanged ones only counted. Pure: returns strings.

import { fmt, formatTable } from "../report/table.js";
import type { MetricComparison } from "./compare.js";
import { METRICS } from "./metrics.js";
import type { CellComparison, RunComparison } from "./runs.js";
import { VERDICT_ORDER } from "./runs.js";

/** A change of medians: `+10.6%` for a relative metric, `+0.100 pp` for an absolute ratio (loss). */
export function formatChange(metric: Pick<MetricComparison, "change">, value: number): string {
  if (!Number.isFinite(value)) return value > 0 ? "+inf" : value < 0 ? "-inf" : "-";
  const sign = value > 0 ? "+" : value < 0 ? "-" : "±";
  const magnitude = Math.abs(value) * 100;
  if (metric.change === "absolute") return `${sign}${magnitude.toFixed(3)} pp`;
  return `${sign}${magnitude.toFixed(magnitude < 100 ? 1 : 0)}%`;
}

export function formatInterval(metric: Pick<MetricComparison, "change" | "low" | "high">): string {
  return `[${formatChange(metric, metric.low)}, ${formatChange(metric, metric.high)}]`;
}

/** A median with its unit (a loss ratio as a percentage). */
export function formatValue(metric: Pick<MetricComparison, "metric">, value: number): string {
  const spec = METRICS[metric.metric];
  if (spec.unit === "ratio") return `${fmt(value * 100)}%`;
  return `${fmt(value)} ${spec.unit}`;
}

export function formatP(p: number): string {
  return p < 0.001 ? "<0.001" : p.toFixed(3);
}

/** The verdict, and for an inconclusive one how many trials a side would likely settle it. */
export function formatVerdict(metric: MetricComparison): string {
  const verdict =
    metric.verdict !== "inconclusive" || metric.trialsPerSide === null
      ? metric.verdict
      : `inconclusive (~${metric.trialsPerSide} trials)`;
  return metric.judged ? verdict : `${verdict}, not judged`;
}

/** The metrics of changed cells worth a row: everything that is not unchanged. */
export function changedMetrics(cell: CellComparison): MetricComparison[] {
  const rank = (m: MetricComparison) =>
    VERDICT_ORDER.indexOf(m.verdict) + (m.judged ? 0 : VERDICT_ORDER.length);
  return cell.metrics.filter((m) => m.verdict !== "unchanged").sort((a, b) => rank(a) - rank(b));
}

/** Cells grouped by setup, in the order the comparison lists them. */
export function groupCells(cells: readonly CellComparison[]): Map<string, CellComparison[]> {
  const groups = new Map<string, CellComparison[]>();
  for (const cell of cells) groups.set(cell.group, [...(groups.get(cell.group) ?? []), cell]);
  return groups;
}

/** `5 cells unchanged (and 12 unchanged metrics of the cells above)`. */
export function unchangedLine(cells: readonly CellComparison[]): string {
  const unchangedCells = cells.filter((c) => c.verdict === "unchanged").length;
  const hidden = cells
    .filter((c) => c.verdict !== "unchanged")
    .reduce((sum, c) => sum + c.metrics.filter((m) => m.verdict === "unchanged").length, 0);
  const also =
    hidden > 0 ? ` (and ${hidden} unchanged metric${hidden === 1 ? "" : "s"} of the cells above)` : "";
  return `${unchangedCells} cell${unchangedCells === 1 ? "" : "s"} unchanged${also}`;
}

export function describeRun(run: RunComparison["baseline"]): string {
  const label = run.label ? `label ${run.label}, ` : "";
  return `${run.id} (${label}${run.createdAt.replace("T", " ").slice(0, 16)}, ${run.trialsPerCell} trials/cell)`;
}

export function describeFingerprint(comparison: RunComparison): string {
  const { fingerprint } = comparison;
  if (fingerprint.matches) return "same machine (host name, CPU model, cores, kernel agree)";
  return `DIFFERENT machines: ${fingerprint.differences
    .map((d) => `${d.field} ${JSON.stringify(d.baseline)} vs ${JSON.stringify(d.candidate)}`)
    .join("; ")}`;
}

export function describeThresholds(comparison: RunComparison): string {
  const { noise, alpha } = comparison.thresholds;
  return (
    `noise ±${Number((noise * 100).toPrecision(3))}%, α ${alpha} (false-discovery rate, Benjamini–Hochberg over ` +
    `${comparison.tests} judged tests), Welch's t on log trial values with its 95% interval, rank test as a check`
  );
}

/** The headline every output leads with: regression, inconclusive (with the trials needed), or no regression. */
export function headline(comparison: RunComparison): string {
  const { counts } = comparison;
  if (comparison.result === "regression")
    return `regression: ${counts.regression} judged metric${counts.regression === 1 ? "" : "s"} regressed`;
  if (comparison.result === "inconclusive") {
    const n = counts.inconclusive;
    const trials =
      comparison.trialsNeeded === null
        ? "no practical trial count would settle them all"
        : `about ${comparison.trialsNeeded} trials a side would settle them (--trials ${comparison.trialsNeeded})`;
    return `inconclusive: ${n} judged metric${n === 1 ? "" : "s"} could not be decided; ${trials}`;
  }
  return "no regression";
}

/** A fact's value in a table cell: strings bare, anything else as compact JSON, missing as "-". */
function factValue(value: unknown): string {
  if (value === undefined || value === null) return "-";
  return typeof value === "string" ? value : JSON.stringify(value);
}

export const FACT_HEADERS = ["fact", "baseline", "candidate"];

/**
 * What differs between the runs' machine and software facts, a row each (`hardware.…` fields must
 * match unless --allow-mismatch; `software.…` ones — kernel, cmdline, sysctls, MTU, offloads,
 * qemu — are often the change under test).
 */
export function factRows(comparison: Pick<RunComparison, "fingerprint">): string[][] {
  const { differences, software = [] } = comparison.fingerprint;
  return [...differences, ...software].map((d) => [d.field, factValue(d.baseline), factValue(d.candidate)]);
}

export function verdictSummary(comparison: RunComparison): string {
  return VERDICT_ORDER.map((v) => `${comparison.counts[v]} ${v}`).join(", ");
}

export const HEADERS = [
  "cell",
  "metric",
  "baseline",
  "candidate",
  "change",
  "95% interval",
  "p (BH)",
  "verdict",
];

/** The cells every output shows for one metric, between the cell's name and its verdict. */
export function metricFigures(m: MetricComparison): string[] {
  return [
    METRICS[m.metric].label,
    formatValue(m, m.baseline.median),
    formatValue(m, m.candidate.median),
    formatChange(m, m.estimate),
    formatInterval(m),
    formatP(m.pAdjusted),
  ];
}

function metricRow(cell: CellComparison, m: MetricComparison, first: boolean): string[] {
  return [first ? cell.name : "", ...metricFigures(m), formatVerdict(m)];
}

/** The terminal output of `vnetbench compare` (warnings are printed apart, on stderr). */
export function formatComparison(comparison: RunComparison): string {
  const lines = [
    `baseline   ${describeRun(comparison.baseline)}`,
    `candidate  ${describeRun(comparison.candidate)}`,
    `fingerprint: ${describeFingerprint(comparison)}`,
    describeThresholds(comparison),
  ];
  const facts = factRows(comparison);
  if (facts.length > 0) lines.push("", "== what differs between the runs", formatTable(FACT_HEADERS, facts));
  for (const [group, cells] of groupCells(comparison.cells)) {
    lines.push("", `== ${group}`);
    const rows = cells.flatMap((cell) => changedMetrics(cell).map((m, i) => metricRow(cell, m, i === 0)));
    if (rows.length > 0) lines.push(formatTable(HEADERS, rows));
    lines.push(unchangedLine(cells));
  }
  lines.push("", `verdicts: ${verdictSummary(comparison)}`);
  lines.push(`RESULT: ${headline(comparison)}`);
  return lines.join("\n");
}
