// Opens a local HTML file in headless Debian chromium and inspects it over the DevTools protocol
// on a pipe (--remote-debugging-pipe: no port, no WebSocket): console errors, failed loads, what
// the page's plots measure, and a screenshot.

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { pathToFileURL } from "node:url";

export const CHROMIUM = "/usr/bin/chromium";

/** Why the browser tests cannot run here, or null when they can. */
export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM) ? null : `${CHROMIUM} is not installed (apt-get install -y chromium)`;
}

export interface PlotBox {
  width: number;
  height: number;
  /** Drawn elements inside the SVG (paths, rects, lines, circles, texts). */
  marks: number;
  /** The plot's title, read from its first text. */
  title: string;
  /** Every text the plot draws (titles, axis labels, legend entries). */
  texts: string[];
  /** Data points drawn as symbols (legend symbols left out). */
  points: number;
}

export interface SectionBox {
  id: string;
  /** Pixels from the top of the page at the first viewport's size (1000 px high). */
  top: number;
}

export interface PageInspection {
  title: string;
  /** Console errors, uncaught exceptions and error log entries (e.g. a failed load). */
  errors: string[];
  /** Resources the page fetched: a self-contained page fetches none. */
  resources: string[];
  plots: PlotBox[];
  /** The page's sections in order, where each starts. */
  sections: SectionBox[];
  /** The text of every preformatted block (pre). */
  preformatted: string[];
  screenshot: string;
  /** The same page cut in viewport-high tiles, readable at full size. */
  tiles: string[];
  /** From navigating to the load event and the page's first layout, ms. */
  loadMs: number;
}

type Message = {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: unknown;
  error?: unknown;
  sessionId?: string;
};

/** A DevTools protocol connection over chromium's fd 3 (its input) and fd 4 (its output). */
class Pipe {
  private nextId = 1;
  private buffer = "";
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private readonly listeners: Array<(message: Message) => void> = [];

  constructor(
    private readonly input: Writable,
    output: Readable,
  ) {
    output.setEncoding("utf8");
    output.on("data", (chunk: string) => {
      this.buffer += chunk;
      let end = this.buffer.indexOf("\0");
      while (end >= 0) {
        this.dispatch(JSON.parse(this.buffer.slice(0, end)) as Message);
        this.buffer = this.buffer.slice(end + 1);
        end = this.buffer.indexOf("\0");
      }
    });
  }

  private dispatch(message: Message): void {
    if (message.id !== undefined) {
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error) waiter?.reject(new Error(`DevTools: ${JSON.stringify(message.error)}`));
      else waiter?.resolve(message.result);
      return;
    }
    for (const listener of this.listeners) listener(message);
  }

  send<T = Record<string, unknown>>(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
  ): Promise<T> {
    const id = this.nextId++;
    const promise = new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
    });
    this.input.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    return promise;
  }

  on(listener: (message: Message) => void): void {
    this.listeners.push(listener);
  }

  waitFor(method: string): Promise<Message> {
    return new Promise((resolve) => this.on((m) => m.method === method && resolve(m)));
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`chromium: ${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

/** The protocol events that mean the page went wrong, as a line of text. */
interface EventParams {
  type?: string;
  args?: Array<{ value?: unknown }>;
  exceptionDetails?: { text?: string; exception?: { description?: string } };
  entry?: { level?: string; text?: string; url?: string };
}

function pageError(message: Message): string | null {
  const p = (message.params ?? {}) as EventParams;
  if (message.method === "Runtime.consoleAPICalled" && (p.type === "error" || p.type === "assert"))
    return `console.${p.type}: ${JSON.stringify(p.args?.map((a) => a.value))}`;
  if (message.method === "Runtime.exceptionThrown")
    return `exception: ${p.exceptionDetails?.text ?? ""} ${p.exceptionDetails?.exception?.description ?? ""}`;
  if (message.method === "Log.entryAdded" && p.entry?.level === "error")
    return `log: ${p.entry.text ?? ""} ${p.entry.url ?? ""}`;
  return null;
}

const MEASURE_PLOTS = `JSON.stringify([...document.querySelectorAll("figure.plot svg")].map((svg) => {
  const box = svg.getBoundingClientRect();
  const texts = [...svg.querySelectorAll("text")].map((t) => t.textContent ?? "");
  return { width: box.width, height: box.height, marks: svg.querySelectorAll("path, rect, line, circle, text").length, title: svg.querySelector(".role-title text")?.textContent ?? "", texts, points: svg.querySelectorAll(".mark-symbol.role-mark path").length };
}))`;

const MEASURE_SECTIONS = `JSON.stringify([...document.querySelectorAll("section")].map((s) => ({ id: s.id, top: s.getBoundingClientRect().top + window.scrollY })))`;

/**
 * Loads `file` at `width` pixels wide, waits for the load event, and saves a full-page PNG
 * screenshot (at most `maxHeight` pixels tall) to `screenshot`, and tiles of it beside it.
 */
export async function inspectPage(
  file: string,
  options: {
    screenshot: string;
    width?: number;
    maxHeight?: number;
    tileHeight?: number;
    timeoutMs?: number;
  },
): Promise<PageInspection> {
  const profile = await mkdtemp(join(tmpdir(), "vnetbench-chromium-"));
  const child = spawn(
    CHROMIUM,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
      `--user-data-dir=${profile}`,
      "--remote-debugging-pipe",
      "about:blank",
    ],
    // Its shared-memory files (--disable-dev-shm-usage puts them in TMPDIR) go with the profile.
    { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"], env: { ...process.env, TMPDIR: profile } },
  );
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const pipe = new Pipe(child.stdio[3] as Writable, child.stdio[4] as Readable);
  const errors: string[] = [];
  try {
    return await withTimeout(
      (async () => {
        const { targetId } = await pipe.send<{ targetId: string }>("Target.createTarget", {
          url: "about:blank",
        });
        const { sessionId } = await pipe.send<{ sessionId: string }>("Target.attachToTarget", {
          targetId,
          flatten: true,
        });
        pipe.on((m) => {
          if (m.sessionId === sessionId) {
            const error = pageError(m);
            if (error) errors.push(error);
          }
        });
        const send = <T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}) =>
          pipe.send<T>(method, params, sessionId);
        await Promise.all([send("Runtime.enable"), send("Log.enable"), send("Page.enable")]);
        const width = options.width ?? 1400;
        await send("Emulation.setDeviceMetricsOverride", {
          width,
          height: 1000,
          deviceScaleFactor: 1,
          mobile: false,
        });
        const loaded = pipe.waitFor("Page.loadEventFired");
        const navigated = performance.now();
        await send("Page.navigate", { url: pathToFileURL(file).href });
        await loaded;
        const evaluate = async <T>(expression: string): Promise<T> =>
          (await send<{ result: { value: T } }>("Runtime.evaluate", { expression, returnByValue: true }))
            .result.value;
        // Reading the height forces the layout the load event does not wait for.
        await evaluate<number>("document.documentElement.scrollHeight");
        const loadMs = performance.now() - navigated;
        const title = await evaluate<string>("document.title");
        const plots = JSON.parse(await evaluate<string>(MEASURE_PLOTS)) as PlotBox[];
        const sections = JSON.parse(await evaluate<string>(MEASURE_SECTIONS)) as SectionBox[];
        const preformatted = JSON.parse(
          await evaluate<string>(
            'JSON.stringify([...document.querySelectorAll("pre")].map((p) => p.textContent))',
          ),
        ) as string[];
        const resources = JSON.parse(
          await evaluate<string>(
            'JSON.stringify(performance.getEntriesByType("resource").map((e) => e.name))',
          ),
        ) as string[];
        const height = Math.min(
          options.maxHeight ?? 12000,
          Math.ceil(await evaluate<number>("document.documentElement.scrollHeight")),
        );
        await send("Emulation.setDeviceMetricsOverride", {
          width,
          height,
          deviceScaleFactor: 1,
          mobile: false,
        });
        const { data } = await send<{ data: string }>("Page.captureScreenshot", { format: "png" });
        await writeFile(options.screenshot, Buffer.from(data, "base64"));
        const tiles: string[] = [];
        const tileHeight = options.tileHeight ?? 1800;
        for (let y = 0; y < height; y += tileHeight) {
          const clip = { x: 0, y, width, height: Math.min(tileHeight, height - y), scale: 1 };
          const tile = await send<{ data: string }>("Page.captureScreenshot", { format: "png", clip });
          const path = options.screenshot.replace(/\.png$/, "") + `-${tiles.length + 1}.png`;
          await writeFile(path, Buffer.from(tile.data, "base64"));
          tiles.push(path);
        }
        await pipe.send("Browser.close").catch(() => {});
        return {
          title,
          errors,
          resources,
          plots,
          sections,
          preformatted,
          screenshot: options.screenshot,
          tiles,
          loadMs,
        };
      })(),
      options.timeoutMs ?? 60_000,
      `inspecting ${file}`,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}\nchromium stderr (tail):\n${stderr}`);
  } finally {
    await stop(child);
    // Chromium's helper processes may still be writing the profile for a moment after it exits.
    await rm(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  }
}
