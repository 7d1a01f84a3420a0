// The built-in engine reports the path, not itself: what the sender really sent, what the
// receiver really got, and answers credited to the request they answer.

import assert from "node:assert/strict";
import dgram from "node:dgram";
import { after, before, test } from "node:test";
import type { Traffic } from "../../src/domain/traffic.js";
import type { AgentConnection } from "../../src/drivers/builtin/control-client.js";
import { builtinDriver } from "../../src/drivers/builtin/driver.js";
import { runUdpRr } from "../../src/drivers/builtin/rr.js";
import type { DriverSession } from "../../src/drivers/driver.js";
import { loopbackPath } from "../helpers/paths.js";

let session: DriverSession;
before(async () => {
  session = await builtinDriver.prepare(loopbackPath());
});
after(() => session.close());

function traffic(partial: Partial<Traffic>): Traffic {
  return {
    protocol: "udp",
    pattern: "rr",
    requestSize: 64,
    responseSize: 64,
    rate: "max",
    durationS: 1,
    warmupS: 0.2,
    driver: "builtin",
    ...partial,
  };
}

test("paced: a sender that cannot keep the schedule is seen — sent counts writes, not the schedule", async () => {
  const offered = 5_000_000; // far beyond what one thread writes here
  const [sample] = await session.runTrial(
    traffic({ pattern: "paced", rate: offered, durationS: 0.3, warmupS: 0 }),
  );
  assert.ok(sample);
  assert.ok(
    sample.messagesSent / sample.durationS < 0.99 * offered,
    `${sample.messagesSent} in ${sample.durationS} s`,
  );
  assert.ok(sample.messagesReceived <= sample.messagesSent);
  assert.equal(sample.generatorLimited, true);
  assert.ok(
    sample.warnings.some((warning) => /achieved \d+ of 5000000/.test(warning)),
    sample.warnings.join("; "),
  );
});

test("udp maerts counts only what the agent sent in the window: received never exceeds sent", async () => {
  const size = 1200;
  const [sample] = await session.runTrial(
    traffic({ pattern: "maerts", requestSize: size, responseSize: size, rate: 20_000 }),
  );
  assert.ok(sample && sample.messagesSent > 1000, `${sample?.messagesSent} sent`);
  assert.ok(
    sample.messagesReceived <= sample.messagesSent,
    `${sample.messagesReceived} of ${sample.messagesSent}`,
  );
  assert.ok(sample.bytesReceived <= sample.bytesSent, `${sample.bytesReceived} B of ${sample.bytesSent} B`);
  assert.equal(sample.bytesReceived, sample.messagesReceived * size);
  assert.equal(typeof sample.loss.socketDrops, "number", "receiver-socket drops reported apart");
});

test("udp rr below the sequence number's size is refused with the reason", () => {
  const reason = builtinDriver.unsupported?.(traffic({ requestSize: 2, responseSize: 2 }));
  assert.match(reason ?? "", /4-byte sequence number/);
});

test("udp rr: a late answer to a request given up on is not credited to the next one", async () => {
  // An echo server that answers request 20 only after 300 ms, long past the loss timeout.
  const server = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => server.bind(0, "127.0.0.1", resolve));
  let requests = 0;
  server.on("message", (message, remote) => {
    const answer = Buffer.from(message);
    const delayMs = ++requests === 20 ? 300 : 0;
    setTimeout(() => server.send(answer, remote.port, remote.address), delayMs);
  });
  const agent = {
    open: async () => ({ session: 1, port: (server.address() as { port: number }).port }),
    closeSession: async () => {},
  } as unknown as AgentConnection;
  try {
    const sample = await runUdpRr({
      agent,
      host: "127.0.0.1",
      traffic: traffic({ requestSize: 8, responseSize: 8, warmupS: 0, durationS: 1 }),
    });
    assert.ok(sample.loss.sent - sample.loss.received >= 1, "the slow request counts as lost");
    assert.ok(sample.latencyUs && sample.latencyUs.max < 150_000, `max ${sample.latencyUs?.max} µs`);
  } finally {
    server.close();
  }
});
