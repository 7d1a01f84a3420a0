#!/usr/bin/env node
// The agent alone, for endpoints where starting the whole CLI is slow (a guest under emulation
// loads each module over 9p: the CLI takes ~17 s there, this ~5 s). Same arguments as
// `vnetbench agent`, and `--version`.

import { parseArgs } from "node:util";
import { vnetbenchVersion } from "../../run/metadata.js";
import { serveAgent } from "./serve.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    listen: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "0" },
    "token-file": { type: "string" },
    stdio: { type: "boolean", default: false },
    version: { type: "boolean", default: false },
  },
});

if (values.version) {
  process.stdout.write(`${vnetbenchVersion()}\n`);
} else {
  const port = Number(values.port);
  if (positionals[0] !== "agent" || !Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write("usage: agent-main agent [--listen ADDR] [--port N] [--token-file F] [--stdio]\n");
    process.exit(2);
  }
  await serveAgent(
    { listen: values.listen!, port, tokenFile: values["token-file"], stdio: values.stdio },
    (line) => process.stdout.write(`${line}\n`),
  );
  // A read of stdin still pending (a character device, in a guest) would keep the process alive.
  process.exit(0);
}
