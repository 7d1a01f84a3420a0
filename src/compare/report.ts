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
  if (metric.verdict !== "inconclusive") return metric.verdict;
  return metric.trialsPerSide === null ? "inconclusive" : `inconclusive (~${metric.trialsPerSide} trials)`;
}

/** The metrics of changed cells worth a row: everything that is not unchanged. */
export function changedMetrics(cell: CellComparison): MetricComparison[] {
  return cell.metrics
    .filter((m) => m.verdict !== "unchanged")
    .sort((a, b) => VERDICT_ORDER.indexOf(a.verdict) - VERDICT_ORDER.indexOf(b.verdict));
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
  return `noise ±${Number((noise * 100).toPrecision(3))}%, α ${alpha}, Holm over ${comparison.tests} tests, 95% bootstrap intervals of the change of medians`;
}

export function verdictSummary(comparison: RunComparison): string {
  return VERDICT_ORDER.map((v) => `${comparison.counts[v]} ${v}`).join(", ");
}

const HEADERS = ["cell", "metric", "baseline", "candidate", "change", "95% interval", "p (Holm)", "verdict"];

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
  for (const [group, cells] of groupCells(comparison.cells)) {
    lines.push("", `== ${group}`);
    const rows = cells.flatMap((cell) => changedMetrics(cell).map((m, i) => metricRow(cell, m, i === 0)));
    if (rows.length > 0) lines.push(formatTable(HEADERS, rows));
    lines.push(unchangedLine(cells));
  }
  lines.push("", `verdicts: ${verdictSummary(comparison)}`);
  lines.push(comparison.regression ? "RESULT: regression" : "RESULT: no regression");
  return lines.join("\n");
}
