// The comparison as JUnit XML for CI dashboards: one testcase per cell × judged metric, a failure
// for each regression, inconclusive as skipped with the trials it needs. Pure: returns a string.

import type { MetricComparison } from "../compare/compare.js";
import { METRICS } from "../compare/metrics.js";
import { formatChange, formatInterval, formatP } from "../compare/report.js";
import type { RunComparison } from "../compare/runs.js";

function xmlEscape(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

function figures(m: MetricComparison): string {
  return `change ${formatChange(m, m.estimate)}, 95% interval ${formatInterval(m)}, p (BH) ${formatP(m.pAdjusted)}, noise ±${formatChange({ change: m.change }, m.noise).slice(1)}`;
}

function testcase(classname: string, name: string, m: MetricComparison): string {
  const open = `    <testcase classname="${xmlEscape(classname)}" name="${xmlEscape(name)}"`;
  if (m.verdict === "regression") {
    const message = `regression: ${figures(m)}`;
    return `${open}>\n      <failure type="regression" message="${xmlEscape(message)}">${xmlEscape(message)}</failure>\n    </testcase>`;
  }
  if (m.verdict === "inconclusive") {
    const trials =
      m.trialsPerSide === null
        ? "no practical trial count would settle it"
        : `~${m.trialsPerSide} trials a side would settle it`;
    const message = `inconclusive: ${m.reason}; ${trials} (${figures(m)})`;
    return `${open}>\n      <skipped message="${xmlEscape(message)}"/>\n    </testcase>`;
  }
  return `${open}/>`;
}

/** A JUnit XML report of the comparison's judged metrics (reported-only metrics are left out). */
export function comparisonJunit(comparison: RunComparison): string {
  const cases: string[] = [];
  let failures = 0;
  let skipped = 0;
  for (const cell of comparison.cells) {
    for (const m of cell.metrics) {
      if (!m.judged) continue;
      if (m.verdict === "regression") failures++;
      if (m.verdict === "inconclusive") skipped++;
      cases.push(testcase(cell.group, `${cell.name}: ${METRICS[m.metric].label}`, m));
    }
  }
  const name = `vnetbench compare ${comparison.baseline.id} ${comparison.candidate.id}`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlEscape(name)}" tests="${cases.length}" failures="${failures}" skipped="${skipped}">`,
    `  <testsuite name="${xmlEscape(name)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}">`,
    ...cases,
    "  </testsuite>",
    "</testsuites>",
    "",
  ].join("\n");
}
