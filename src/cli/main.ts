#!/usr/bin/env node
// The vnetbench command line: parse options, call the API, print. Nothing else lives here.

import { Command, CommanderError, Option } from "commander";
import { ExitCode, InputError, InterruptedError, RunError } from "../errors.js";
import { formatRun, formatRuns } from "../report/show.js";
import { vnetbenchVersion } from "../run/metadata.js";
import { DEFAULT_DB } from "../storage/location.js";
import { registerCompareCommands } from "./compare-commands.js";
import { registerDoctorCommand } from "./doctor-command.js";
import { registerImageCommand } from "./image-command.js";
import { registerLabCommands } from "./lab-commands.js";
import { registerPeakCommand } from "./peak-command.js";
import { printPlan, registerPlanCommand } from "./plan-command.js";
import { progressReporter } from "./progress.js";

// Each command loads what it needs when it runs (a run's labs, drivers and matrix parser; the
// agent's engine): a command that reads stored results, or the agent in a guest, starts fast.

// A reader that closed the pipe (`| head`) has what it wanted: stop quietly, no stack trace.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(process.exitCode ?? 0);
});

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function withInterrupt(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return controller.signal;
}

const program = new Command("vnetbench")
  .description("Performance acceptance criteria for hypervisor networking changes")
  .version(vnetbenchVersion())
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride();

const dbOption = () => new Option("--db <path>", "SQLite file holding the results").default(DEFAULT_DB);

program
  .command("run")
  .description(
    "run a matrix of traffic tests (a matrix file, flags, or the quick matrix) and store every trial",
  )
  .argument("[matrix]", "a matrix file (YAML): its categories, trials, order and acceptance")
  .option("--dry-run", "print the matrix file's plan (cells, trials, estimated time) and run nothing")
  .option("--quick", "the quick default matrix (under a minute)")
  .option("--protocol <list>", "tcp,udp,icmp")
  .option("--pattern <list>", "rr,crr,stream,maerts,paced,flood")
  .option("--size <list>", "message sizes in bytes (request and response), e.g. 64,1400,16k")
  .option("--response-size <list>", "response sizes in bytes, when different from --size")
  .option("--rate <list>", "offered load in messages/s for paced traffic, or max")
  .option("--duration <seconds>", "measured seconds per trial")
  .option("--warmup <seconds>", "warm-up seconds before each measured window")
  .option(
    "--trials <n>",
    "trials (repetitions) per cell; with --baseline, auto grows each cell until its intervals are narrower than the noise threshold",
  )
  .option(
    "--baseline <run>",
    "the baseline this candidate is judged against: cells whose verdict is settled stop, open ones get more trials; exit 1 on a regression",
  )
  .option(
    "--max-trials <n>",
    "with --baseline: the most trials a cell gets (default twice the initial trials)",
  )
  .option(
    "--driver <list>",
    "traffic generator: builtin (default), sockperf, iperf3, ping, netperf, or auto (paced traffic through sockperf where installed)",
  )
  .option(
    "--setup <list>",
    "network setups: loopback, host-to-guest, guest-to-host, ext-to-guest, ext-to-host, host-to-ext, guest-to-guest, guest-to-guest-remote",
  )
  .option("--lab <name>", "run on this lab (from 'vnetbench lab up') instead of one brought up for the run")
  .option("--endpoints <file>", "run between the machines an endpoints file (YAML) describes")
  .option("--guests <kind>", "the lab's guests: netns (namespaces) or qemu (virtual machines on taps)")
  .option("--direction <list>", "one-way,bidirectional")
  .option("--flows <list>", "parallel flows per cell (iperf3 -P), e.g. 1,4: per-flow and total figures")
  .option("--ip <list>", "IP versions: 4 (default), 6, or 4,6 (every setup over both)")
  .option("--resume <run>", "continue an interrupted run from its first unfinished trial")
  .option("--tester <name>", "who ran it (default: the user name)")
  .option("--label <text>", "a label for the run, e.g. baseline or candidate")
  .option("--json", "print the run as JSON on stdout")
  .option("--keep-going", "record a failed trial with its reason and go on (the default)")
  .option("--fail-fast", "stop the run at the first failed trial")
  .option(
    "--max-time <duration>",
    "end the run within this long (90s, 10m, 2h): no trial starts that would end later; the run is stored cut short (exit 5), --resume continues it",
  )
  .option(
    "--max-other-load <percent>",
    "flag (leave out of the statistics) a trial in which processes other than the run's used more than this share of the host's CPU, e.g. 20% (default: measured, warned about above 25 %, not flagged)",
  )
  .addOption(dbOption())
  .action(async (matrix: string | undefined, options) => {
    const { planMatrixFile, resumeBenchmark, resumeConflicts, runBenchmark } = await import("../api.js");
    const { adaptiveExitCode } = await import("../run/adaptive-run.js");
    if (options.keepGoing && options.failFast)
      throw new InputError("--keep-going and --fail-fast contradict each other: give one");
    if (options.dryRun) {
      if (matrix === undefined) throw new InputError("--dry-run: expected a matrix file to plan");
      printPlan(
        await planMatrixFile(matrix, { lab: options.lab, trials: options.trials, db: options.db }),
        options.json === true,
      );
      return;
    }
    if (options.resume) resumeConflicts({ ...options, matrix });
    const onEvent = progressReporter(process.stderr);
    const signal = withInterrupt();
    const view = options.resume
      ? await resumeBenchmark(options.resume, {
          db: options.db,
          onEvent,
          signal,
          failFast: options.failFast,
          maxTime: options.maxTime,
          maxOtherLoad: options.maxOtherLoad,
        })
      : await runBenchmark({ ...options, matrix, onEvent, signal, command: process.argv.slice(2) });
    if (options.json) printJson(view);
    else process.stdout.write(`${formatRun(view)}\n`);
    process.exitCode = adaptiveExitCode(view.metadata);
    if (view.status === "cut-short") {
      process.stderr.write(
        `vnetbench: cut short by --max-time — resume with \`vnetbench run --resume ${view.id}\`\n`,
      );
      // A regression found before the cap still fails the gate as one.
      if (process.exitCode === 0) process.exitCode = ExitCode.cutShort;
    }
  });

program
  .command("agent")
  .description("serve the built-in engine's traffic on this endpoint")
  .option("--listen <address>", "address to listen on", "127.0.0.1")
  .option("--port <port>", "control port (0 picks a free one and prints it)", "0")
  .option(
    "--token-file <path>",
    "file with the shared secret clients must prove (default: a new one, printed)",
  )
  .option("--stdio", "also take control requests on stdin, and exit when it closes (set by launchers)")
  .action(async (options) => {
    const port = Number(options.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new InputError(`--port: '${options.port}' is not a port number (0-65535)`);
    }
    const { serveAgent } = await import("../drivers/builtin/serve.js");
    await serveAgent(
      { listen: options.listen, port, tokenFile: options.tokenFile, stdio: options.stdio },
      (line) => process.stdout.write(`${line}\n`),
    ).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE")
        throw new InputError(`--port ${port}: address ${options.listen}:${port} is in use`);
      if (error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND")
        throw new InputError(`--listen: ${options.listen} is not an address of this host`);
      throw error;
    });
  });

program
  .command("runs")
  .description("list stored runs")
  .option("--json", "print as JSON")
  .addOption(dbOption())
  .action(async (options) => {
    const { listRuns } = await import("../views.js");
    const runs = listRuns(options.db);
    if (options.json) printJson(runs);
    else process.stdout.write(`${formatRuns(runs)}\n`);
  });

program
  .command("show")
  .description("show a stored run: a row per cell")
  .argument("<run>", "run id, unique prefix, or latest")
  .option("--json", "print as JSON")
  .addOption(dbOption())
  .action(async (reference, options) => {
    const { showRun } = await import("../views.js");
    const json = options.json === true;
    const view = showRun(reference, options.db, { histograms: json, trials: json });
    if (options.json) printJson(view);
    else process.stdout.write(`${formatRun(view)}\n`);
  });

registerCompareCommands(program);

registerPlanCommand(program);

registerLabCommands(program);
registerImageCommand(program);
registerDoctorCommand(program);

registerPeakCommand(program);

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
  if (error instanceof InputError) return ExitCode.badInput;
  if (error instanceof InterruptedError) return ExitCode.interrupted;
  return ExitCode.runFailed;
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const code = exitCodeFor(error);
  if (!(error instanceof CommanderError)) {
    const kind =
      error instanceof InputError
        ? "bad input: "
        : error instanceof InterruptedError
          ? ""
          : error instanceof RunError
            ? "run failed: "
            : "error: ";
    process.stderr.write(`vnetbench: ${kind}${(error as Error).message}\n`);
  }
  process.exitCode = code;
}
