// Link options on a real lab: MTU at creation and later, a tbf rate limit, netem delay (where the
// kernel has netem).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { RunError } from "../../src/errors.js";
import { type Lab, labDown, labStatus, labUp, setLinkOptions } from "../../src/labs/netns-lab.js";
import { resolveNetworkSetup } from "../../src/setups/network.js";
import { labNamespacesLeft, tcpExchange } from "../helpers/lab.js";

const NAME = "vnbt3c";
let lab: Lab;

before(async () => {
  await labDown(NAME);
  lab = await labUp({ name: NAME, links: { wan: { mtu: 1400 } } });
});

after(async () => {
  await labDown(NAME);
  assert.deepEqual(await labNamespacesLeft(NAME), []);
});

/** Whether a ping with the don't-fragment bit and this payload gets an answer. */
async function pingDf(from: Lab["endpoints"]["g1"], to: string, payload: number): Promise<boolean> {
  const argv = ["ping", "-c", "1", "-W", "2", "-M", "do", "-s", String(payload), to];
  return (await from.exec(argv, { allowFailure: true })).code === 0;
}

test("an MTU set at creation bounds packets across that link (guest to remote guest)", async () => {
  const wan = (await labStatus(NAME)).links.find((l) => l.name === "wan");
  assert.equal(wan?.mtu, 1400);
  const g3 = lab.endpoints.g3.address;
  // The first oversized ping teaches g1 the path MTU (ICMP frag needed from host1); both must fail.
  assert.equal(await pingDf(lab.endpoints.g1, g3, 1400 - 28 + 1), false);
  assert.equal(await pingDf(lab.endpoints.g1, g3, 1400 - 28), true);
});

test("setLinkOptions changes a link's MTU on both ends later", async () => {
  await setLinkOptions(lab, "g2", { mtu: 1300 });
  assert.equal((await labStatus(NAME)).links.find((l) => l.name === "g2")?.mtu, 1300);
  const g2 = lab.endpoints.g2.address;
  assert.equal(await pingDf(lab.endpoints.host1, g2, 1300 - 28), true);
  assert.equal(await pingDf(lab.endpoints.g2, lab.endpoints.host1.address, 1300 - 28 + 1), false);
});

test("a rate limit makes the link the bottleneck, and removing it lifts it", async () => {
  const path = resolveNetworkSetup("host-to-guest", { lab });
  const bytes = 1024 * 1024;
  await setLinkOptions(lab, "g1", { shaping: { rateMbit: 4 } });
  assert.deepEqual((await labStatus(NAME)).links.find((l) => l.name === "g1")?.qdiscs, ["tbf", "tbf"]);
  const limited = await tcpExchange(path, bytes);
  assert.equal(limited.received, bytes);
  // 1 MiB at 4 Mbit/s is 2.1 s; leave room for the burst.
  assert.ok(limited.ms >= 1500, `1 MiB took ${limited.ms} ms at 4 Mbit/s`);
  await setLinkOptions(lab, "g1", { shaping: null });
  assert.deepEqual((await labStatus(NAME)).links.find((l) => l.name === "g1")?.qdiscs, [
    "noqueue",
    "noqueue",
  ]);
  const free = await tcpExchange(path, bytes);
  assert.ok(free.ms < limited.ms / 2, `unlimited ${free.ms} ms vs limited ${limited.ms} ms`);
});

test("shaping applies both ways by default; a direction shapes one way, and status says which", async () => {
  const toGuest = resolveNetworkSetup("host-to-guest", { lab });
  const fromGuest = resolveNetworkSetup("guest-to-host", { lab });
  const bytes = 1024 * 1024;
  const shaped = async () => (await labStatus(NAME)).links.find((l) => l.name === "g1")?.shaped;
  await setLinkOptions(lab, "g1", { shaping: { rateMbit: 4 } });
  assert.equal(await shaped(), "both ways");
  // 1 MiB at 4 Mbit/s is 2.1 s; leave room for the burst.
  const limitedBack = await tcpExchange(fromGuest, bytes);
  assert.ok(limitedBack.ms >= 1500, `guest→host: 1 MiB took ${limitedBack.ms} ms at 4 Mbit/s`);

  await setLinkOptions(lab, "g1", { shaping: { rateMbit: 4 }, direction: "g1-to-host1" });
  assert.equal(await shaped(), "g1→host1");
  const free = await tcpExchange(toGuest, bytes);
  const limited = await tcpExchange(fromGuest, bytes);
  assert.ok(limited.ms >= 1500, `guest→host: 1 MiB took ${limited.ms} ms at 4 Mbit/s`);
  assert.ok(free.ms < limited.ms / 2, `host→guest unshaped ${free.ms} ms vs guest→host ${limited.ms} ms`);
  await setLinkOptions(lab, "g1", { shaping: null });
  assert.equal(await shaped(), "none");
});

test("netem delay shows in the ping RTT (both ends delay: RTT ≥ 2 × delay)", async (t) => {
  try {
    await setLinkOptions(lab, "ext", { shaping: { delayMs: 20 } });
  } catch (error) {
    assert.ok(error instanceof RunError);
    assert.match(error.message, /has no netem qdisc/);
    t.skip("this kernel has no sch_netem; the error says so");
    return;
  }
  const { stdout } = await lab.endpoints.ext.exec([
    "ping",
    "-c",
    "3",
    "-i",
    "0.2",
    lab.topology.hostExtAddress,
  ]);
  const min = Number(/= ([\d.]+)\//.exec(stdout)?.[1]);
  assert.ok(min >= 40, `min RTT ${min} ms with 20 ms each way`);
  await setLinkOptions(lab, "ext", { shaping: null });
});
