// A sender of sequenced datagrams, as fast as the socket takes them or at a given rate. A ring of
// buffers keeps each datagram's bytes intact while the kernel may still be sending it.

import { HEADER_BYTES, writeHeader } from "./protocol.js";

export interface DatagramSource {
  /** Datagrams handed to the socket so far. */
  readonly sent: number;
  stop(): void;
}

type Send = (buffer: Buffer, done: () => void) => void;

const RING = 256;

export function startDatagramSource(size: number, rate: number, send: Send): DatagramSource {
  const ring = Array.from({ length: RING }, () => Buffer.alloc(size, 0x5a));
  let seq = 0;
  let inFlight = 0;
  let stopped = false;
  const startNs = process.hrtime.bigint();
  const intervalNs = rate > 0 ? 1e9 / rate : 0;
  const released = () => {
    inFlight--;
  };
  const fill = () => {
    if (stopped) return;
    const elapsedNs = Number(process.hrtime.bigint() - startNs);
    const due = intervalNs > 0 ? Math.floor(elapsedNs / intervalNs) + 1 : Number.POSITIVE_INFINITY;
    while (inFlight < RING && seq < due) {
      const buffer = ring[seq % RING]!;
      if (size >= HEADER_BYTES) writeHeader(buffer, seq, elapsedNs / 1000);
      inFlight++;
      seq++;
      send(buffer, released);
    }
    setImmediate(fill);
  };
  fill();
  return {
    get sent() {
      return seq;
    },
    stop() {
      stopped = true;
    },
  };
}
