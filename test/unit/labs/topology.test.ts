import assert from "node:assert/strict";
import { test } from "node:test";
import { InputError } from "../../../src/errors.js";
import { labUpCommands } from "../../../src/labs/netns-lab.js";
import { LAB_LINKS, LAB_NODES, labTopology } from "../../../src/labs/topology.js";

test("every namespace and interface carries the lab's name, and interface names fit Linux's 15", () => {
  const t = labTopology("abcdefghi");
  for (const node of LAB_NODES) assert.equal(t.namespaces[node], `abcdefghi-${node}`);
  const ifnames = [...t.bridges, ...LAB_LINKS.flatMap((l) => [t.links[l].a, t.links[l].b])].map(
    (i) => i.ifname,
  );
  for (const ifname of ifnames) {
    assert.ok(ifname.startsWith("abcdefghi-"), ifname);
    assert.ok(ifname.length <= 15, ifname);
  }
});

test("lab names that are too long, have a dash or upper case are refused", () => {
  for (const bad of ["abcdefghij", "vnb-1", "Vnb", "1vnb", ""])
    assert.throws(() => labTopology(bad), InputError);
});

test("the base subnet must be an IPv4 /16, and every address comes from it", () => {
  for (const bad of ["10.213.0.0/24", "10.213.1.0/16", "300.1.0.0/16", "fd00::/16"]) {
    assert.throws(() => labTopology("vnb", bad), /expected an IPv4 \/16/);
  }
  const t = labTopology("vnb", "172.30.0.0/16");
  const addresses = [...Object.values(t.addresses), t.hostExtAddress];
  assert.equal(new Set(addresses).size, addresses.length);
  for (const a of addresses) assert.match(a, /^172\.30\./);
  assert.deepEqual(t.addresses, {
    host1: "172.30.1.1",
    g1: "172.30.1.11",
    g2: "172.30.1.12",
    host2: "172.30.2.1",
    g3: "172.30.2.13",
    ext: "172.30.3.2",
  });
});

test("guests' veths are bridge ports on their own host; every non-router has a default route", () => {
  const t = labTopology("vnb");
  assert.deepEqual([t.links.g1.a.node, t.links.g2.a.node, t.links.g3.a.node], ["host1", "host1", "host2"]);
  for (const link of [t.links.g1, t.links.g2, t.links.g3]) assert.equal(link.a.bridge, "vnb-br0");
  for (const node of ["g1", "g2", "g3", "ext", "host2"] as const) {
    assert.ok(
      t.routes.some((r) => r.node === node && r.destination === "default"),
      node,
    );
  }
});

test("building the lab never touches the host's own namespace", () => {
  for (const argv of labUpCommands(labTopology("vnb"))) {
    const inLab =
      (argv[1] === "-n" && argv[2]?.startsWith("vnb-")) ||
      (argv[1] === "netns" && argv[3]?.startsWith("vnb-"));
    assert.ok(inLab, argv.join(" "));
  }
});

test("every address has an IPv6 twin in a ULA /48 named after the base /16, added without DAD", () => {
  const t = labTopology("vnb", "10.213.0.0/16");
  assert.equal(t.addresses6.g1, "fd76:6e62:ad5:1::11");
  assert.equal(t.hostExtAddress6, "fd76:6e62:ad5:3::1");
  const other = labTopology("vnb", "10.214.0.0/16");
  assert.notEqual(other.addresses6.g1, t.addresses6.g1);
  const all = [...Object.values(t.addresses6), t.hostExtAddress6];
  assert.equal(new Set(all).size, all.length);
  const commands = labUpCommands(t).map((argv) => argv.join(" "));
  for (const address of [
    ...t.bridges.map((b) => b.address6),
    ...LAB_LINKS.flatMap((l) => [t.links[l].a.address6, t.links[l].b.address6]).filter(Boolean),
  ])
    assert.ok(
      commands.some((c) => c.includes(`-6 addr add ${address} `) && c.endsWith("nodad")),
      `${address} added nodad`,
    );
  assert.ok(commands.some((c) => c.endsWith("-6 route add default via fd76:6e62:ad5:1::1")));
  assert.ok(commands.some((c) => c.includes("net.ipv6.conf.all.forwarding=1")));
});
