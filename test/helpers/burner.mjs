// A CPU burner for the accuracy tests: `node burner.mjs BUSY_US IDLE_US DURATION_MS`.
// Prints "ready", then answers lines on stdin: "mark" with its CPU time so far, "go" by burning in duty
// cycles (BUSY_US spinning, IDLE_US asleep) and printing its own CPU time over the burn. CPU times
// are exact, from getrusage (all threads), as JSON.
// Plain JavaScript so that no loader thread or process runs beside it.
import { createInterface } from "node:readline";

const [busyUs, idleUs, durationMs] = process.argv.slice(2).map(Number);
if (!(busyUs > 0) || !(idleUs >= 0) || !(durationMs > 0)) {
  console.error("usage: burner.mjs BUSY_US IDLE_US DURATION_MS");
  process.exit(2);
}
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const nowUs = () => Number(process.hrtime.bigint()) / 1e3;

function burn() {
  const start = nowUs();
  const end = start + durationMs * 1e3;
  let cycles = 0;
  for (let t = start; t < end; t = nowUs()) {
    const busyEnd = Math.min(end, t + busyUs);
    while (nowUs() < busyEnd);
    // Atomics.wait sleeps in the kernel (futex) for a fractional-millisecond timeout.
    if (idleUs > 0) Atomics.wait(sleeper, 0, 0, idleUs / 1e3);
    cycles++;
  }
  return { wallSeconds: (nowUs() - start) / 1e6, cycles };
}

const lines = createInterface({ input: process.stdin });
process.stdout.write("ready\n");
const seconds = (usage) => (usage.user + usage.system) / 1e6;
lines.on("line", (line) => {
  if (line === "mark") {
    process.stdout.write(`${JSON.stringify({ cpuSeconds: seconds(process.cpuUsage()) })}\n`);
    return;
  }
  const before = process.cpuUsage();
  const { wallSeconds, cycles } = burn();
  const cpuSeconds = seconds(process.cpuUsage(before));
  process.stdout.write(`${JSON.stringify({ cpuSeconds, wallSeconds, cycles })}\n`);
});
// Exits when the test closes stdin.
lines.once("close", () => process.exit(0));
