// The netns lab provider: builds the topology of topology.ts out of network namespaces, veth pairs
// and Linux bridges on this host, reports on it, and removes it. Everything it creates lives inside
// the lab's own namespaces (named NAME-node), so nothing touches the host's interfaces and `down`
// finds a lab by its name alone — also one left behind by a killed run.

import type { Endpoint } from "../endpoints/endpoint.js";
import { NetnsEndpoint } from "../endpoints/netns.js";
import { InputError, RunError } from "../errors.js";
import { CommandError, describeArgv, type ExecOptions, execCommand } from "../util/process.js";
import { assertLabFree } from "./lab-lock.js";
import {
  type LinkOptions,
  shapedDirection,
  shapedEnds,
  shapingCommands,
  validateLinkOptions,
} from "./link-options.js";
import {
  bootGuests,
  type GuestKind,
  guestEndpoints,
  guestProblems,
  isGuestNode,
  type QemuLabOptions,
  type QemuLabState,
  readQemuLabState,
  stopGuests,
  tapCommands,
  validateHardware,
} from "./qemu-lab.js";
import {
  DEFAULT_BASE_SUBNET,
  DEFAULT_LAB_NAME,
  LAB_LINKS,
  LAB_NODES,
  type LabLinkName,
  type LabNode,
  type LabTopology,
  labTopology,
  validateLabName,
} from "./topology.js";

export interface LabUpOptions {
  /** Prefix of every namespace and interface of the lab (default `vnb`). */
  name?: string;
  /** IPv4 /16 the lab takes its subnets from (default 10.213.0.0/16). */
  baseSubnet?: string;
  /** Options per link, applied at creation. */
  links?: Partial<Record<LabLinkName, LinkOptions>>;
  /** Remove a lab of the same name first instead of refusing. */
  force?: boolean;
  /** g1, g2, g3 as network namespaces behind veths (default) or qemu virtual machines on taps. */
  guests?: GuestKind;
  /** The qemu guests' image and hardware. */
  qemu?: QemuLabOptions;
}

/** A lab that is up: its endpoints by node name and the topology they were built from. */
export interface Lab {
  readonly name: string;
  readonly topology: LabTopology;
  readonly endpoints: Readonly<Record<LabNode, Endpoint>>;
  readonly guests: GuestKind;
  /** The qemu guests, as started (qemu labs only). */
  readonly qemu?: QemuLabState;
}

export type LabState = "up" | "down" | "partial";

export interface LabLinkStatus {
  name: LabLinkName;
  mtu?: number;
  /** Root qdisc kinds on the link's two ends, e.g. ["netem", "netem"]. */
  qdiscs: string[];
  /** Which way the link is shaped: `both ways`, `host1→g1`, `g1→host1` or `none`. */
  shaped: string;
}

export interface LabStatus {
  name: string;
  state: LabState;
  baseSubnet: string;
  /** Namespaces of the lab that exist. */
  namespaces: string[];
  /** What is missing or wrong, one line each (empty when up or down). */
  problems: string[];
  links: LabLinkStatus[];
}

const ALIAS_PREFIX = "vnetbench-lab base=";
const NODE_ROLE = {
  host1: "host",
  host2: "host",
  g1: "guest",
  g2: "guest",
  g3: "guest",
  ext: "ext",
} as const;

async function run(argv: readonly string[], options: ExecOptions = {}) {
  try {
    return await execCommand(argv, { timeoutMs: 15_000, ...options });
  } catch (error) {
    if (error instanceof CommandError) throw new RunError(`netns lab: ${error.message}`);
    throw error;
  }
}

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new RunError(
      "the netns lab needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN): run as root, or use loopback",
    );
  }
}

async function listNamespaces(): Promise<Set<string>> {
  const { stdout } = await run(["ip", "-j", "netns", "list"]);
  if (!stdout.trim()) return new Set();
  return new Set((JSON.parse(stdout) as { name: string }[]).map((entry) => entry.name));
}

function labNamespaces(name: string): string[] {
  return LAB_NODES.map((node) => `${name}-${node}`);
}

/** The endpoints of a lab described by its topology (and its qemu guests, if it has them). */
export function labFromTopology(topology: LabTopology, qemu?: QemuLabState): Lab {
  const endpoints: Record<LabNode, Endpoint> = Object.fromEntries(
    LAB_NODES.map((node) => [
      node,
      new NetnsEndpoint(node, topology.namespaces[node], NODE_ROLE[node], topology.addresses[node]),
    ]),
  ) as Record<LabNode, NetnsEndpoint>;
  if (qemu) Object.assign(endpoints, guestEndpoints(topology));
  return { name: topology.name, topology, endpoints, guests: qemu ? "qemu" : "netns", qemu };
}

/** The nodes that are namespaces: all of them, or all but the guests when those are VMs. */
function namespaceNodes(guests: GuestKind): LabNode[] {
  return LAB_NODES.filter((node) => guests === "netns" || !isGuestNode(node));
}

const QUIET_IPV6 = [
  "net.ipv6.conf.default.disable_ipv6=0",
  "net.ipv6.conf.default.accept_ra=0",
  "net.ipv6.conf.default.autoconf=0",
  "net.ipv6.conf.default.router_solicitations=0",
  "net.ipv6.conf.default.dad_transmits=0",
];

/** `ip addr add` of an IPv6 address without duplicate detection, so it is usable at once. */
function addIpv6(namespace: string, address: string, ifname: string): string[] {
  return ["ip", "-n", namespace, "-6", "addr", "add", address, "dev", ifname, "nodad"];
}

/** The commands that build a lab, in order (each an argv); qemu guests get taps, not veths. */
export function labUpCommands(topology: LabTopology, guests: GuestKind = "netns", queues = 1): string[][] {
  const ns = topology.namespaces;
  const commands: string[][] = [];
  const nodes = namespaceNodes(guests);
  for (const node of nodes) commands.push(["ip", "netns", "add", ns[node]]);
  for (const node of nodes) {
    commands.push(["ip", "-n", ns[node], "link", "set", "lo", "up"]);
    // IPv6 on, but quiet: the lab's own ULA addresses and the link-local ones neighbour discovery
    // needs (a router solicits a forwarded packet's next hop from its link-local address), no
    // router solicitations or autoconfiguration, no duplicate detection.
    commands.push(["ip", "netns", "exec", ns[node], "sysctl", "-qw", ...QUIET_IPV6]);
  }
  for (const bridge of topology.bridges) {
    const n = ns[bridge.node];
    commands.push([
      "ip",
      "-n",
      n,
      "link",
      "add",
      "name",
      bridge.ifname,
      "type",
      "bridge",
      "forward_delay",
      "0",
      // No multicast querier runs here: snooping would hold back IPv6 neighbour solicitations to
      // guests (a second's delay on a forwarded path's first packet).
      "mcast_snooping",
      "0",
    ]);
    commands.push(["ip", "-n", n, "addr", "add", bridge.address, "dev", bridge.ifname]);
    commands.push(addIpv6(n, bridge.address6, bridge.ifname));
    commands.push(["ip", "-n", n, "link", "set", bridge.ifname, "up"]);
  }
  // The lab records its base subnet on itself, so status and open need nothing but the name.
  const br0 = topology.bridges[0]!;
  commands.push([
    "ip",
    "-n",
    ns[br0.node],
    "link",
    "set",
    br0.ifname,
    "alias",
    ALIAS_PREFIX + topology.baseSubnet,
  ]);
  if (guests === "qemu") commands.push(...tapCommands(topology, queues));
  for (const linkName of LAB_LINKS) {
    if (guests === "qemu" && isGuestNode(linkName)) continue;
    const { a, b } = topology.links[linkName];
    const [na, nb] = [ns[a.node], ns[b.node]];
    // Both ends are created directly in their namespaces: nothing ever appears in the host's.
    const peer = ["peer", "name", b.ifname, "netns", nb];
    commands.push(["ip", "-n", na, "link", "add", "name", a.ifname, "type", "veth", ...peer]);
    if (a.bridge) commands.push(["ip", "-n", na, "link", "set", a.ifname, "master", a.bridge]);
    if (a.address) commands.push(["ip", "-n", na, "addr", "add", a.address, "dev", a.ifname]);
    if (b.address) commands.push(["ip", "-n", nb, "addr", "add", b.address, "dev", b.ifname]);
    if (a.address6) commands.push(addIpv6(na, a.address6, a.ifname));
    if (b.address6) commands.push(addIpv6(nb, b.address6, b.ifname));
    commands.push(["ip", "-n", na, "link", "set", a.ifname, "up"]);
    commands.push(["ip", "-n", nb, "link", "set", b.ifname, "up"]);
  }
  for (const node of topology.routers) {
    commands.push(["ip", "netns", "exec", ns[node], "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    commands.push(["ip", "netns", "exec", ns[node], "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"]);
  }
  for (const [family, routes] of [
    ["-4", topology.routes],
    ["-6", topology.routes6],
  ] as const) {
    for (const route of routes) {
      if (!nodes.includes(route.node)) continue;
      commands.push([
        "ip",
        "-n",
        ns[route.node],
        family,
        "route",
        "add",
        route.destination,
        "via",
        route.via,
      ]);
    }
  }
  return commands;
}

/** Builds the netns lab. Refuses when a lab of that name exists (unless force); cleans up if it fails. */
export async function labUp(options: LabUpOptions = {}): Promise<Lab> {
  const name = options.name ?? DEFAULT_LAB_NAME;
  const topology = labTopology(name, options.baseSubnet ?? DEFAULT_BASE_SUBNET);
  for (const [link, linkOptions] of Object.entries(options.links ?? {})) {
    checkLinkName(link);
    validateLinkOptions(linkOptions);
  }
  const guests = options.guests ?? "netns";
  const hardware = validateHardware(options.qemu?.hardware ?? {});
  requireRoot();
  assertLabFree(name);
  const present = await listNamespaces();
  const existing = labNamespaces(name).filter((ns) => present.has(ns));
  if (existing.length > 0 || readQemuLabState(name)) {
    if (!options.force) {
      const status = await labStatus(name);
      const detail =
        status.state === "up"
          ? `lab ${name} is already up`
          : `lab ${name} is partly there (${status.problems.slice(0, 3).join("; ")})`;
      throw new InputError(
        `${detail}: run \`vnetbench lab down --name ${name}\` first, or lab up --force to recreate it`,
      );
    }
    await labDown(name);
  }
  try {
    for (const argv of labUpCommands(topology, guests, hardware.queues)) await run(argv);
    const qemu = guests === "qemu" ? await bootGuests(topology, options.qemu ?? {}) : undefined;
    const lab = labFromTopology(topology, qemu);
    for (const [link, linkOptions] of Object.entries(options.links ?? {})) {
      await setLinkOptions(lab, link as LabLinkName, linkOptions);
    }
    return lab;
  } catch (error) {
    await labDown(name).catch(() => {});
    throw error;
  }
}

/**
 * Removes every namespace of the lab (and with them its veths and bridges), whether the lab is
 * whole, partial or left by a killed run. Processes still inside (an orphaned agent) are killed by
 * PID first: they would otherwise keep the namespace and its interfaces alive. Idempotent.
 */
export async function labDown(name = DEFAULT_LAB_NAME): Promise<{ removed: string[] }> {
  validateLabName(name);
  requireRoot();
  assertLabFree(name);
  // Guests first, by their pidfiles: their taps live in the hosts' namespaces removed below.
  const removed: string[] = await stopGuests(name);
  const present = await listNamespaces();
  for (const ns of labNamespaces(name)) {
    if (!present.has(ns)) continue;
    const { stdout } = await run(["ip", "netns", "pids", ns], { allowFailure: true });
    for (const pid of stdout.split(/\s+/).filter(Boolean).map(Number)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    await run(["ip", "netns", "del", ns]);
    removed.push(ns);
  }
  return { removed };
}

interface IpAddrEntry {
  ifname: string;
  flags: string[];
  mtu: number;
  master?: string;
  ifalias?: string;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

async function ipJson<T>(argv: string[]): Promise<T[]> {
  const { stdout } = await run(argv);
  return stdout.trim() ? (JSON.parse(stdout) as T[]) : [];
}

async function readBaseSubnet(name: string): Promise<string | undefined> {
  const topology = labTopology(name);
  const br0 = topology.bridges[0]!;
  const links = await ipJson<IpAddrEntry>([
    "ip",
    "-n",
    topology.namespaces[br0.node],
    "-j",
    "link",
    "show",
  ]).catch(() => []);
  const alias = links.find((link) => link.ifname === br0.ifname)?.ifalias;
  return alias?.startsWith(ALIAS_PREFIX) ? alias.slice(ALIAS_PREFIX.length) : undefined;
}

/** What of the lab exists: `up` (all there), `down` (nothing), or `partial` with the problems found. */
export async function labStatus(name = DEFAULT_LAB_NAME): Promise<LabStatus> {
  validateLabName(name);
  requireRoot();
  const present = await listNamespaces();
  const namespaces = labNamespaces(name).filter((ns) => present.has(ns));
  const qemu = readQemuLabState(name);
  const nodes = namespaceNodes(qemu ? "qemu" : "netns");
  const baseSubnet = (namespaces.length > 0 && (await readBaseSubnet(name))) || DEFAULT_BASE_SUBNET;
  const topology = labTopology(name, baseSubnet);
  const empty: LabStatus = { name, state: "down", baseSubnet, namespaces, problems: [], links: [] };
  if (namespaces.length === 0 && !qemu) return empty;

  const problems: string[] = [];
  const interfaces = new Map<LabNode, IpAddrEntry[]>();
  const qdiscs = new Map<LabNode, { dev: string; kind: string; root?: boolean }[]>();
  if (qemu) problems.push(...guestProblems(name));
  for (const node of nodes) {
    const ns = topology.namespaces[node];
    if (!present.has(ns)) {
      problems.push(`namespace ${ns} is missing`);
      continue;
    }
    interfaces.set(node, await ipJson<IpAddrEntry>(["ip", "-n", ns, "-j", "addr", "show"]));
    qdiscs.set(node, await ipJson(["ip", "netns", "exec", ns, "tc", "-j", "qdisc", "show"]));
  }

  const expect = (
    node: LabNode,
    ifname: string,
    address?: string,
    master?: string,
  ): IpAddrEntry | undefined => {
    const entries = interfaces.get(node);
    if (!entries) return undefined;
    const where = `${ifname} in ${topology.namespaces[node]}`;
    const entry = entries.find((e) => e.ifname === ifname);
    if (!entry) {
      problems.push(`interface ${where} is missing`);
      return undefined;
    }
    if (!entry.flags.includes("UP")) problems.push(`interface ${where} is down`);
    if (master && entry.master !== master) problems.push(`interface ${where} is not a port of ${master}`);
    if (address) {
      const has = entry.addr_info?.some((a) => `${a.local}/${a.prefixlen}` === address);
      if (!has) problems.push(`address ${address} on ${where} is missing`);
    }
    return entry;
  };

  for (const bridge of topology.bridges) expect(bridge.node, bridge.ifname, bridge.address);
  const links: LabLinkStatus[] = [];
  for (const linkName of LAB_LINKS) {
    const { a, b } = topology.links[linkName];
    const ends = [expect(a.node, a.ifname, a.address, a.bridge), expect(b.node, b.ifname, b.address)];
    const kinds = [a, b].map(
      (end) => qdiscs.get(end.node)?.find((q) => q.dev === end.ifname && q.root)?.kind ?? "none",
    );
    links.push({
      name: linkName,
      mtu: ends[0]?.mtu ?? ends[1]?.mtu,
      qdiscs: kinds,
      shaped: shapedDirection([a.node, b.node], kinds),
    });
  }
  for (const node of topology.routers) {
    if (!interfaces.has(node)) continue;
    const { stdout } = await run([
      "ip",
      "netns",
      "exec",
      topology.namespaces[node],
      "cat",
      "/proc/sys/net/ipv4/ip_forward",
    ]);
    if (stdout.trim() !== "1") problems.push(`ip_forward is off in ${topology.namespaces[node]}`);
  }
  for (const route of topology.routes) {
    if (!interfaces.has(route.node)) continue;
    const ns = topology.namespaces[route.node];
    const routes = await ipJson<{ dst: string; gateway?: string }>(["ip", "-n", ns, "-j", "route", "show"]);
    if (!routes.some((r) => r.dst === route.destination && r.gateway === route.via)) {
      problems.push(`route ${route.destination} via ${route.via} in ${ns} is missing`);
    }
  }
  return { name, state: problems.length === 0 ? "up" : "partial", baseSubnet, namespaces, problems, links };
}

/** The lab of that name, which must be up (built by this or another process). */
export async function openLab(name = DEFAULT_LAB_NAME): Promise<Lab> {
  const status = await labStatus(name);
  if (status.state === "down")
    throw new InputError(`lab ${name} is not up: run \`vnetbench lab up --name ${name}\``);
  if (status.state === "partial") {
    throw new InputError(
      `lab ${name} is broken (${status.problems.slice(0, 3).join("; ")}): run \`vnetbench lab down --name ${name}\` then up`,
    );
  }
  return labFromTopology(labTopology(name, status.baseSubnet), readQemuLabState(name));
}

function checkLinkName(link: string): asserts link is LabLinkName {
  if (!(LAB_LINKS as readonly string[]).includes(link)) {
    throw new InputError(`lab link "${link}": expected one of ${LAB_LINKS.join(", ")}`);
  }
}

/** Changes a link's MTU and/or shaping, on both of its ends. */
export async function setLinkOptions(lab: Lab, link: LabLinkName, options: LinkOptions): Promise<void> {
  checkLinkName(link);
  validateLinkOptions(options);
  const { a, b } = lab.topology.links[link];
  const shaped = shapedEnds([a.node, b.node], options.direction);
  for (const [i, end] of [a, b].entries()) {
    // A guest's end of its link is its eth0 when the guest is a virtual machine.
    const inVm = lab.guests === "qemu" && isGuestNode(end.node);
    const endpoint = lab.endpoints[end.node];
    const ifname = inVm ? "eth0" : end.ifname;
    const exec = async (argv: string[], allowFailure = false) => {
      try {
        await endpoint.exec(argv, { timeoutMs: 15_000, allowFailure });
      } catch (error) {
        const unknown =
          error instanceof CommandError && /qdisc kind is unknown/.test(error.result?.stderr ?? "");
        if (!unknown) throw new RunError(`lab ${lab.name}: ${(error as Error).message}`);
        throw new RunError(
          `lab ${lab.name}: the kernel of ${end.node} has no ${argv.find((a) => a === "netem" || a === "tbf")} qdisc (${describeArgv(argv)}); ` +
            "netem (delay, loss) needs sch_netem, rateMbit alone needs only sch_tbf",
        );
      }
    };
    if (options.mtu !== undefined) await exec(["ip", "link", "set", ifname, "mtu", String(options.mtu)]);
    if (options.shaping === undefined) continue;
    await exec(["tc", "qdisc", "del", "dev", ifname, "root"], true);
    if (!shaped[i]) continue;
    for (const argv of shapingCommands(ifname, options.shaping ?? {})) await exec(argv);
  }
}
