/**
 * The UI's layout by layers (for graphs too big for elk): each node in its
 * layer's column, the server's layer when given and the longest path when not,
 * no two boxes of a column overlapping, and a node near its upstream nodes.
 */
import { describe, expect, it } from "vitest";
import { layeredLayout, longestPathLayers } from "../../ui/src/graphs/layered-layout.js";

const box = (id: string, layer?: number) => ({ id, width: 100, height: 40, layer });

describe("layout by layers", () => {
  it("computes layers as the longest path from a source, ignoring unknown and self edges", () => {
    const layers = longestPathLayers([box("a"), box("b"), box("c"), box("d")], [
      { from: "a", to: "b" },
      { from: "b", to: "c" },
      { from: "a", to: "c" },
      { from: "c", to: "c" },
      { from: "x", to: "d" },
    ]);
    expect(Object.fromEntries(layers)).toEqual({ a: 0, b: 1, c: 2, d: 0 });
  });

  it("puts each layer in a column, boxes apart, and orders a layer by its upstream nodes", () => {
    const nodes = [box("a", 0), box("b", 0), box("c", 0), box("z", 1), box("y", 1), box("x", 1)];
    const edges = [
      { from: "a", to: "x" },
      { from: "b", to: "y" },
      { from: "c", to: "z" },
    ];
    const p = layeredLayout(nodes, edges);
    expect(new Set(["a", "b", "c"].map((id) => p[id]?.x))).toEqual(new Set([0]));
    expect(new Set(["x", "y", "z"].map((id) => p[id]?.x)).size).toBe(1);
    expect(p.x?.x).toBeGreaterThan(100);
    // x follows a, y follows b, z follows c: no crossing.
    const order = ["x", "y", "z"].sort((m, n) => (p[m]?.y ?? 0) - (p[n]?.y ?? 0));
    expect(order).toEqual(["x", "y", "z"]);
    const ys = ["a", "b", "c"].map((id) => p[id]?.y ?? 0).sort((m, n) => m - n);
    expect((ys[1] ?? 0) - (ys[0] ?? 0)).toBeGreaterThanOrEqual(40);
  });

  it("places 5,000 nodes", () => {
    const nodes = Array.from({ length: 5000 }, (_, i) => box(`n${i}`, Math.floor(i / 250)));
    const edges = nodes.slice(250).map((n, i) => ({ from: `n${i}`, to: n.id }));
    expect(Object.keys(layeredLayout(nodes, edges))).toHaveLength(5000);
  });
});
