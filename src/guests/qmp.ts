// A QMP client for one-shot questions to a guest's qemu: capabilities, then the commands in order.

import { createConnection } from "node:net";
import { RunError } from "../errors.js";

export interface QmpCommand {
  execute: string;
  arguments?: Record<string, unknown>;
}

/** Runs the commands on the QMP socket and returns each one's `return` value. */
export function qmp(socketPath: string, commands: QmpCommand[], timeoutMs = 10_000): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    const results: unknown[] = [];
    const queue: QmpCommand[] = [{ execute: "qmp_capabilities" }, ...commands];
    let greeted = false;
    let buffered = "";
    const fail = (message: string) => {
      socket.destroy();
      reject(new RunError(`QMP ${socketPath}: ${message}`));
    };
    const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
    const next = () => {
      const command = queue[0];
      if (!command) {
        clearTimeout(timer);
        socket.end();
        resolve(results.slice(1));
        return;
      }
      socket.write(`${JSON.stringify(command)}\n`);
    };
    socket.on("error", (error) => {
      clearTimeout(timer);
      fail(error.message);
    });
    socket.on("data", (chunk) => {
      buffered += chunk.toString("utf8");
      let newline = buffered.indexOf("\n");
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf("\n");
        if (!line) continue;
        const message = JSON.parse(line) as { QMP?: unknown; return?: unknown; error?: { desc: string } };
        if (message.QMP !== undefined && !greeted) {
          greeted = true;
          next();
        } else if (message.error) {
          clearTimeout(timer);
          fail(`${queue[0]?.execute}: ${message.error.desc}`);
        } else if ("return" in message) {
          results.push(message.return);
          queue.shift();
          next();
        }
      }
    });
  });
}

export interface VcpuThread {
  cpuIndex: number;
  threadId: number;
}

/** The vCPU threads QMP names (query-cpus-fast). */
export async function vcpuThreads(socketPath: string): Promise<VcpuThread[]> {
  const [cpus] = (await qmp(socketPath, [{ execute: "query-cpus-fast" }])) as [
    { "cpu-index": number; "thread-id": number }[],
  ];
  return cpus.map((cpu) => ({ cpuIndex: cpu["cpu-index"], threadId: cpu["thread-id"] }));
}
