// `vnetbench agent`: run an Agent until SIGTERM/SIGINT, announcing where it listens on stdout.

import { readFile } from "node:fs/promises";
import { Agent } from "./agent.js";
import { newToken } from "./protocol.js";

export interface ServeOptions {
  listen: string;
  port: number;
  /** File holding the shared secret; without it a fresh token is made and announced. */
  tokenFile?: string;
  /**
   * Take control requests on stdin (answers on stdout) and exit when stdin closes: set by
   * launchers, so an agent never outlives the run that started it.
   */
  stdio?: boolean;
}

export async function serveAgent(options: ServeOptions, announce: (line: string) => void): Promise<void> {
  const token = options.tokenFile ? (await readFile(options.tokenFile, "utf8")).trim() : newToken();
  if (token.length < 16) throw new Error(`token in ${options.tokenFile} is shorter than 16 characters`);
  const agent = new Agent({ host: options.listen, port: options.port, token });
  const address = await agent.listen();
  // The launcher reads the token from this line; a token given in a file is not echoed. The PID
  // is this process's own on its machine: a launcher over ssh knows only its ssh client's.
  announce(
    JSON.stringify({
      event: "listening",
      address: address.address,
      port: address.port,
      pid: process.pid,
      ...(options.tokenFile ? {} : { token }),
    }),
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      agent.close();
      resolve();
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
    process.stdout.once("error", stop);
    if (options.stdio) agent.serveChannel(process.stdin, process.stdout).then(stop);
  });
}
