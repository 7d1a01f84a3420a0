// The CPU monitor: samples an endpoint's /proc for exactly the window between start and stop,
// and turns the readings into a CpuReport. All reads go through the Endpoint, so it works remotely too.

import { effectiveClock, parseCpuinfoMhz } from "../analysis/cpu-hosts.js";
import type { Endpoint } from "../endpoints/endpoint.js";
import type { LongRunning } from "../util/process.js";
import { interruptDeltas, softirqDeltas } from "./counter-delta.js";
import type { CpuReport } from "./cpu-report.js";
import { hostCpuFromSamples, type StatSample } from "./host-cpu.js";
import { parsePerfStat, summarizePerf } from "./perf-stat.js";
import { type InterruptLine, type PerCpuCounts, parseInterrupts, parseSoftirqs } from "./proc-interrupts.js";
import { type CpuTicks, parseProcStat } from "./proc-stat.js";
import { listTasks, type ProcessSelector, resolvePids } from "./processes.js";
import { TaskLedger } from "./task-ledger.js";
import { parseSchedstat, parseTaskStat } from "./task-stat.js";
import { buildTimeline, downsampleTimeline } from "./timeline.js";

export type { ProcessSelector } from "./processes.js";

export interface CpuMonitorOptions {
  /** Sampling interval; default 100 ms. The totals do not depend on it, the timeline and exited threads do. */
  intervalMs?: number;
  /** Processes whose threads are attributed (qemu, vhost workers, ...). */
  processes?: ProcessSelector[];
  /** The traffic generator's processes on this endpoint, reported apart as generatorSeconds. */
  generatorPids?: number[];
  /** Count cycles and instructions with `perf stat -a` on the endpoint. */
  perf?: boolean;
  /** Steal above this fraction of the window's capacity flags the trial; default 0.01. */
  stealThreshold?: number;
  /** Default 300: longer windows have their timeline merged into this many points. */
  maxTimelinePoints?: number;
  /** USER_HZ, the unit of /proc/stat; 100 on every mainstream Linux architecture. */
  userHz?: number;
}

export interface CpuMonitor {
  /** Takes the last reading now, stops sampling and returns the report of the window. */
  stop(): Promise<CpuReport>;
}

const GENERATOR = "generator";
const PERF_INTERVAL_MS = 100;

/** Reads the endpoint's current state once, opening the window, then samples until stop(). */
export async function startCpuMonitor(
  endpoint: Endpoint,
  options: CpuMonitorOptions = {},
): Promise<CpuMonitor> {
  const intervalMs = options.intervalMs ?? 100;
  if (!(intervalMs >= 10))
    throw new RangeError(`intervalMs must be at least 10 ms, got ${options.intervalMs}`);
  const userHz = options.userHz ?? 100;
  const selectors = options.processes ?? [];
  const groups = [...selectors];
  if (options.generatorPids?.length)
    groups.push({ name: GENERATOR, pids: options.generatorPids, withChildren: true });
  if (new Set(groups.map((g) => g.name)).size !== groups.length) {
    throw new Error(
      `process selections need distinct names ("${GENERATOR}" is reserved): got ${groups.map((g) => g.name).join(", ")}`,
    );
  }

  const ledger = new TaskLedger();
  const warnings: string[] = [];
  const known = await discoverTasks(endpoint, groups, ledger);
  const perf = options.perf ? startPerf(endpoint) : null;

  const clock = () => Number(process.hrtime.bigint()) / 1e9;
  let t0 = 0;
  const samples: StatSample[] = [];
  const attributed: Array<Record<string, number>> = [];

  // One reading: /proc/stat (timestamped at the middle of the read) and every followed thread.
  const readStat = async (): Promise<StatSample> => {
    const before = clock();
    const text = await endpoint.readFile("/proc/stat");
    return { t: (before + clock()) / 2 - t0, stat: parseProcStat(text) };
  };
  const sample = async (aligned = false): Promise<void> => {
    const [stat] = await Promise.all([
      aligned ? alignedStat(readStat) : readStat(),
      readTasks(endpoint, ledger),
    ]);
    samples.push(stat);
  };

  const counters = () =>
    Promise.all([endpoint.readFile("/proc/interrupts"), endpoint.readFile("/proc/softirqs")]).then(
      ([i, s]) => [parseInterrupts(i), parseSoftirqs(s)] as const,
    );

  // The clock as the kernel reports it (`cpu MHz`), at both ends and, where perf is not counting
  // cycles (a VM, a locked-down host), about once a second: each read is work on the measured host.
  const mhzReadings: number[] = [];
  const readMhz = async () => {
    const mhz = parseCpuinfoMhz(await endpoint.readFile("/proc/cpuinfo").catch(() => ""));
    if (mhz !== null) mhzReadings.push(mhz);
  };
  const mhzEvery = options.perf ? 0 : Math.max(1, Math.round(1000 / intervalMs));

  // The window opens here: baseline of every counter, then the first stat reading defines t = 0.
  const [startCounters] = await Promise.all([counters(), readMhz()]);
  for (const task of known) ledger.add(task.identity, task.runNs, false);
  t0 = clock();
  await sample(true);
  const shift = samples[0]!.t;
  t0 += shift;
  samples[0]!.t = 0;
  for (const [cpu, t] of samples[0]!.cpuTimes!) samples[0]!.cpuTimes!.set(cpu, t - shift);
  ledger.openWindow();

  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  let stopped = false;
  let ticks = 0;
  const tick = () => {
    inFlight = Promise.all([sample(), mhzEvery > 0 && ++ticks % mhzEvery === 0 ? readMhz() : null])
      .then(() => {
        attributed.push(ledger.takeInterval());
      })
      .catch((error: Error) => {
        warnings.push(`a sample failed and was skipped: ${error.message}`);
      })
      .finally(() => {
        if (!stopped) schedule();
      });
  };
  // Aligned to t0 so the rate stays at 1/interval even when reads take time.
  const schedule = () => {
    const elapsedMs = (clock() - t0) * 1e3;
    const delay = intervalMs - (elapsedMs % intervalMs);
    timer = setTimeout(tick, delay);
    timer.unref();
  };
  schedule();

  return {
    async stop(): Promise<CpuReport> {
      if (stopped) throw new Error("this CPU monitor was already stopped");
      stopped = true;
      clearTimeout(timer);
      await inFlight;
      await sample(true);
      const [endCounters] = await Promise.all([counters(), readMhz()]);
      // Threads and matching processes that appeared during the window: their whole run time counts.
      await discoverTasks(endpoint, groups, ledger, true);
      attributed.push(ledger.takeInterval());
      const perfText = perf ? await stopPerf(perf) : null;
      return buildReport({
        endpoint: endpoint.name,
        samples,
        attributed,
        userHz,
        ledger,
        groups: selectors.map((s) => s.name),
        hasGenerator: groups.some((g) => g.name === GENERATOR),
        start: startCounters,
        end: endCounters,
        perfText,
        mhzReadings,
        warnings,
        stealThreshold: options.stealThreshold ?? 0.01,
        maxTimelinePoints: options.maxTimelinePoints ?? 300,
      });
    },
  };
}

const ALIGN_POLL_MS = 1;
const ALIGN_MAX_MS = 25;

/**
 * /proc/stat counts idle in whole ticks (10 ms), so one reading can be up to a tick off per CPU: on
 * short windows that is several percent. Reading again every millisecond until each CPU's idle counter
 * steps gives the moment it held an exact tick count, to about ±0.5 ms. A CPU busy throughout (its idle
 * does not move) keeps the last reading. Sleeping between reads lets the monitor's own CPU go idle too.
 */
async function alignedStat(readStat: () => Promise<StatSample>): Promise<StatSample> {
  const first = await readStat();
  const cpus = new Map<number, CpuTicks>();
  const cpuTimes = new Map<number, number>();
  let previous = first;
  while (cpus.size < first.stat.cpus.size && previous.t - first.t < ALIGN_MAX_MS / 1e3) {
    await new Promise((resolve) => setTimeout(resolve, ALIGN_POLL_MS));
    const next = await readStat();
    for (const [cpu, ticks] of next.stat.cpus) {
      const before = previous.stat.cpus.get(cpu);
      if (cpus.has(cpu) || !before || ticks.idle <= before.idle) continue;
      cpus.set(cpu, ticks);
      cpuTimes.set(cpu, (previous.t + next.t) / 2);
    }
    previous = next;
  }
  for (const [cpu, ticks] of previous.stat.cpus) {
    if (cpus.has(cpu)) continue;
    cpus.set(cpu, ticks);
    cpuTimes.set(cpu, previous.t);
  }
  return { t: first.t, stat: { cpus, total: previous.stat.total }, cpuTimes };
}

interface DiscoveredTask {
  identity: { group: string; pid: number; tid: number; name: string };
  runNs: number;
}

/**
 * Lists the threads of every selection and reads their name and run time. With `started`, only threads
 * not yet followed are added, as threads that began inside the window.
 */
async function discoverTasks(
  endpoint: Endpoint,
  groups: ProcessSelector[],
  ledger: TaskLedger,
  started = false,
): Promise<DiscoveredTask[]> {
  const found: DiscoveredTask[] = [];
  for (const group of groups) {
    const pids = await resolvePids(endpoint, group);
    const tasks = await listTasks(endpoint, pids);
    const read = await Promise.all(
      tasks
        .filter(({ tid }) => !ledger.has(group.name, tid))
        .map(async ({ pid, tid }) => {
          try {
            const dir = `/proc/${pid}/task/${tid}`;
            const [stat, schedstat] = await Promise.all([
              endpoint.readFile(`${dir}/stat`),
              endpoint.readFile(`${dir}/schedstat`),
            ]);
            const identity = { group: group.name, pid, tid, name: parseTaskStat(stat).name };
            return { identity, runNs: parseSchedstat(schedstat).runNs };
          } catch {
            return null; // exited between the listing and the read
          }
        }),
    );
    for (const task of read) if (task) found.push(task);
  }
  if (started) for (const task of found) ledger.add(task.identity, task.runNs, true);
  return found;
}

async function readTasks(endpoint: Endpoint, ledger: TaskLedger): Promise<void> {
  const live = ledger.live();
  const paths = live.map(({ pid, tid }) => `/proc/${pid}/task/${tid}/schedstat`);
  const texts = endpoint.readFiles
    ? await endpoint.readFiles(paths)
    : await Promise.all(paths.map((path) => endpoint.readFile(path).catch(() => null)));
  live.forEach(({ group, tid }, i) => {
    try {
      ledger.update(group, tid, parseSchedstat(texts[i] ?? "").runNs);
    } catch {
      ledger.markExited(group, tid); // exited between the listing and the read
    }
  });
}

interface PerfRun {
  child: LongRunning;
  output: string[];
}

// Interval mode (-I) because the endpoint can only stop a process with SIGTERM, which makes a plain
// `perf stat` die without printing: the intervals printed so far survive, and are scaled to the window.
function startPerf(endpoint: Endpoint): PerfRun {
  const argv = [
    "perf",
    "stat",
    "-a",
    "-x,",
    "-I",
    String(PERF_INTERVAL_MS),
    "-e",
    "cycles,instructions,task-clock",
  ];
  const child = endpoint.start(argv);
  const output: string[] = [];
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => output.push(chunk));
  child.stdout.resume();
  return { child, output };
}

async function stopPerf(perf: PerfRun): Promise<string> {
  await perf.child.stop();
  return perf.output.join("");
}

interface ReportInput {
  endpoint: string;
  samples: StatSample[];
  attributed: Array<Record<string, number>>;
  userHz: number;
  ledger: TaskLedger;
  groups: string[];
  hasGenerator: boolean;
  start: readonly [InterruptLine[], Map<string, PerCpuCounts>];
  end: readonly [InterruptLine[], Map<string, PerCpuCounts>];
  perfText: string | null;
  /** Mean `cpu MHz` of /proc/cpuinfo, per reading. */
  mhzReadings: number[];
  warnings: string[];
  stealThreshold: number;
  maxTimelinePoints: number;
}

/** Pure: the report from everything read during the window. */
export function buildReport(input: ReportInput): CpuReport {
  const warnings = [...input.warnings];
  const host = hostCpuFromSamples(input.samples, input.userHz);
  warnings.push(...host.warnings, ...input.ledger.warnings);
  const interrupts = interruptDeltas(input.start[0], input.end[0], warnings);
  const softirqs = softirqDeltas(input.start[1], input.end[1], warnings);
  const generator = input.hasGenerator ? input.ledger.process(GENERATOR) : null;
  const stealFraction = host.capacitySeconds > 0 ? host.stealSeconds / host.capacitySeconds : 0;
  const steal = {
    seconds: host.stealSeconds,
    fraction: stealFraction,
    threshold: input.stealThreshold,
    flagged: stealFraction > input.stealThreshold,
  };
  const perf = perfCounts(input.perfText, host.wallSeconds);
  const timeline = buildTimeline(host.intervals, input.attributed, GENERATOR);
  return {
    endpoint: input.endpoint,
    wallSeconds: host.wallSeconds,
    onlineCpus: host.onlineCpus,
    hostSeconds: host.hostSeconds,
    perWallSecond: host.wallSeconds > 0 ? host.hostSeconds / host.wallSeconds : 0,
    idleSeconds: host.idleSeconds,
    iowaitSeconds: host.iowaitSeconds,
    byCategory: host.byCategory,
    perCpu: host.perCpu,
    steal,
    stealFlagged: steal.flagged,
    interrupts,
    softirqs,
    processes: input.groups.map((g) => input.ledger.process(g)),
    generator,
    generatorSeconds: generator?.seconds ?? 0,
    cycles: perf.cycles,
    instructions: perf.instructions,
    taskClockSeconds: perf.taskClockSeconds,
    ...effectiveClock(perf.cycles, host.hostSeconds, input.mhzReadings),
    perfNote: perf.note,
    timeline: downsampleTimeline(timeline, input.maxTimelinePoints),
    warnings,
  };
}

function perfCounts(text: string | null, wallSeconds: number) {
  if (text === null) {
    return { cycles: null, instructions: null, taskClockSeconds: null, note: "perf not requested" };
  }
  const rows = parsePerfStat(text, "interval");
  if (rows.length === 0) {
    // Nothing printed: perf missing, not permitted, or a window shorter than perf's first interval.
    const why =
      text.trim().split("\n").slice(-2).join(" | ") || "no output (is perf installed on the endpoint?)";
    return {
      cycles: null,
      instructions: null,
      taskClockSeconds: null,
      note: `perf stat gave no counts: ${why}`,
    };
  }
  return summarizePerf(rows, wallSeconds);
}
