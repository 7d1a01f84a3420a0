// Vega-Lite spec → static SVG, server-side (Vega's headless view), so a report needs no script
// and no network to display.

import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** Renders a spec to an SVG document string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Makes an SVG's ids (clip paths, gradients) unique to one plot: several SVGs inlined in one HTML
 * page share one id namespace, and Vega numbers its ids from 1 in every rendering.
 */
export function scopeSvgIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, `id="${prefix}-$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${prefix}-$1"`);
}
