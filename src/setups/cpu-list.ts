// CPU lists in the kernel's own notation ("0-3,8,10-11"), as /proc and taskset read and write them.

/** The CPU numbers of a list like "0-3,8"; null when the text is not a CPU list. */
export function parseCpuList(text: string): number[] | null {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  const cpus = new Set<number>();
  for (const part of trimmed.split(",")) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!match) return null;
    const low = Number(match[1]);
    const high = match[2] === undefined ? low : Number(match[2]);
    if (high < low || high - low > 8191) return null;
    for (let cpu = low; cpu <= high; cpu++) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** The shortest list notation of a set of CPUs: [0,1,2,5] → "0-2,5". */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return ranges.join(",");
}

/** The same list written canonically, so "1,0" and "0-1" compare equal; the text itself when not a list. */
export function normalizeCpuList(text: string): string {
  const cpus = parseCpuList(text);
  return cpus === null ? text.trim() : formatCpuList(cpus);
}
