// Parsers for /proc/interrupts and /proc/softirqs: cumulative per-CPU event counts.

/** Counts per CPU number for one interrupt line or softirq. */
export type PerCpuCounts = Map<number, number>;

export interface InterruptLine {
  /** The first column without its colon: an IRQ number ("24") or a name ("LOC", "NMI"). */
  id: string;
  /** Chip, hardware IRQ and device names, e.g. "PCI-MSIX-0000:00:05.0 1-edge virtio2-input.0". */
  description: string;
  counts: PerCpuCounts;
}

/** CPU numbers from a header like "           CPU0       CPU1" (offline CPUs are left out, so gaps happen). */
function parseCpuHeader(header: string | undefined, file: string): number[] {
  const cpus = [...(header ?? "").matchAll(/CPU(\d+)/g)].map((m) => Number(m[1]));
  if (cpus.length === 0) throw new Error(`${file}: no "CPUn" header line`);
  return cpus;
}

/** Splits "  24:   1   0  IO-APIC 5-edge ACPI:Ged" into id, counts (up to one per CPU) and the rest. */
function parseRow(line: string, cpus: number[]): InterruptLine | undefined {
  const match = /^\s*([^:\s]+):(.*)$/.exec(line);
  if (!match) return undefined;
  const tokens = match[2]!.trim().split(/\s+/);
  const counts: PerCpuCounts = new Map();
  let i = 0;
  // Rows like ERR and MIS carry a single total, not one count per CPU.
  for (; i < cpus.length && i < tokens.length && /^\d+$/.test(tokens[i]!); i++)
    counts.set(cpus[i]!, Number(tokens[i]));
  return { id: match[1]!, description: tokens.slice(i).join(" "), counts };
}

/** Parses /proc/interrupts into one entry per row. */
export function parseInterrupts(text: string): InterruptLine[] {
  const [header, ...rows] = text.split("\n");
  const cpus = parseCpuHeader(header, "/proc/interrupts");
  return rows.flatMap((line) => parseRow(line, cpus) ?? []);
}

/** Parses /proc/softirqs into counts per softirq name (NET_RX, NET_TX, ...). */
export function parseSoftirqs(text: string): Map<string, PerCpuCounts> {
  const [header, ...rows] = text.split("\n");
  const cpus = parseCpuHeader(header, "/proc/softirqs");
  const result = new Map<string, PerCpuCounts>();
  for (const line of rows) {
    const row = parseRow(line, cpus);
    if (row) result.set(row.id, row.counts);
  }
  return result;
}
