// The CPU monitor's accuracy figures, which only a quiet machine shows (the integration test keeps
// the bounds that hold on a busy one): a burner that counts its own CPU exactly (getrusage) runs a
// steady loop and bursty duty cycles under the monitor; the machine's background, measured just
// before and after each burn with nothing of ours running, is the reference subtracted from the
// host-level figure. /proc/stat's tick-sampled busy columns over the same burn are shown beside it:
// what the monitor's idle-based host CPU corrects. Medians of the repeats; the background column
// says how quiet the machine was (more than ~0.25 CPUs: the host-level figures are not to be trusted).
//
//   node --import tsx bench/cpu-accuracy.ts [repeats, default 3] [burn ms, default 2000]

import { LocalEndpoint } from "../src/endpoints/local.js";
import { startCpuMonitor } from "../src/monitors/cpu-monitor.js";
import { type CpuTicks, parseProcStat } from "../src/monitors/proc-stat.js";
import { formatTable } from "../src/report/table.js";
import { BURN_CASES, monitoredBurn, pct } from "../test/helpers/burn.js";

const repeats = Number(process.argv[2] ?? 3);
const burnMs = Number(process.argv[3] ?? 2000);
const BACKGROUND_MS = 500;
const USER_HZ = 100;
const local = new LocalEndpoint();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Host CPU-seconds per wall-second with nothing of ours running. */
async function backgroundRate(): Promise<number> {
  const monitor = await startCpuMonitor(local);
  await sleep(BACKGROUND_MS);
  const report = await monitor.stop();
  return report.hostSeconds / report.wallSeconds;
}

const busyTicks = (t: CpuTicks) => t.user + t.nice + t.system + t.irq + t.softirq + t.steal;
const statBusy = async () => busyTicks(parseProcStat(await local.readFile("/proc/stat")).total);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const rows: string[][] = [];
for (const c of BURN_CASES) {
  const figures = {
    attributed: [] as number[],
    raw: [] as number[],
    host: [] as number[],
    ticks: [] as number[],
  };
  const backgrounds: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const before = await backgroundRate();
    const ticksBefore = await statBusy();
    const { burn, report, attributedSeconds } = await monitoredBurn(local, c, burnMs);
    const ticks = ((await statBusy()) - ticksBefore) / USER_HZ;
    const after = await backgroundRate();
    const background = (before + after) / 2;
    backgrounds.push(background);
    const burnt = burn.cpuSeconds;
    figures.attributed.push(attributedSeconds / burnt - 1);
    figures.raw.push(report.hostSeconds / burnt - 1);
    figures.host.push((report.hostSeconds - background * report.wallSeconds) / burnt - 1);
    figures.ticks.push((ticks - background * report.wallSeconds) / burnt - 1);
    process.stderr.write(
      `${c.name} #${i + 1}: burnt ${burnt.toFixed(4)} s, attributed ${pct(figures.attributed.at(-1)!)}, ` +
        `host ${pct(figures.host.at(-1)!)} (raw ${pct(figures.raw.at(-1)!)}), ticks ${pct(figures.ticks.at(-1)!)}, ` +
        `background ${before.toFixed(3)}/${after.toFixed(3)} CPUs\n`,
    );
  }
  rows.push([
    c.name,
    pct(median(figures.attributed)),
    pct(median(figures.host)),
    pct(median(figures.raw)),
    pct(median(figures.ticks)),
    median(backgrounds).toFixed(3),
  ]);
}

process.stdout.write(
  `${formatTable(
    [
      "burn",
      "attributed (schedstat)",
      "host − background",
      "host raw",
      "/proc/stat ticks − background",
      "background CPUs",
    ],
    rows,
    [0],
  )}\n`,
);
