import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  attributeHosts,
  demandByHost,
  effectiveClock,
  type HostCpu,
  mergeHosts,
  mhzFromCycles,
  parseCpuinfoMhz,
} from "../../../src/analysis/cpu-hosts.js";

const close = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} ≠ ${expected}`);

describe("attributeHosts", () => {
  it("charges each host its processes and the rest by its share of the packets, adding up to the machine", () => {
    // 1.0 CPU-s busy: host1's processes 0.3, host2's 0.1; 0.6 left, packets 3:1.
    const split = attributeHosts(1, [
      { name: "host1", processSeconds: 0.3, packets: 3000 },
      { name: "host2", processSeconds: 0.1, packets: 1000 },
    ]);
    close(split.host1!.seconds, 0.3 + 0.6 * 0.75);
    close(split.host2!.seconds, 0.1 + 0.6 * 0.25);
    close(split.host1!.sharedSeconds, 0.45);
    close(split.host2!.packetShare, 0.25);
    close(split.host1!.seconds + split.host2!.seconds, 1);
    assert.equal(split.host1!.attribution, "processes and packets");
  });

  it("shares evenly when no packet was counted", () => {
    const split = attributeHosts(0.5, [
      { name: "a", processSeconds: 0.1, packets: 0 },
      { name: "b", processSeconds: 0, packets: 0 },
    ]);
    close(split.a!.seconds, 0.1 + 0.2);
    close(split.b!.seconds, 0.2);
  });

  it("scales processes down to the machine's busy time when schedstat reads above it", () => {
    const split = attributeHosts(0.9, [
      { name: "a", processSeconds: 0.6, packets: 1 },
      { name: "b", processSeconds: 0.4, packets: 1 },
    ]);
    close(split.a!.seconds, 0.54);
    close(split.b!.seconds, 0.36);
    close(split.a!.sharedSeconds + split.b!.sharedSeconds, 0);
  });

  it("gives a single host the whole machine", () => {
    const split = attributeHosts(0.7, [{ name: "host1", processSeconds: 0, packets: 0 }]);
    assert.deepEqual(Object.keys(split), ["host1"]);
    close(split.host1!.seconds, 0.7);
    assert.equal(split.host1!.attribution, "machine");
    assert.throws(() => attributeHosts(1, []), /no host/);
  });
});

describe("the clock", () => {
  it("is cycles over busy CPU-seconds, not over all-CPU task-clock", () => {
    // 2.4e9 cycles in 1.2 busy CPU-seconds: 2 000 MHz (task-clock of -a would count idle CPUs too).
    close(mhzFromCycles(2.4e9, 1.2)!, 2000);
    assert.equal(mhzFromCycles(null, 1), null);
    assert.equal(mhzFromCycles(1e9, 0), null);
  });

  it("falls back to /proc/cpuinfo's cpu MHz sampled over the window, saying so", () => {
    const cpuinfo = "processor\t: 0\ncpu MHz\t\t: 2096.033\nprocessor\t: 1\ncpu MHz\t\t: 2100.000\n";
    close(parseCpuinfoMhz(cpuinfo)!, (2096.033 + 2100) / 2);
    assert.equal(parseCpuinfoMhz("processor : 0\nBogoMIPS : 50.00\n"), null);
    assert.deepEqual(effectiveClock(null, 1, [2000, 2200]), {
      effectiveMhz: 2100,
      mhzSource: "/proc/cpuinfo cpu MHz",
    });
    assert.deepEqual(effectiveClock(3e9, 1, [2000]), {
      effectiveMhz: 3000,
      mhzSource: "perf cycles / busy CPU-seconds",
    });
    assert.deepEqual(effectiveClock(null, 1, []), { effectiveMhz: null, mhzSource: null });
  });
});

const host = (seconds: number, sharedSeconds: number, mhz: number | null): HostCpu => ({
  seconds,
  processSeconds: seconds - sharedSeconds,
  sharedSeconds,
  packetShare: 0.5,
  attribution: "processes and packets",
  effectiveMhz: mhz,
  mhzSource: mhz === null ? null : "/proc/cpuinfo cpu MHz",
});

describe("byHost over a cell's trials and per unit of work", () => {
  it("sums seconds, recomputes the packet share and weights the clock by seconds", () => {
    const merged = mergeHosts([
      { host1: host(1, 0.6, 2000), host2: host(0.5, 0.2, 2000) },
      { host1: host(3, 0.6, 3000), host2: host(0.5, 0.6, 3000) },
    ]);
    close(merged.host1!.seconds, 4);
    close(merged.host1!.packetShare, 1.2 / 2);
    close(merged.host1!.effectiveMhz!, (2000 * 1 + 3000 * 3) / 4);
    close(merged.host2!.effectiveMhz!, 2500);
    const unclocked = mergeHosts([{ a: host(1, 0, 2000) }, { a: host(1, 0, null) }]);
    assert.equal(unclocked.a!.effectiveMhz, null);
  });

  it("gives each host's µs per transaction, adding up to the total's", () => {
    const byHost = { host1: host(0.3, 0, null), host2: host(0.1, 0, null) };
    const demand = demandByHost(byHost, { transactions: 1e5 }, true)!;
    close(demand.host1!.usPerTransaction!, 3);
    close(demand.host2!.usPerTransaction!, 1);
    close(demandByHost(byHost, { bytes: 1024 * 1000 }, false)!.host1!.usPerKB!, 300);
    assert.equal(demandByHost(byHost, { transactions: 0 }, true), null);
  });
});
