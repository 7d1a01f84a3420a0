// Pure parse of iperf3's JSON (-J) output into one Sample per direction.

import { type FlowFigures, lossOf, type Sample } from "../../domain/sample.js";
import { RunError } from "../../errors.js";
import { blankSample } from "../tools.js";

interface Iperf3Sum {
  /** In a stream's own figures: whether the client sent this stream (false: it received it). */
  sender?: boolean;
  seconds: number;
  bytes: number;
  bits_per_second: number;
  retransmits?: number;
  jitter_ms?: number;
  lost_packets?: number;
  packets?: number;
}

interface Iperf3Stream {
  udp?: Iperf3Sum & { out_of_order?: number };
  sender?: Iperf3Sum;
  receiver?: Iperf3Sum;
}

interface Iperf3Json {
  start?: { test_start?: { protocol?: string; blksize?: number; num_streams?: number; omit?: number } };
  end?: Record<string, unknown> & {
    streams?: Iperf3Stream[];
    cpu_utilization_percent?: Record<string, number>;
  };
  error?: string;
}

/** iperf3's report for one client run: an error (the run failed) or its Samples. */
export function parseIperf3(text: string): Iperf3Json {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const first = text.trim().split("\n")[0] ?? "";
    throw new RunError(`iperf3: expected JSON output (--json), got "${first.slice(0, 120)}"`);
  }
  if (typeof json !== "object" || json === null) throw new RunError("iperf3: expected a JSON object");
  return json as Iperf3Json;
}

/** The run's Samples: forward, plus reverse for --bidir. Fails on iperf3's `error`. */
export function iperf3Samples(report: Iperf3Json): Sample[] {
  if (report.error) throw new RunError(`iperf3: ${report.error}`);
  const end = report.end;
  const testStart = report.start?.test_start;
  if (!end || !testStart)
    throw new RunError("iperf3: no `start.test_start` / `end` in its JSON: expected a finished test");
  const udp = testStart.protocol === "UDP";
  const blksize = testStart.blksize ?? 0;
  const cpu = end.cpu_utilization_percent ?? null;
  const forward = direction(end, "", udp, blksize);
  if (!forward) throw new RunError("iperf3: no `end.sum_sent` / `end.sum_received` in its JSON");
  const outOfOrder = (end.streams ?? []).reduce((sum, stream) => sum + (stream.udp?.out_of_order ?? 0), 0);
  const reverse = direction(end, "_bidir_reverse", udp, blksize);
  // With --bidir each stream says whether the client sent it; otherwise every stream is the one direction.
  const streams = end.streams ?? [];
  const sentByClient = (stream: Iperf3Stream) => (stream.sender ?? stream.udp)?.sender !== false;
  const flows = (which: boolean | null) =>
    (testStart.num_streams ?? 1) > 1
      ? {
          flows: streams
            .filter((stream) => which === null || sentByClient(stream) === which)
            .map((stream, i) => flowFigures(stream, i + 1, blksize)),
        }
      : {};
  const samples = [
    withTool(
      { ...forward, loss: { ...forward.loss, reordered: outOfOrder }, ...flows(reverse ? true : null) },
      cpu,
      testStart,
      end,
    ),
  ];
  if (reverse)
    samples.push(withTool({ ...reverse, direction: "reverse", ...flows(false) }, cpu, testStart, end));
  return samples;
}

/** One parallel stream's figures (`-P`): the receiver's bytes for tcp, the datagrams counted for udp. */
function flowFigures(stream: Iperf3Stream, flow: number, blksize: number): FlowFigures {
  const perBlock = (bytes: number) => (blksize > 0 ? Math.round(bytes / blksize) : 0);
  if (stream.udp) {
    const { packets = 0, lost_packets: lost = 0, bytes, seconds, bits_per_second: bps } = stream.udp;
    const received = packets - lost;
    return {
      flow,
      messagesSent: packets,
      messagesReceived: received,
      bytesSent: bytes,
      bytesReceived: packets > 0 ? Math.round((bytes * received) / packets) : 0,
      messagesPerSecond: seconds > 0 ? received / seconds : 0,
      throughputMbps: (bps * (packets > 0 ? received / packets : 0)) / 1e6,
      latencyUs: null,
    };
  }
  const sent = stream.sender?.bytes ?? 0;
  const received = stream.receiver?.bytes ?? 0;
  const seconds = stream.receiver?.seconds ?? 0;
  return {
    flow,
    messagesSent: perBlock(sent),
    messagesReceived: perBlock(received),
    bytesSent: sent,
    bytesReceived: received,
    messagesPerSecond: seconds > 0 ? perBlock(received) / seconds : 0,
    throughputMbps: (stream.receiver?.bits_per_second ?? 0) / 1e6,
    latencyUs: null,
  };
}

function direction(
  end: Record<string, unknown>,
  suffix: string,
  udp: boolean,
  blksize: number,
): Sample | null {
  const sent = end[`sum_sent${suffix}`] as Iperf3Sum | undefined;
  const received = end[`sum_received${suffix}`] as Iperf3Sum | undefined;
  if (!sent || !received) return null;
  const sample = blankSample("iperf3");
  const seconds = received.seconds;
  let messagesSent: number;
  let messagesReceived: number;
  if (udp) {
    // The receiver's `packets` counts up to the highest sequence seen; lost_packets are the gaps.
    messagesSent = sent.packets ?? 0;
    messagesReceived = (received.packets ?? 0) - (received.lost_packets ?? 0);
  } else {
    // TCP delivers everything it accepted: bytes still in flight at the end are not lost. A
    // "message" is one write of --length bytes.
    messagesSent = blksize > 0 ? Math.round(sent.bytes / blksize) : 0;
    messagesReceived = blksize > 0 ? Math.round(received.bytes / blksize) : 0;
  }
  return {
    ...sample,
    durationS: seconds,
    messagesSent,
    messagesReceived,
    bytesSent: sent.bytes,
    bytesReceived: received.bytes,
    messagesPerSecond: seconds > 0 ? messagesReceived / seconds : 0,
    throughputMbps: received.bits_per_second / 1e6,
    loss: udp ? lossOf(messagesSent, messagesReceived) : lossOf(messagesReceived, messagesReceived),
    tool: {
      retransmits: sent.retransmits ?? null,
      jitterMs: udp ? (received.jitter_ms ?? null) : null,
      lostPackets: udp ? (received.lost_packets ?? 0) : null,
    },
  };
}

// A generator at this share of a CPU measures itself, not the path.
const SATURATED_PERCENT = 95;

function withTool(
  sample: Sample,
  cpu: Record<string, number> | null,
  testStart: NonNullable<NonNullable<Iperf3Json["start"]>["test_start"]>,
  end: Record<string, unknown>,
): Sample {
  const warnings = [...sample.warnings];
  const busiest = cpu ? Math.max(cpu["host_total"] ?? 0, cpu["remote_total"] ?? 0) : 0;
  if (busiest >= SATURATED_PERCENT) {
    warnings.push(
      `iperf3 used ${busiest.toFixed(0)} % of a CPU: the generator, not the path, may be the limit`,
    );
  }
  return {
    ...sample,
    generatorLimited: busiest >= SATURATED_PERCENT,
    warnings,
    tool: {
      ...sample.tool,
      // iperf3's own processes (client = host_*, server = remote_*), not the host CPU we account.
      iperf3CpuPercent: cpu,
      streams: testStart.num_streams ?? 1,
      blksize: testStart.blksize ?? null,
      omitS: testStart.omit ?? 0,
      congestion: end["sender_tcp_congestion"] ?? null,
    },
  };
}
