// Dispatches a trial to the client side of its pattern.

import type { Sample } from "../../domain/sample.js";
import { runTcpCrr } from "./crr.js";
import { runPaced } from "./paced.js";
import { runTcpRr, runUdpRr } from "./rr.js";
import { runTcpMaerts, runTcpStream, runUdpMaerts, runUdpStream } from "./stream.js";
import type { PatternContext } from "./trial.js";

export function runPattern(ctx: PatternContext): Promise<Sample> {
  const { protocol, pattern } = ctx.traffic;
  if (pattern === "paced") return runPaced(ctx);
  if (protocol === "tcp") {
    if (pattern === "rr") return runTcpRr(ctx);
    if (pattern === "crr") return runTcpCrr(ctx);
    if (pattern === "stream") return runTcpStream(ctx);
    if (pattern === "maerts") return runTcpMaerts(ctx);
  }
  if (protocol === "udp") {
    if (pattern === "rr") return runUdpRr(ctx);
    if (pattern === "stream") return runUdpStream(ctx);
    if (pattern === "maerts") return runUdpMaerts(ctx);
  }
  return Promise.reject(new Error(`builtin driver cannot run ${protocol} ${pattern}`));
}
