/** Small hooks of the chart component: its width, whether it is on screen, uPlot loaded on first use. */
import { type RefObject, useEffect, useState } from "react";

type UplotModule = typeof import("./uplot-chart.js");
let loading: Promise<UplotModule> | undefined;

/** The uPlot module, loaded once, on the first chart (undefined until then). */
export function useUplot(): UplotModule | undefined {
  const [mod, setMod] = useState<UplotModule | undefined>();
  useEffect(() => {
    let live = true;
    loading ??= import("./uplot-chart.js");
    void loading.then((m) => live && setMod(m));
    return () => {
      live = false;
    };
  }, []);
  return mod;
}

/**
 * The element's width in CSS pixels, rounded down to 20 px: the server's
 * downsampling follows it, and a few pixels of resize should not re-fetch.
 */
export function useElementWidth(ref: RefObject<HTMLElement | null>): number {
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setWidth(Math.floor(el.clientWidth / 20) * 20);
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref]);
  return width;
}

/** Whether the element is on screen: live charts refresh only then. */
export function useOnScreen(ref: RefObject<HTMLElement | null>): boolean {
  const [on, setOn] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const io = new IntersectionObserver((entries) => setOn(entries.some((e) => e.isIntersecting)));
    io.observe(el);
    return () => io.disconnect();
  }, [ref]);
  return on;
}
