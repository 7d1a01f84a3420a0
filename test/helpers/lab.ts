// Helpers for lab integration tests: a small TCP exchange between two endpoints, interface byte
// counters, and what a lab left behind.

import { readdir, readlink } from "node:fs/promises";
import type { TrafficPath } from "../../src/drivers/driver.js";
import { readInterfaceBytes } from "../../src/endpoints/counters.js";
import type { PathInterface } from "../../src/setups/network.js";
import { execCommand } from "../../src/util/process.js";

const SERVER = `const s = require("net").createServer((c) => {
  let n = 0;
  c.on("data", (d) => { n += d.length; });
  c.on("end", () => c.end(String(n)));
}).listen(0, "0.0.0.0", () => console.log(s.address().port));`;

const CLIENT = `const [address, port, bytes] = process.argv.slice(1);
const c = require("net").connect(Number(port), address, () => c.end(Buffer.alloc(Number(bytes), 120)));
let reply = "";
c.on("data", (d) => { reply += d; });
c.on("end", () => console.log(reply));
c.on("error", (e) => { console.error(e.message); process.exit(1); });
setTimeout(() => { console.error("timed out"); process.exit(1); }, 20000).unref();`;

/** Sends `bytes` over TCP from the path's client to a server on its server; returns what arrived. */
export async function tcpExchange(
  path: TrafficPath,
  bytes: number,
): Promise<{ received: number; ms: number }> {
  const server = path.server.start([process.execPath, "-e", SERVER]);
  try {
    const port = await new Promise<string>((resolve, reject) => {
      let out = "";
      server.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes("\n")) resolve(out.trim());
      });
      server.exited.then(() => reject(new Error("test server exited before listening")));
    });
    const started = Date.now();
    const { stdout } = await path.client.exec([
      process.execPath,
      "-e",
      CLIENT,
      path.serverAddress,
      port,
      String(bytes),
    ]);
    return { received: Number(stdout.trim()), ms: Date.now() - started };
  } finally {
    await server.stop();
  }
}

/** rx+tx bytes of each interface, in order. */
export async function totalBytes(interfaces: readonly PathInterface[]): Promise<number[]> {
  const counters = await Promise.all(interfaces.map((i) => readInterfaceBytes(i.endpoint, i.ifname)));
  return counters.map((c) => c.rxBytes + c.txBytes);
}

/** Namespaces of the lab `name` that exist. */
export async function labNamespacesLeft(name: string): Promise<string[]> {
  const { stdout } = await execCommand(["ip", "netns", "list"]);
  return stdout
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((ns) => ns.startsWith(`${name}-`));
}

/** Inode of a named namespace: stays identifiable after its name is gone. */
export async function namespaceInode(ns: string): Promise<string> {
  return (await execCommand(["stat", "-L", "-c", "%i", `/run/netns/${ns}`])).stdout.trim();
}

/** PIDs of processes still inside a namespace with one of these inodes (which keeps it and its links alive). */
export async function processesInNamespaces(inodes: readonly string[]): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const link = await readlink(`/proc/${entry}/ns/net`).catch(() => "");
    if (inodes.some((inode) => link === `net:[${inode}]`)) pids.push(Number(entry));
  }
  return pids;
}
