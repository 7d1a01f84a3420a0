import assert from "node:assert/strict";
import net from "node:net";
import { test } from "node:test";
import { startPacedSender } from "../../../../src/drivers/builtin/paced-sender.js";
import { readSeq } from "../../../../src/drivers/builtin/protocol.js";
import { connectTcp, descriptorOf, nowNs } from "../../../../src/drivers/builtin/trial.js";

const idle = { workStarted() {}, workFinished() {}, polled() {}, sleeping() {} };

test("a full TCP socket: the sender waits for it without holding the thread, and every message arrives whole and in order", async () => {
  const size = 32 * 1024;
  const total = 600; // ≈ 19 MB: more than loopback's socket buffers hold while nobody reads
  const chunks: Buffer[] = [];
  let accepted: net.Socket | null = null;
  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    accepted = socket;
    socket.on("data", (chunk) => chunks.push(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  const socket = await connectTcp("127.0.0.1", port);
  try {
    const sender = startPacedSender(
      {
        fd: descriptorOf(socket),
        requestSize: size,
        intervalNs: 1e9 / 50_000,
        startNs: nowNs(),
        total,
        firstMeasured: 0,
        giveUpNs: nowNs() + 20e9,
      },
      idle,
    );
    // Nobody reads for 400 ms: the socket fills. The thread must stay free meanwhile.
    let turns = 0;
    const ticker = setInterval(() => turns++, 10);
    await new Promise((resolve) => setTimeout(resolve, 400));
    clearInterval(ticker);
    assert.ok(turns >= 10, `timers ran ${turns} times in 400 ms while the socket was full`);
    accepted!.resume();
    const result = await sender.done;
    assert.equal(result.error, undefined);
    assert.equal(result.sent, total);
    assert.ok(result.socketFull > 0, "the socket was full at some point");
    const expected = total * size;
    const deadline = Date.now() + 10_000;
    while (chunks.reduce((sum, c) => sum + c.length, 0) < expected && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const received = Buffer.concat(chunks);
    assert.equal(received.length, expected);
    for (let i = 0; i < total; i++) assert.equal(readSeq(received, i * size), i, `message ${i}`);
  } finally {
    socket.destroy();
    server.close();
  }
});
