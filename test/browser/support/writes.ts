/**
 * Write buttons (data-write, from pages/admin/allowed.tsx) start greyed out
 * with the title "Checking what your role allows…" until TestPermissions
 * answers: a test waits for that answer before asserting what a principal
 * may do, so that "disabled" is never only "not known yet".
 */
import type { Page } from "playwright-core";

export interface WriteButtonState {
  text: string;
  disabled: boolean;
  title: string;
}

/** Waits until the page shows write buttons whose permission is known, and returns them. */
export async function everyWriteSettled(page: Page): Promise<WriteButtonState[]> {
  // Runs in the page (the tests' own tsconfig has no DOM types, hence a string).
  await page.waitForFunction(`(() => {
    const buttons = [...document.querySelectorAll("button[data-write]")];
    return buttons.length > 0 && buttons.every((b) => !b.title.startsWith("Checking"));
  })()`);
  return page.locator("button[data-write]").evaluateAll((bs) =>
    bs.map((b) => ({ text: b.textContent ?? "", disabled: b.hasAttribute("disabled"), title: b.getAttribute("title") ?? "" })),
  );
}
