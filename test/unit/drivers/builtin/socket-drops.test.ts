import assert from "node:assert/strict";
import { test } from "node:test";
import {
  cpuShareBetween,
  parseUdpInErrors,
  socketDropsBetween,
} from "../../../../src/drivers/builtin/socket-drops.js";

const SNMP = `Ip: Forwarding DefaultTTL InReceives
Ip: 1 64 100
Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
Udp: 5000 2 37 5100 35 0 2 0 0
UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
UdpLite: 0 0 99 0 0 0 0 0 0
`;
const SNMP6 =
  "Udp6InDatagrams                 \t12\nUdp6NoPorts                     \t0\nUdp6InErrors                    \t4\n";

test("udp InErrors of both families, not UdpLite's", () => {
  assert.equal(parseUdpInErrors(SNMP, SNMP6), 41);
  assert.equal(parseUdpInErrors(SNMP), 37);
  assert.equal(parseUdpInErrors(""), 0);
});

test("drops over a trial: both ends' namespaces, one shared namespace counted once", () => {
  const at = (namespace: string, udpInErrors: number) => ({ namespace, udpInErrors, cpuUs: 0, atNs: 0 });
  const client: [ReturnType<typeof at>, ReturnType<typeof at>] = [at("net:[1]", 10), at("net:[1]", 15)];
  assert.equal(socketDropsBetween(client, [at("net:[2]", 3), at("net:[2]", 5)]), 7);
  assert.equal(socketDropsBetween(client, [at("net:[1]", 10), at("net:[1]", 15)]), 5);
  assert.equal(socketDropsBetween(client, null), 5);
});

test("an agent's CPU share over a trial: its threads' CPU time over wall time", () => {
  const at = (cpuUs: number, atNs: number) => ({ namespace: "n", udpInErrors: 0, cpuUs, atNs });
  assert.equal(cpuShareBetween(at(1_000, 0), at(951_000, 1e9)), 0.95);
  assert.equal(cpuShareBetween(at(0, 5), at(0, 5)), 0, "no time, no share");
});
