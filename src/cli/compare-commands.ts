// The `compare`, `report` and `export` commands: parse options, call the API, print.

import { writeFileSync } from "node:fs";
import { type Command, Option } from "commander";
import type { RunReference } from "../compare/select.js";
import { InputError } from "../errors.js";
import { EXPORT_FORMATS, type ExportFormat } from "../report/export.js";
import { DEFAULT_DB } from "../storage/location.js";

const dbOption = () => new Option("--db <path>", "SQLite file holding the results").default(DEFAULT_DB);

/** A ratio flag: `0.02` or `2%`, within [0, max). */
export function parseRatio(flag: string, value: string, max: number): number {
  const text = value.trim();
  const ratio = text.endsWith("%") ? Number(text.slice(0, -1)) / 100 : Number(text);
  if (text === "" || !Number.isFinite(ratio) || ratio < 0 || ratio >= max) {
    throw new InputError(`${flag}: '${value}' is not a ratio in [0, ${max}) (e.g. 0.02 or 2%)`);
  }
  return ratio;
}

interface ThresholdFlags {
  noise?: string;
  alpha?: string;
  allowMismatch?: boolean;
}

// Flags not given leave the thresholds to the runs' stored `acceptance` (then the defaults).
function comparisonOptions(options: ThresholdFlags) {
  return {
    allowMismatch: options.allowMismatch ?? false,
    thresholds: {
      ...(options.noise !== undefined ? { noise: parseRatio("--noise", options.noise, 1) } : {}),
      ...(options.alpha !== undefined ? { alpha: parseRatio("--alpha", options.alpha, 1) } : {}),
    },
  };
}

function addThresholdOptions(command: Command): Command {
  return command
    .option(
      "--noise <ratio>",
      "relative change that counts as noise, e.g. 0.02 or 2% (default: the matrix's acceptance, else 0.02)",
    )
    .option(
      "--alpha <p>",
      "false-discovery rate of the judged metrics, Benjamini–Hochberg (default: the matrix's acceptance, else 0.05)",
    )
    .option("--allow-mismatch", "compare runs whose machine fingerprints differ (the differences are shown)");
}

/** The two sides: positional references, or `--label BASE CAND`. */
export function comparedRuns(
  base: string | undefined,
  cand: string | undefined,
  labels: string[] | undefined,
): [RunReference, RunReference] {
  if (labels !== undefined) {
    if (base !== undefined || cand !== undefined)
      throw new InputError("give either two runs or --label BASE_LABEL CAND_LABEL, not both");
    if (labels.length !== 2)
      throw new InputError(`--label: expected two labels (baseline, candidate), got ${labels.length}`);
    return [{ label: labels[0]! }, { label: labels[1]! }];
  }
  if (base === undefined || cand === undefined)
    throw new InputError(
      "compare: expected two runs (id, unique prefix or latest), or --label BASE_LABEL CAND_LABEL",
    );
  return [base, cand];
}

function writeOutput(path: string, text: string, flag = "--output"): void {
  try {
    writeFileSync(path, text);
  } catch (error) {
    throw new InputError(`${flag}: cannot write ${path}: ${(error as Error).message}`);
  }
}

function warn(messages: string[]): void {
  for (const message of messages) process.stderr.write(`warning: ${message}\n`);
}

export function registerCompareCommands(program: Command): void {
  addThresholdOptions(
    program
      .command("compare")
      .description(
        "compare a candidate run with a baseline, cell by cell; exit code 1 on any regression, 2 on bad input, " +
          "4 when inconclusive under --strict",
      )
      .argument("[base]", "baseline run: id, unique prefix, or latest")
      .argument("[cand]", "candidate run: id, unique prefix, or latest")
      .option(
        "--label <labels...>",
        "name both runs by label instead: --label BASE_LABEL CAND_LABEL (the latest run with each)",
      )
      .option("--json", "print the comparison as JSON")
      .option("--markdown", "print Markdown for a pull request or a mailing-list post")
      .option("--junit <file>", "also write JUnit XML: a testcase per cell and judged metric")
      .option(
        "--strict",
        "exit 4 when a judged metric is inconclusive and nothing regressed (as acceptance.inconclusive: fail)",
      ),
  )
    .addOption(dbOption())
    .action(async (base: string | undefined, cand: string | undefined, options) => {
      const { compareRuns } = await import("../views.js");
      const { formatComparison } = await import("../compare/report.js");
      const { comparisonExitCode } = await import("../compare/runs.js");
      const { comparisonJunit } = await import("../report/junit.js");
      const { comparisonMarkdown } = await import("../report/markdown.js");
      if (options.json && options.markdown) throw new InputError("choose one of --json and --markdown");
      const [baseline, candidate] = comparedRuns(base, cand, options.label);
      const comparison = compareRuns(baseline, candidate, { db: options.db, ...comparisonOptions(options) });
      warn(comparison.warnings);
      if (options.junit) writeOutput(options.junit, comparisonJunit(comparison), "--junit");
      if (options.json) process.stdout.write(`${JSON.stringify(comparison, null, 2)}\n`);
      else if (options.markdown) process.stdout.write(comparisonMarkdown(comparison));
      else process.stdout.write(`${formatComparison(comparison)}\n`);
      process.exitCode = comparisonExitCode(comparison, options.strict === true);
    });

  addThresholdOptions(
    program
      .command("report")
      .description(
        "write a self-contained HTML report of a run (plots included), optionally compared with a baseline",
      )
      .argument("<run>", "run id, unique prefix, or latest")
      .option("--vs <base>", "baseline run to compare with: id, unique prefix, or latest")
      .option("-o, --output <file>", "HTML file to write", "report.html"),
  )
    .addOption(dbOption())
    .action(async (reference: string, options) => {
      const { reportRun } = await import("../views.js");
      const html = await reportRun(reference, {
        db: options.db,
        vs: options.vs,
        ...comparisonOptions(options),
      });
      writeOutput(options.output, html);
      process.stderr.write(`wrote ${options.output}\n`);
    });

  program
    .command("export")
    .description("export a run: csv (a row per trial and direction) or json (the run's JSON view)")
    .argument("<run>", "run id, unique prefix, or latest")
    .addOption(new Option("--format <format>", "csv or json").choices(EXPORT_FORMATS).makeOptionMandatory())
    .option("-o, --output <file>", "file to write (default: standard output)")
    .addOption(dbOption())
    .action(async (reference: string, options) => {
      const { exportRun } = await import("../views.js");
      const text = exportRun(reference, options.format as ExportFormat, options.db);
      if (options.output) writeOutput(options.output, text);
      else process.stdout.write(text);
    });
}
