// `vnetbench doctor`: what each endpoint can do — which drivers and monitors are usable there, and
// why not when they are not — checked on the endpoint itself, before any run depends on it.

import { posix } from "node:path";
import { DRIVERS, type DriverName } from "./domain/traffic.js";
import { driverFor } from "./drivers/registry.js";
import type { Endpoint } from "./endpoints/endpoint.js";
import { probePerf } from "./monitors/perf-probe.js";

export interface Capability {
  /** `driver:sockperf`, `monitor:perf-cycles`, ... */
  name: string;
  usable: boolean;
  /** The version found, or why it is not usable. */
  detail: string;
}

export interface EndpointDoctor {
  endpoint: string;
  kind: string;
  role: string;
  address: string;
  capabilities: Capability[];
}

async function check(name: string, probe: () => Promise<string>): Promise<Capability> {
  try {
    return { name, usable: true, detail: await probe() };
  } catch (error) {
    return { name, usable: false, detail: (error as Error).message.split("\n")[0]! };
  }
}

async function driverCapability(endpoint: Endpoint, name: DriverName): Promise<Capability> {
  return check(`driver:${name}`, async () => {
    if (name === "builtin") {
      const { stdout } = await endpoint.exec([...endpoint.vnetbenchCommand(), "--version"], {
        timeoutMs: 15_000,
      });
      return `vnetbench ${stdout.trim()}`;
    }
    await driverFor(name).check({ client: endpoint, server: endpoint, serverAddress: endpoint.address });
    return "found";
  });
}

/** Whether `perf stat` counts hardware cycles here (it says "not supported" in many VMs). */
async function perfCapability(endpoint: Endpoint): Promise<Capability> {
  return check("monitor:perf-cycles", async () => {
    const support = await probePerf(endpoint);
    if (!support.counts) throw new Error(`${support.reason}: CPU is reported in seconds only`);
    return "cycles and instructions counted (on by default)";
  });
}

async function fileCapability(
  endpoint: Endpoint,
  name: string,
  path: string,
  what: string,
): Promise<Capability> {
  return check(name, async () => {
    await endpoint.readFile(path);
    return what;
  });
}

async function commandCapability(
  endpoint: Endpoint,
  name: string,
  argv: string[],
  why: string,
): Promise<Capability> {
  return check(name, async () => {
    const result = await endpoint.exec(argv, { allowFailure: true, timeoutMs: 10_000 });
    if (result.code !== 0) throw new Error(`${argv[0]} not usable (${why})`);
    return (result.stdout.trim().split("\n")[0] ?? "").slice(0, 60) || "found";
  });
}

/** The built-in engine's native data path beside the endpoint's vnetbench (dist/native, from dist/src/cli). */
function nativeDataPathCapability(endpoint: Endpoint): Promise<Capability> {
  const main = endpoint.vnetbenchCommand().at(-1) ?? "";
  const binary = posix.join(posix.dirname(main), "..", "..", "native", "vnb-wire");
  return check("engine:native-data-path", async () => {
    const result = await endpoint.exec([binary, "version"], { allowFailure: true, timeoutMs: 10_000 });
    if (result.code !== 0)
      throw new Error("not built (no C compiler at install): rr and paced run in Node, with a longer tail");
    return `${result.stdout.trim()}: rr and paced time their messages in C`;
  });
}

export async function doctorEndpoint(endpoint: Endpoint): Promise<EndpointDoctor> {
  const capabilities = await Promise.all([
    ...DRIVERS.map((name) => driverCapability(endpoint, name)),
    nativeDataPathCapability(endpoint),
    fileCapability(endpoint, "monitor:proc-stat", "/proc/stat", "host CPU from /proc/stat"),
    fileCapability(endpoint, "monitor:schedstat", "/proc/self/schedstat", "per-thread CPU in ns"),
    fileCapability(endpoint, "monitor:interrupts", "/proc/interrupts", "interrupts and softirqs"),
    perfCapability(endpoint),
    commandCapability(
      endpoint,
      "setup:ethtool",
      ["ethtool", "--version"],
      "NIC offloads and speed are not recorded",
    ),
    commandCapability(endpoint, "setup:taskset", ["taskset", "--version"], "no CPU pinning"),
    commandCapability(endpoint, "setup:numactl", ["numactl", "--hardware"], "no NUMA binding"),
  ]);
  return {
    endpoint: endpoint.name,
    kind: endpoint.kind,
    role: endpoint.role,
    address: endpoint.address,
    capabilities,
  };
}

export function doctor(endpoints: readonly Endpoint[]): Promise<EndpointDoctor[]> {
  return Promise.all(endpoints.map(doctorEndpoint));
}
