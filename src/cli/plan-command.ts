// `vnetbench plan matrix.yaml`: the expanded cells, trial count and estimated duration, without
// running anything (also `run matrix.yaml --dry-run`); `plan --schema` prints the file's JSON Schema.

import type { Command } from "commander";
import { flowsOf, ipOf } from "../domain/traffic.js";
import { InputError } from "../errors.js";
import type { MatrixPlan } from "../matrix/plan.js";
import { skippedLines } from "../plan/skipped.js";
import { DEFAULT_DB } from "../storage/location.js";

function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(s % 60).padStart(2, "0")}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** The plan as text: a line per cell, then totals and what is skipped. */
export function formatPlan(plan: MatrixPlan): string {
  const width = String(plan.cells.length).length;
  const lines = plan.cells.map((cell, i) => {
    const { setup, traffic, options } = cell;
    const sizes =
      traffic.requestSize === traffic.responseSize
        ? `${traffic.requestSize}`
        : `${traffic.requestSize}/${traffic.responseSize}`;
    return [
      String(i + 1).padStart(width),
      `${setup.network}${setup.direction === "bidirectional" ? " (bidi)" : ""}`,
      `cpu=${setup.cpu} guest=${setup.guest} hv=${setup.hypervisor}`,
      `${options.traffic}: ${traffic.driver} ${traffic.protocol} ${traffic.pattern} ${sizes}B rate=${traffic.rate} ${traffic.durationS}s+${traffic.warmupS}s${flowsOf(traffic) > 1 ? ` flows=${flowsOf(traffic)}` : ""}${ipOf(traffic) !== 4 ? ` ip=${ipOf(traffic)}` : ""}`,
    ].join("  ");
  });
  const seed = plan.order === "shuffled" ? ` (seed ${plan.seed ?? "picked at run time"})` : "";
  lines.push(
    "",
    `${plan.cells.length} cells × ${plan.trials} trials = ${plan.trialCount} trials, ${plan.order} order${seed}, about ${duration(plan.estimatedSeconds)}`,
  );
  for (const line of skippedLines(plan.skipped)) lines.push(line);
  if (plan.unprobed.length > 0)
    lines.push(`cpu options checked on the endpoints when the run starts: ${plan.unprobed.join(", ")}`);
  if (plan.power) lines.push(...plan.power.notes);
  return lines.join("\n");
}

export function printPlan(plan: MatrixPlan, json: boolean): void {
  process.stdout.write(json ? `${JSON.stringify(plan, null, 2)}\n` : `${formatPlan(plan)}\n`);
}

export function registerPlanCommand(program: Command): void {
  program
    .command("plan")
    .description("expand a matrix file into its cells, trial count and estimated duration; run nothing")
    .argument("[matrix]", "the matrix file (YAML)")
    .option(
      "--json",
      "print the plan as JSON: {cells: [...], trials, trialCount, estimatedSeconds, skipped, ...}",
    )
    .option("--trials <n>", "trials per cell instead of the matrix's")
    .option(
      "--db <path>",
      "results whose earlier runs of these cells give the noise for the power",
      DEFAULT_DB,
    )
    .option("--lab <name>", "plan for this lab instead of the matrix's endpoints")
    .option("--schema", "print the matrix file's JSON Schema instead")
    .action(async (file: string | undefined, options) => {
      if (options.schema) {
        const { matrixJsonSchema } = await import("../matrix/schema.js");
        process.stdout.write(`${JSON.stringify(matrixJsonSchema(), null, 2)}\n`);
        return;
      }
      if (file === undefined) throw new InputError("plan: expected a matrix file (or --schema)");
      const { planMatrixFile } = await import("../api.js");
      printPlan(
        await planMatrixFile(file, { lab: options.lab, trials: options.trials, db: options.db }),
        options.json === true,
      );
    });
}
