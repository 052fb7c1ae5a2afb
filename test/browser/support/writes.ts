/**
 * Write buttons (data-write, from ui/src/components/write-button.tsx) start greyed out
 * with the title "Checking what your role allows…" until TestPermissions
 * answers: a test waits for that answer before asserting what a principal
 * may do, so that "disabled" is never only "not known yet".
 */
import type { Page } from "playwright-core";
import { expect } from "vitest";

export interface WriteButtonState {
  text: string;
  disabled: boolean;
  title: string;
}

/** Waits until the page shows write buttons whose permission is known, and returns them. */
export async function everyWriteSettled(page: Page): Promise<WriteButtonState[]> {
  // Polled from outside: the UI's Content-Security-Policy forbids the string evaluation waitForFunction uses.
  const read = () =>
    page.locator("button[data-write]").evaluateAll((bs) => bs.map((b) => ({ text: b.textContent ?? "", disabled: b.hasAttribute("disabled"), title: b.getAttribute("title") ?? "" })));
  await expect.poll(async () => {
    const buttons = await read();
    return buttons.length > 0 && buttons.every((b) => !b.title.startsWith("Checking"));
  }).toBe(true);
  return read();
}
