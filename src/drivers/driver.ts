// Driver: a traffic generator with one lifecycle — check, prepare (start the server side),
// run trials, close — and a pure parse of its output, returning the common Sample shape.

import type { Sample } from "../domain/sample.js";
import type { Direction } from "../domain/setup.js";
import type { DriverName, IpVersion, Traffic } from "../domain/traffic.js";
import type { Endpoint } from "../endpoints/endpoint.js";
import { sameMachine } from "../endpoints/machine.js";
import { InputError } from "../errors.js";

/** One of the generator's processes: the endpoint it runs on, and its PID in that endpoint's /proc. */
export interface GeneratorProcess {
  endpoint: Endpoint;
  pid: number;
}

/** The PIDs, in `host`'s /proc, of the generator's processes that run on its machine. */
export function generatorPidsOn(processes: readonly GeneratorProcess[], host: Endpoint): number[] {
  return processes.filter((p) => sameMachine(p.endpoint, host)).map((p) => p.pid);
}

/** A hypervisor host the traffic crosses: the trial's CPU is spent on it too. */
export interface PathHost {
  name: string;
  endpoint: Endpoint;
  /** Network namespaces of this machine that are the host's own (its and its guests'), on a netns lab. */
  namespaces: string[];
}

/** Where a cell's traffic flows: the client endpoint sends to the server endpoint's address. */
export interface TrafficPath {
  client: Endpoint;
  server: Endpoint;
  /** The address the client sends to (the server endpoint's address on this path). */
  serverAddress: string;
  /** The hosts the path crosses, in path order (unknown: the run's host alone). */
  hosts?: PathHost[];
  /** The address the client is reached at (a bidirectional trial's reverse half); default client.address. */
  clientAddress?: string;
  /** The same path's addresses in IPv6, where its endpoints have them. */
  ipv6?: { serverAddress: string; clientAddress: string };
}

/** The path with the addresses of an IP version; fails, naming the path, when it has none in IPv6. */
export function pathOverIp<T extends TrafficPath>(path: T, ip: IpVersion): T {
  if (ip === 4) return path;
  if (!path.ipv6)
    throw new InputError(
      `ip 6: the path ${path.client.name} → ${path.server.name} has no IPv6 addresses (the netns lab and loopback have; qemu guests and endpoints files are IPv4 only for now)`,
    );
  return { ...path, ...path.ipv6 };
}

export interface TrialOptions {
  /** `bidirectional` runs the traffic both ways at once and returns a forward and a reverse Sample. */
  direction?: Direction;
  signal?: AbortSignal;
}

export interface DriverSession {
  /** Runs one trial (warm-up, then the measured window) and returns one Sample per direction. */
  runTrial(traffic: Traffic, options?: TrialOptions): Promise<Sample[]>;
  /** The generator's processes, wherever they run: their CPU is reported apart, and `pin: generator` pins them. */
  generatorProcesses?(): GeneratorProcess[];
  /** Stops everything the session started, whatever state it is in. */
  close(): Promise<void>;
}

export interface Driver {
  readonly name: DriverName;
  /** Why this driver cannot do the traffic, in this direction when given (refused before the first trial), or null. */
  unsupported(traffic: Traffic, direction?: Direction): string | null;
  /** Fails, before the first trial, when the tool is missing or too old on either endpoint. */
  check(path: TrafficPath): Promise<void>;
  /** Starts the server side on the path's server endpoint. */
  prepare(path: TrafficPath): Promise<DriverSession>;
}
