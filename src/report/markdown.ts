// The comparison as Markdown (GitHub-flavoured tables), to paste into a pull request or a
// mailing-list post. Pure: returns a string.

import type { MetricComparison } from "../compare/compare.js";
import {
  changedMetrics,
  describeFingerprint,
  describeRun,
  describeThresholds,
  FACT_HEADERS,
  factRows,
  formatVerdict,
  groupCells,
  HEADERS,
  headline,
  metricFigures,
  unchangedLine,
  verdictSummary,
} from "../compare/report.js";
import type { CellComparison, RunComparison } from "../compare/runs.js";

/** Text safe inside a table cell: pipes escaped, line breaks flattened. */
export function markdownCell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** A GitHub-flavoured table; columns after the first two are right-aligned numbers. */
export function markdownTable(headers: string[], rows: string[][], leftColumns = 2): string {
  const line = (cells: string[]) => `| ${cells.map(markdownCell).join(" | ")} |`;
  const rule = `|${headers.map((_, i) => (i < leftColumns ? " --- " : " ---: ")).join("|")}|`;
  return [line(headers), rule, ...rows.map(line)].join("\n");
}

function verdictCell(m: MetricComparison): string {
  const text = formatVerdict(m);
  return m.verdict === "regression" || m.verdict === "improvement" ? `**${text}**` : text;
}

function rows(cells: CellComparison[]): string[][] {
  return cells.flatMap((cell) =>
    changedMetrics(cell).map((m, i) => [i === 0 ? cell.name : "", ...metricFigures(m), verdictCell(m)]),
  );
}

/** The whole post: headline, runs, fingerprint, a table per setup, warnings. */
export function comparisonMarkdown(comparison: RunComparison): string {
  const title = comparison.result === "no regression" ? headline(comparison) : `**${headline(comparison)}**`;
  const out = [
    `### vnetbench comparison: ${title}`,
    "",
    `- baseline: \`${describeRun(comparison.baseline)}\``,
    `- candidate: \`${describeRun(comparison.candidate)}\``,
    `- fingerprint: ${describeFingerprint(comparison)}`,
    `- ${describeThresholds(comparison)}`,
    `- verdicts: ${verdictSummary(comparison)}`,
  ];
  const facts = factRows(comparison);
  if (facts.length > 0)
    out.push("", "#### What differs between the runs", "", markdownTable(FACT_HEADERS, facts, 3));
  for (const [group, cells] of groupCells(comparison.cells)) {
    out.push("", `#### ${group}`, "");
    const table = rows(cells);
    if (table.length > 0) out.push(markdownTable(HEADERS, table), "");
    out.push(`_${unchangedLine(cells)}_`);
  }
  if (comparison.warnings.length > 0) {
    out.push("", "**Warnings**", "", ...comparison.warnings.map((w) => `- ${w}`));
  }
  return `${out.join("\n")}\n`;
}
