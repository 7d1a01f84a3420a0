// The netns lab's topology as pure data: namespaces, links, addresses and routes derived from a
// lab name (the prefix of everything it creates) and a base /16. No I/O here.
//
//            ext                         (ext link)
//             |
//   g1 --+    |                                      +-- g3
//        br0 host1 ------------ (wan) ------------ host2 br0
//   g2 --+
//
// Guests hang off their host's bridge through a veth whose host end is enslaved to the bridge,
// the way a tap is. host1 and host2 route (ip_forward) between their bridge, wan and ext links.

import { InputError } from "../errors.js";

export const LAB_NODES = ["host1", "g1", "g2", "host2", "g3", "ext"] as const;
export type LabNode = (typeof LAB_NODES)[number];

export const LAB_LINKS = ["g1", "g2", "g3", "wan", "ext"] as const;
export type LabLinkName = (typeof LAB_LINKS)[number];

export const DEFAULT_LAB_NAME = "vnb";
/** An unusual private /16, unlikely to be routed anywhere near a test machine. */
export const DEFAULT_BASE_SUBNET = "10.213.0.0/16";

/** One network interface of the lab: the node (namespace) it lives in and its name there. */
export interface LabInterface {
  node: LabNode;
  ifname: string;
}

/** A veth pair; `a` is the host side (enslaved to a bridge for guest links). */
export interface LabLink {
  name: LabLinkName;
  a: LabInterface & { address?: string; address6?: string; bridge?: string };
  b: LabInterface & { address?: string; address6?: string };
}

export interface LabBridge extends LabInterface {
  /** Address with prefix length, e.g. 10.213.1.1/24. */
  address: string;
  /** IPv6 address with prefix length, e.g. fd76:6e62:ad5:1::1/64. */
  address6: string;
}

export interface LabRoute {
  node: LabNode;
  destination: string;
  via: string;
}

export interface LabTopology {
  name: string;
  baseSubnet: string;
  namespaces: Record<LabNode, string>;
  /** Each node's main address: the one other nodes send to (host1: on br0; ext: on the ext link). */
  addresses: Record<LabNode, string>;
  /** host1's address on the ext link, the one ext talks to for ext↔host. */
  hostExtAddress: string;
  /** The same addresses in IPv6 (a ULA /48 derived from the base /16: every setup runs over both). */
  addresses6: Record<LabNode, string>;
  hostExtAddress6: string;
  bridges: LabBridge[];
  links: Record<LabLinkName, LabLink>;
  routes: LabRoute[];
  routes6: LabRoute[];
  /** Nodes that forward IPv4 and IPv6 (the hypervisors). */
  routers: LabNode[];
}

// No dash, so `NAME-host1` can never also be read as another lab's namespace; ≤ 9 characters so
// the longest interface name (`NAME-eth0`) stays within Linux's 15.
const LAB_NAME = /^[a-z][a-z0-9]{0,8}$/;

export function validateLabName(name: string): void {
  if (!LAB_NAME.test(name)) {
    throw new InputError(
      `lab name "${name}": expected 1–9 lowercase letters or digits starting with a letter (e.g. ${DEFAULT_LAB_NAME})`,
    );
  }
}

/** The first two octets of a base /16, e.g. "10.213.0.0/16" → "10.213". */
export function parseBaseSubnet(subnet: string): string {
  const match = /^(\d{1,3})\.(\d{1,3})\.0\.0\/16$/.exec(subnet);
  if (!match || Number(match[1]) > 255 || Number(match[2]) > 255) {
    throw new InputError(`lab base subnet "${subnet}": expected an IPv4 /16 such as ${DEFAULT_BASE_SUBNET}`);
  }
  return `${match[1]}.${match[2]}`;
}

/**
 * The lab's IPv6 prefix: a unique-local /48 (RFC 4193) named after the base /16, so labs on
 * different subnets differ in IPv6 too: 10.213.0.0/16 → fd76:6e62:ad5.
 */
export function ipv6Prefix(net: string): string {
  const [a, b] = net.split(".").map(Number) as [number, number];
  return `fd76:6e62:${((a << 8) | b).toString(16)}`;
}

/** Interface name within the lab: every name carries the lab's prefix (except the namespace's lo). */
export function labIfname(name: string, local: string): string {
  return local === "lo" ? "lo" : `${name}-${local}`;
}

export function labTopology(name = DEFAULT_LAB_NAME, baseSubnet = DEFAULT_BASE_SUBNET): LabTopology {
  validateLabName(name);
  const net = parseBaseSubnet(baseSubnet);
  const ip = (subnet: number, host: number) => `${net}.${subnet}.${host}`;
  const cidr = (subnet: number, host: number) => `${ip(subnet, host)}/24`;
  // The same subnet and host numbers, written in IPv6 (decimal digits read as hex: still unique).
  const ip6 = (subnet: number, host: number) => `${ipv6Prefix(net)}:${subnet}::${host}`;
  const cidr6 = (subnet: number, host: number) => `${ip6(subnet, host)}/64`;
  const ifn = (local: string) => labIfname(name, local);
  // Subnets: 1 = host1's bridge, 2 = host2's bridge, 3 = ext link, 12 = host1↔host2.
  const namespaces = Object.fromEntries(LAB_NODES.map((node) => [node, `${name}-${node}`])) as Record<
    LabNode,
    string
  >;
  const guestLink = (
    guest: "g1" | "g2" | "g3",
    host: "host1" | "host2",
    subnet: number,
    hostPart: number,
  ) => ({
    name: guest,
    a: { node: host, ifname: ifn(guest), bridge: ifn("br0") },
    b: {
      node: guest,
      ifname: ifn("eth0"),
      address: cidr(subnet, hostPart),
      address6: cidr6(subnet, hostPart),
    },
  });
  const addressesIn = (at: (subnet: number, host: number) => string) => ({
    host1: at(1, 1),
    g1: at(1, 11),
    g2: at(1, 12),
    host2: at(2, 1),
    g3: at(2, 13),
    ext: at(3, 2),
  });
  const routesIn = (at: (subnet: number, host: number) => string, remoteBridge: string): LabRoute[] => [
    { node: "g1", destination: "default", via: at(1, 1) },
    { node: "g2", destination: "default", via: at(1, 1) },
    { node: "g3", destination: "default", via: at(2, 1) },
    { node: "ext", destination: "default", via: at(3, 1) },
    { node: "host1", destination: remoteBridge, via: at(12, 2) },
    { node: "host2", destination: "default", via: at(12, 1) },
  ];
  return {
    name,
    baseSubnet,
    namespaces,
    addresses: addressesIn(ip),
    hostExtAddress: ip(3, 1),
    addresses6: addressesIn(ip6),
    hostExtAddress6: ip6(3, 1),
    bridges: [
      { node: "host1", ifname: ifn("br0"), address: cidr(1, 1), address6: cidr6(1, 1) },
      { node: "host2", ifname: ifn("br0"), address: cidr(2, 1), address6: cidr6(2, 1) },
    ],
    links: {
      g1: guestLink("g1", "host1", 1, 11),
      g2: guestLink("g2", "host1", 1, 12),
      g3: guestLink("g3", "host2", 2, 13),
      wan: {
        name: "wan",
        a: { node: "host1", ifname: ifn("wan"), address: cidr(12, 1), address6: cidr6(12, 1) },
        b: { node: "host2", ifname: ifn("wan"), address: cidr(12, 2), address6: cidr6(12, 2) },
      },
      ext: {
        name: "ext",
        a: { node: "host1", ifname: ifn("ext"), address: cidr(3, 1), address6: cidr6(3, 1) },
        b: { node: "ext", ifname: ifn("eth0"), address: cidr(3, 2), address6: cidr6(3, 2) },
      },
    },
    routes: routesIn(ip, `${net}.2.0/24`),
    routes6: routesIn(ip6, `${ipv6Prefix(net)}:2::/64`),
    routers: ["host1", "host2"],
  };
}
