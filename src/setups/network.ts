// Named network setups — the seed's connection options — resolved to a TrafficPath: against the
// netns lab (with the interfaces each path crosses, to verify it), against user-defined endpoints
// by role, or, for loopback, against nothing at all.

import type { PathHost, TrafficPath } from "../drivers/driver.js";
import type { Endpoint, EndpointRole } from "../endpoints/endpoint.js";
import { LocalEndpoint } from "../endpoints/local.js";
import { NetnsEndpoint } from "../endpoints/netns.js";
import { InputError } from "../errors.js";
import type { Lab } from "../labs/netns-lab.js";
import { type LabNode, type LabTopology, labIfname } from "../labs/topology.js";

export const NETWORK_SETUPS = [
  "loopback",
  "host-to-guest",
  "guest-to-host",
  "ext-to-guest",
  "ext-to-host",
  "guest-to-guest",
  "guest-to-guest-remote",
  "host-to-ext",
] as const;
export type NetworkSetupName = (typeof NETWORK_SETUPS)[number];

/** An interface a path crosses, with the endpoint on which its counters can be read. */
export interface PathInterface {
  endpoint: Endpoint;
  ifname: string;
}

export interface ResolvedNetworkSetup extends TrafficPath {
  name: NetworkSetupName;
  /** Interfaces the traffic must cross (known for the lab; empty for user-defined endpoints). */
  interfaces: PathInterface[];
}

/** User-defined endpoints; hostOf names the host a guest runs on, when the user said so. */
export interface EndpointSet {
  endpoints: readonly Endpoint[];
  hostOf?: (guest: Endpoint) => string | undefined;
}

export type SetupSource = { lab: Lab } | EndpointSet;

export function isNetworkSetupName(name: string): name is NetworkSetupName {
  return (NETWORK_SETUPS as readonly string[]).includes(name);
}

/** The valid names, or an InputError that lists them. */
export function parseNetworkSetupName(name: string): NetworkSetupName {
  if (!isNetworkSetupName(name)) {
    throw new InputError(`unknown network setup "${name}": expected one of ${NETWORK_SETUPS.join(", ")}`);
  }
  return name;
}

interface LabPathSpec {
  client: LabNode;
  server: LabNode;
  serverAddress: (topology: LabTopology) => string;
  /** [node, interface name without the lab prefix]. */
  crosses: [LabNode, string][];
}

const toGuest = (t: LabTopology) => t.addresses.g1;
// Bridged traffic between ports does not pass br0's own counters; routed traffic does.
const LAB_PATHS: Record<NetworkSetupName, LabPathSpec> = {
  loopback: {
    client: "host1",
    server: "host1",
    serverAddress: () => "127.0.0.1",
    crosses: [["host1", "lo"]],
  },
  "host-to-guest": {
    client: "host1",
    server: "g1",
    serverAddress: toGuest,
    crosses: [
      ["host1", "br0"],
      ["host1", "g1"],
      ["g1", "eth0"],
    ],
  },
  "guest-to-host": {
    client: "g1",
    server: "host1",
    serverAddress: (t) => t.addresses.host1,
    crosses: [
      ["g1", "eth0"],
      ["host1", "g1"],
      ["host1", "br0"],
    ],
  },
  "ext-to-guest": {
    client: "ext",
    server: "g1",
    serverAddress: toGuest,
    crosses: [
      ["ext", "eth0"],
      ["host1", "ext"],
      ["host1", "br0"],
      ["host1", "g1"],
      ["g1", "eth0"],
    ],
  },
  "ext-to-host": {
    client: "ext",
    server: "host1",
    serverAddress: (t) => t.hostExtAddress,
    crosses: [
      ["ext", "eth0"],
      ["host1", "ext"],
    ],
  },
  "host-to-ext": {
    client: "host1",
    server: "ext",
    serverAddress: (t) => t.addresses.ext,
    crosses: [
      ["host1", "ext"],
      ["ext", "eth0"],
    ],
  },
  "guest-to-guest": {
    client: "g1",
    server: "g2",
    serverAddress: (t) => t.addresses.g2,
    crosses: [
      ["g1", "eth0"],
      ["host1", "g1"],
      ["host1", "g2"],
      ["g2", "eth0"],
    ],
  },
  "guest-to-guest-remote": {
    client: "g1",
    server: "g3",
    serverAddress: (t) => t.addresses.g3,
    crosses: [
      ["g1", "eth0"],
      ["host1", "g1"],
      ["host1", "br0"],
      ["host1", "wan"],
      ["host2", "wan"],
      ["host2", "br0"],
      ["host2", "g3"],
      ["g3", "eth0"],
    ],
  },
};

/** The lab's hypervisor host of each node; ext is another machine, no host's. */
const LAB_HOST_OF: Record<LabNode, "host1" | "host2" | null> = {
  host1: "host1",
  g1: "host1",
  g2: "host1",
  host2: "host2",
  g3: "host2",
  ext: null,
};

/** The lab hosts a path's nodes belong to, in path order, each with its namespaces and its guests'. */
function labPathHosts(lab: Lab, nodes: readonly LabNode[]): PathHost[] {
  const names = [...new Set(nodes.map((node) => LAB_HOST_OF[node]).filter((h) => h !== null))];
  return names.map((name) => ({
    name,
    endpoint: lab.endpoints[name],
    namespaces: (Object.keys(LAB_HOST_OF) as LabNode[])
      .filter((node) => LAB_HOST_OF[node] === name)
      .map((node) => lab.endpoints[node])
      .flatMap((endpoint) => (endpoint instanceof NetnsEndpoint ? [endpoint.namespace] : [])),
  }));
}

function resolveOnLab(name: NetworkSetupName, lab: Lab): ResolvedNetworkSetup {
  const spec = LAB_PATHS[name];
  const { topology } = lab;
  const v6 = { ...topology, addresses: topology.addresses6, hostExtAddress: topology.hostExtAddress6 };
  // qemu guests configure IPv4 only (from the kernel command line).
  const hasIpv6 = ![spec.client, spec.server].some((node) => lab.endpoints[node].kind === "qemu");
  const loopback = name === "loopback";
  return {
    name,
    client: lab.endpoints[spec.client],
    server: lab.endpoints[spec.server],
    serverAddress: spec.serverAddress(topology),
    hosts: labPathHosts(lab, [spec.client, ...spec.crosses.map(([node]) => node), spec.server]),
    ...(hasIpv6
      ? {
          ipv6: {
            serverAddress: loopback ? "::1" : spec.serverAddress(v6),
            clientAddress: loopback ? "::1" : topology.addresses6[spec.client],
          },
        }
      : {}),
    interfaces: spec.crosses.map(([node, local]) => ({
      endpoint: lab.endpoints[node],
      // Inside a virtual machine the interface keeps the kernel's name.
      ifname: lab.endpoints[node].kind === "qemu" ? local : labIfname(lab.name, local),
    })),
  };
}

function resolveOnEndpoints(name: NetworkSetupName, set: EndpointSet): ResolvedNetworkSetup {
  const byRole = (role: EndpointRole) => set.endpoints.filter((e) => e.role === role);
  const [hosts, guests, exts] = [byRole("host"), byRole("guest"), byRole("ext")];
  const have = set.endpoints.map((e) => `${e.name} (${e.role})`).join(", ") || "none";
  const need = (what: string): never => {
    throw new InputError(`network setup ${name} needs ${what}; the endpoints are: ${have}`);
  };
  const hostOf = (guest: Endpoint) => set.hostOf?.(guest);
  const first = <T>(list: readonly T[], role: EndpointRole): T =>
    list[0] ?? need(`an endpoint with role ${role}`);
  const hostFor = (guest: Endpoint) => hosts.find((h) => h.name === hostOf(guest)) ?? first(hosts, "host");
  // The hosts: each end that is one, and the host a guest end runs on when that is known.
  const hostsOf = (ends: Endpoint[]): PathHost[] => {
    const found = ends.flatMap((end) =>
      end.role === "host"
        ? [end]
        : end.role === "guest" && (hostOf(end) !== undefined || hosts.length === 1)
          ? [hostFor(end)]
          : [],
    );
    return [...new Set(found)].map((endpoint) => ({ name: endpoint.name, endpoint, namespaces: [] }));
  };
  const path = (
    client: Endpoint,
    server: Endpoint,
    serverAddress = server.address,
  ): ResolvedNetworkSetup => ({
    name,
    client,
    server,
    serverAddress,
    interfaces: [],
    hosts: hostsOf([client, server]),
  });
  const guestPair = (sameHost: boolean): [Endpoint, Endpoint] => {
    for (const [i, a] of guests.entries()) {
      for (const b of guests.slice(i + 1)) {
        const [ha, hb] = [hostOf(a), hostOf(b)];
        // Guests without a `host` count as on one host only when there is a single host.
        const same = ha !== undefined && hb !== undefined ? ha === hb : hosts.length <= 1;
        const different = ha !== undefined && hb !== undefined && ha !== hb;
        if (sameHost ? same : different) return [a, b];
      }
    }
    return need(sameHost ? "two guests on the same host" : "two guests whose `host` differ");
  };

  switch (name) {
    case "loopback": {
      const host = hosts[0] ?? new LocalEndpoint();
      return {
        ...path(host, host, "127.0.0.1"),
        ipv6: { serverAddress: "::1", clientAddress: "::1" },
        interfaces: [{ endpoint: host, ifname: "lo" }],
      };
    }
    case "host-to-guest": {
      const guest = first(guests, "guest");
      return path(hostFor(guest), guest);
    }
    case "guest-to-host": {
      const guest = first(guests, "guest");
      return path(guest, hostFor(guest));
    }
    case "ext-to-guest":
      return path(first(exts, "ext"), first(guests, "guest"));
    case "ext-to-host":
      return path(first(exts, "ext"), first(hosts, "host"));
    case "host-to-ext":
      return path(first(hosts, "host"), first(exts, "ext"));
    case "guest-to-guest":
      return path(...guestPair(true));
    case "guest-to-guest-remote":
      return path(...guestPair(false));
  }
}

/**
 * Resolves a named network setup to the path its traffic takes. Without a source only `loopback`
 * resolves (on this machine, 127.0.0.1); the others need the netns lab or user-defined endpoints.
 */
export function resolveNetworkSetup(name: string, source?: SetupSource): ResolvedNetworkSetup {
  const setup = parseNetworkSetupName(name);
  if (source && "lab" in source) return resolveOnLab(setup, source.lab);
  if (source) return resolveOnEndpoints(setup, source);
  if (setup === "loopback") return resolveOnEndpoints(setup, { endpoints: [] });
  throw new InputError(
    `network setup ${setup} needs endpoints: bring up the netns lab (as root) or give an endpoints file`,
  );
}
