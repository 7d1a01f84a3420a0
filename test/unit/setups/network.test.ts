import assert from "node:assert/strict";
import { test } from "node:test";
import { LocalEndpoint } from "../../../src/endpoints/local.js";
import { NetnsEndpoint } from "../../../src/endpoints/netns.js";
import { InputError } from "../../../src/errors.js";
import { labFromTopology } from "../../../src/labs/netns-lab.js";
import { labTopology } from "../../../src/labs/topology.js";
import { NETWORK_SETUPS, resolveNetworkSetup } from "../../../src/setups/network.js";

const lab = labFromTopology(labTopology("vnb"));

test("an unknown setup name is an InputError that lists the valid ones", () => {
  assert.throws(
    () => resolveNetworkSetup("host-to-gest"),
    (error: unknown) => error instanceof InputError && error.message.includes(NETWORK_SETUPS.join(", ")),
  );
});

test("loopback needs no lab: this machine, 127.0.0.1", () => {
  const path = resolveNetworkSetup("loopback");
  assert.ok(path.client instanceof LocalEndpoint);
  assert.equal(path.client, path.server);
  assert.equal(path.serverAddress, "127.0.0.1");
  assert.throws(() => resolveNetworkSetup("host-to-guest"), /needs endpoints/);
});

test("on the lab, each setup goes between the nodes the seed names, to the right address", () => {
  const table = Object.fromEntries(
    NETWORK_SETUPS.map((name) => {
      const p = resolveNetworkSetup(name, { lab });
      return [name, `${p.client.name} -> ${p.server.name} ${p.serverAddress}`];
    }),
  );
  assert.deepEqual(table, {
    loopback: "host1 -> host1 127.0.0.1",
    "host-to-guest": "host1 -> g1 10.213.1.11",
    "guest-to-host": "g1 -> host1 10.213.1.1",
    "ext-to-guest": "ext -> g1 10.213.1.11",
    "ext-to-host": "ext -> host1 10.213.3.1",
    "guest-to-guest": "g1 -> g2 10.213.1.12",
    "guest-to-guest-remote": "g1 -> g3 10.213.2.13",
    "host-to-ext": "host1 -> ext 10.213.3.2",
  });
});

test("the remote guest-to-guest path crosses both hosts' bridges and the wan link", () => {
  const p = resolveNetworkSetup("guest-to-guest-remote", { lab });
  assert.deepEqual(
    p.interfaces.map((i) => `${(i.endpoint as NetnsEndpoint).namespace}/${i.ifname}`),
    [
      "vnb-g1/vnb-eth0",
      "vnb-host1/vnb-g1",
      "vnb-host1/vnb-br0",
      "vnb-host1/vnb-wan",
      "vnb-host2/vnb-wan",
      "vnb-host2/vnb-br0",
      "vnb-host2/vnb-g3",
      "vnb-g3/vnb-eth0",
    ],
  );
});

test("a path names the hosts it crosses, each with its own namespaces and its guests'", () => {
  const hostsOf = (name: string) =>
    (resolveNetworkSetup(name, { lab }).hosts ?? []).map((h) => `${h.name}: ${h.namespaces.join(" ")}`);
  assert.deepEqual(hostsOf("guest-to-guest-remote"), [
    "host1: vnb-host1 vnb-g1 vnb-g2",
    "host2: vnb-host2 vnb-g3",
  ]);
  assert.deepEqual(hostsOf("ext-to-guest"), ["host1: vnb-host1 vnb-g1 vnb-g2"]);
  assert.deepEqual(hostsOf("loopback"), ["host1: vnb-host1 vnb-g1 vnb-g2"]);
  assert.deepEqual(
    resolveNetworkSetup("loopback").hosts?.map((h) => h.endpoint.kind),
    ["local"],
  );
});

test("user-defined endpoints resolve by role, pairing guests through their hosts", () => {
  const hv1 = new NetnsEndpoint("hv1", "a", "host", "192.0.2.1");
  const hv2 = new NetnsEndpoint("hv2", "b", "host", "192.0.2.2");
  const vm1 = new NetnsEndpoint("vm1", "c", "guest", "192.0.2.11");
  const vm2 = new NetnsEndpoint("vm2", "d", "guest", "192.0.2.12");
  const vm3 = new NetnsEndpoint("vm3", "e", "guest", "192.0.2.13");
  const ext = new NetnsEndpoint("load", "f", "ext", "192.0.2.100");
  const hosts: Record<string, string> = { vm1: "hv2", vm2: "hv1", vm3: "hv2" };
  const set = { endpoints: [hv1, hv2, vm1, vm2, vm3, ext], hostOf: (g: { name: string }) => hosts[g.name] };
  const pair = (name: string) => {
    const p = resolveNetworkSetup(name, set);
    return `${p.client.name} -> ${p.server.name} ${p.serverAddress}`;
  };
  assert.equal(pair("host-to-guest"), "hv2 -> vm1 192.0.2.11");
  assert.equal(pair("guest-to-host"), "vm1 -> hv2 192.0.2.2");
  assert.equal(pair("guest-to-guest"), "vm1 -> vm3 192.0.2.13");
  assert.equal(pair("guest-to-guest-remote"), "vm1 -> vm2 192.0.2.12");
  assert.equal(pair("ext-to-host"), "load -> hv1 192.0.2.1");
  assert.equal(pair("host-to-ext"), "hv1 -> load 192.0.2.100");
  assert.equal(pair("loopback"), "hv1 -> hv1 127.0.0.1");
  // Each host a guest end runs on is on the path: both, across hosts.
  const hostsOf = (name: string) => resolveNetworkSetup(name, set).hosts?.map((h) => h.name);
  assert.deepEqual(hostsOf("guest-to-guest-remote"), ["hv2", "hv1"]);
  assert.deepEqual(hostsOf("host-to-guest"), ["hv2"]);
  assert.deepEqual(hostsOf("ext-to-host"), ["hv1"]);
});

test("a setup whose roles the endpoints lack says what it needs and what there is", () => {
  const only = { endpoints: [new NetnsEndpoint("hv1", "a", "host", "192.0.2.1")] };
  assert.throws(
    () => resolveNetworkSetup("ext-to-host", only),
    /needs an endpoint with role ext; the endpoints are: hv1 \(host\)/,
  );
  assert.throws(() => resolveNetworkSetup("guest-to-guest-remote", only), /two guests whose `host` differ/);
});
