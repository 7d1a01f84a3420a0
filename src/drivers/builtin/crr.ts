// Connect, request, response, close (netperf TCP_CRR): each transaction is a new connection.

import net from "node:net";
import { newLatencyHistogram, recordNs } from "../../analysis/latency.js";
import type { Sample } from "../../domain/sample.js";
import { abortable, nowNs, type PatternContext, sampleFrom, startClock } from "./trial.js";

export async function runTcpCrr(ctx: PatternContext): Promise<Sample> {
  const { requestSize, responseSize } = ctx.traffic;
  const { session, port } = await ctx.agent.open({
    protocol: "tcp",
    pattern: "crr",
    requestSize,
    responseSize,
    rate: 0,
  });
  const request = Buffer.alloc(requestSize, 0x5a);
  const clock = startClock(ctx);
  const histogram = newLatencyHistogram();
  let measured = 0;
  let firstMeasuredNs = 0;
  let lastCompletedNs = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const unlisten = abortable(ctx.signal, reject);
      const transaction = () => {
        const startedNs = nowNs();
        let received = 0;
        const socket = net.connect({ host: ctx.host, port, noDelay: true });
        socket.once("connect", () => socket.write(request));
        socket.on("error", (error) =>
          reject(new Error(`connection to the agent failed mid-trial: ${error.message}`)),
        );
        socket.on("data", (chunk: Buffer) => {
          received += chunk.length;
          if (received < responseSize) return;
          const doneNs = nowNs();
          // Close passively once the agent's FIN arrives; the next connection starts at once.
          socket.once("end", () => socket.destroy());
          ctx.series?.latencyAt(doneNs, doneNs - startedNs, requestSize + responseSize);
          if (startedNs >= clock.measureFromNs) {
            if (measured === 0) firstMeasuredNs = startedNs;
            recordNs(histogram, doneNs - startedNs);
            measured++;
            lastCompletedNs = doneNs;
          }
          if (doneNs >= clock.endNs) {
            unlisten();
            resolve();
          } else {
            transaction();
          }
        });
      };
      transaction();
    });
  } finally {
    await ctx.agent.closeSession(session).catch(() => {});
  }
  return sampleFrom({
    durationS: (lastCompletedNs - firstMeasuredNs) / 1e9,
    messagesSent: measured,
    messagesReceived: measured,
    bytesSent: measured * requestSize,
    bytesReceived: measured * responseSize,
    bytesDelivered: measured * (requestSize + responseSize),
    histogram,
  });
}
