// An IRQ of this machine a test may move (and must restore).

import { readFileSync, writeFileSync } from "node:fs";
import { parseInterrupts } from "../../src/monitors/proc-interrupts.js";

/** A numeric IRQ whose affinity can be written (its own value written back), or null. */
export function movableIrq(): { irq: number; affinity: string } | null {
  for (const line of parseInterrupts(readFileSync("/proc/interrupts", "utf8"))) {
    if (!/^\d+$/.test(line.id)) continue;
    const path = `/proc/irq/${line.id}/smp_affinity_list`;
    try {
      const affinity = readFileSync(path, "utf8").trim();
      writeFileSync(path, affinity);
      return { irq: Number(line.id), affinity };
    } catch {
      // kernel-managed or absent: try the next
    }
  }
  return null;
}
