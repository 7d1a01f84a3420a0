// `vnetbench peak`: one cell's peak throughput and latency–load curve.

import { type Command, Option } from "commander";
import type { CurvePoint } from "../analysis/peak-search.js";
import type { PeakSummary } from "../analysis/peak-summary.js";
import { DRIVERS } from "../domain/traffic.js";
import { formatRun } from "../report/show.js";
import { fmt, formatTable, percent } from "../report/table.js";
import { DEFAULT_DB } from "../storage/location.js";

function verdictOf(point: CurvePoint): string {
  return point.verdict === "good" ? "good" : `${point.verdict} (${point.failed.join(", ")})`;
}

/** One stderr line per trial as the search goes. */
function progressLine(point: CurvePoint): string {
  return `${point.phase.padEnd(8)} ${fmt(point.offeredMessagesPerSecond).padStart(9)} msg/s  p99 ${fmt(point.latencyUs?.p99)} µs  loss ${percent(point.lossRatio)}  ${verdictOf(point)}\n`;
}

/** The latency–load curve, a row per trial in the order measured. */
export function formatCurve(peak: PeakSummary): string {
  return formatTable(
    [
      "phase",
      "offered msg/s",
      "delivered msg/s",
      "p50 µs",
      "p99 µs",
      "loss",
      "lateness p99 µs",
      "CPU s/s",
      "µs/tr",
      "verdict",
    ],
    peak.curve.map((point) => [
      point.phase,
      fmt(point.offeredMessagesPerSecond),
      fmt(point.messagesPerSecond),
      fmt(point.latencyUs?.p50),
      fmt(point.latencyUs?.p99),
      percent(point.lossRatio),
      fmt(point.latenessP99Us),
      fmt(point.cpu?.perWallSecond),
      fmt(point.serviceDemand?.usPerTransaction),
      verdictOf(point),
    ]),
  );
}

export function registerPeakCommand(program: Command): void {
  program
    .command("peak")
    .description(
      "search one cell's peak throughput: the highest offered load the path keeps up with, and its latency–load curve",
    )
    .option("--setup <name>", "the network setup (default loopback)")
    .option("--protocol <protocol>", "tcp or udp")
    .option("--size <bytes>", "message size in bytes (request and response), e.g. 64, 1400, 16k")
    .option("--response-size <bytes>", "response size in bytes, when different from --size")
    .option("--driver <name>", `traffic generator: ${DRIVERS.join(", ")} (default builtin)`)
    .option("--direction <direction>", "one-way or bidirectional")
    .option(
      "--duration <seconds>",
      "measured seconds of the unloaded and confirmation trials (search trials are 1 s)",
    )
    .option("--warmup <seconds>", "warm-up seconds of the unloaded and confirmation trials")
    .option("--precision <ratio>", "relative precision of the search, e.g. 2% (default) or 0.02")
    .option(
      "--loss-goal <ratio>",
      "largest loss still good: no-drop (0, default), partial-drop (0.5%), or a ratio",
    )
    .option("--latency-factor <k>", "p99 may grow to k × the unloaded p99 (default 4)")
    .option("--start-rate <rate>", "first offered rate of the sweep, messages/s (default 1000)")
    .option(
      "--retries <n>",
      "a rate's verdict is the majority of up to 1 + 2 × n trials (default 1: best two of three)",
    )
    .option(
      "--lab <name>",
      "search on this lab (from 'vnetbench lab up') instead of one brought up for the search",
    )
    .option("--endpoints <file>", "search between the machines an endpoints file (YAML) describes")
    .option("--tester <name>", "who ran it (default: the user name)")
    .option("--label <text>", "a label for the run, e.g. baseline or candidate")
    .option("--json", "print the run as JSON on stdout")
    .addOption(new Option("--db <path>", "SQLite file holding the results").default(DEFAULT_DB))
    .action(async (options) => {
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      const { peakSearch } = await import("../api.js");
      const view = await peakSearch({
        ...options,
        command: process.argv.slice(2),
        onPoint: (point) => process.stderr.write(progressLine(point)),
        signal: controller.signal,
      });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
        return;
      }
      const peak = view.cells[0]?.summary.peak;
      process.stdout.write(`${formatRun(view)}\n${peak ? `\n${formatCurve(peak)}\n` : ""}`);
    });
}
