/**
 * A run's colour: a hash of its id into a palette, so that a run keeps its
 * colour on every chart and page (the run page, the compare page, any order
 * of runs in the URL) without anything stored. Runs shown together whose
 * hashes collide are told apart (runColours): the set decides, not the order.
 */
const PALETTE = [
  "#2f5bd3", "#e8590c", "#2b8a3e", "#c2255c", "#7048e8", "#0b7285", "#d9480f", "#5c940d", "#a61e4d", "#1864ab",
  "#f08c00", "#087f5b", "#862e9c", "#c92a2a", "#364fc7", "#66a80f", "#e64980", "#495057", "#0c8599", "#b35c00",
];

/** FNV-1a over the id's UTF-16 code units: small, fast, well spread. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function runColour(runId: string): string {
  return PALETTE[hash(runId) % PALETTE.length] as string;
}

/**
 * Colours for runs shown together: each its own colour as long as there are
 * no more runs than colours. A run keeps its hashed colour unless a run
 * earlier in id order took it; then it takes the next free one. The same set
 * of runs gets the same colours in any order.
 */
export function runColours(runIds: readonly string[]): Map<string, string> {
  const colours = new Map<string, string>();
  const ids = [...new Set(runIds)].sort();
  const taken = new Set<number>();
  for (const id of ids) {
    let slot = hash(id) % PALETTE.length;
    if (ids.length <= PALETTE.length) while (taken.has(slot)) slot = (slot + 1) % PALETTE.length;
    taken.add(slot);
    colours.set(id, PALETTE[slot] as string);
  }
  return colours;
}

/** The colour at `alpha` (0..1), for the faint raw line under a smoothed one. */
export function withAlpha(hex: string, alpha: number): string {
  const a = Math.round(alpha * 255)
    .toString(16)
    .padStart(2, "0");
  return `${hex}${a}`;
}
