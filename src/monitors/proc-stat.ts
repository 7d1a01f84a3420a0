// Parser for /proc/stat: cumulative per-CPU time in USER_HZ ticks.

/** One `cpuN` line of /proc/stat, in ticks (USER_HZ). guest and guestNice are already inside user and nice. */
export interface CpuTicks {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
  guest: number;
  guestNice: number;
}

export interface ProcStat {
  /** Per online CPU, keyed by CPU number; offline CPUs are absent from /proc/stat. */
  cpus: Map<number, CpuTicks>;
  /** The aggregate `cpu` line. */
  total: CpuTicks;
}

const FIELDS = [
  "user",
  "nice",
  "system",
  "idle",
  "iowait",
  "irq",
  "softirq",
  "steal",
  "guest",
  "guestNice",
] as const;

function parseCpuLine(fields: string[], line: string): CpuTicks {
  // Old kernels print fewer columns (no steal/guest): absent columns are zero.
  if (fields.length < 4) throw new Error(`/proc/stat: expected at least 4 counters in "${line}"`);
  const ticks = {} as CpuTicks;
  FIELDS.forEach((name, i) => {
    const raw = fields[i];
    const value = raw === undefined ? 0 : Number(raw);
    if (!Number.isFinite(value)) throw new Error(`/proc/stat: counter ${name} is not a number in "${line}"`);
    ticks[name] = value;
  });
  return ticks;
}

/** Parses the text of /proc/stat; throws when it has no aggregate `cpu` line. */
export function parseProcStat(text: string): ProcStat {
  const cpus = new Map<number, CpuTicks>();
  let total: CpuTicks | undefined;
  for (const line of text.split("\n")) {
    if (!line.startsWith("cpu")) continue;
    const [label, ...fields] = line.trim().split(/\s+/);
    if (label === "cpu") total = parseCpuLine(fields, line);
    else if (label && /^cpu\d+$/.test(label)) cpus.set(Number(label.slice(3)), parseCpuLine(fields, line));
  }
  if (!total) throw new Error("/proc/stat: no aggregate 'cpu' line (is this /proc/stat?)");
  return { cpus, total };
}
