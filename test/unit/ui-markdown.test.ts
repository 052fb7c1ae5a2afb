/** The model card's Markdown subset: blocks as a reader expects them, and only http(s) addresses as links. */
import { describe, expect, it } from "vitest";
import { parseBlocks, safeHref } from "../../ui/src/pages/models/markdown-parse.js";

describe("model card markdown", () => {
  it("splits headings, paragraphs, lists and fenced code", () => {
    const blocks = parseBlocks("# Title\n\nline one\nline two\n\n- a\n- b\n  more of b\n1. one\n2) two\n\n```py\nx = 1\n\n# not a heading\n```\n<script>alert(1)</script>");
    expect(blocks).toEqual([
      { kind: "heading", level: 1, text: "Title" },
      { kind: "paragraph", text: "line one line two" },
      { kind: "list", ordered: false, items: ["a", "b more of b"] },
      { kind: "list", ordered: true, items: ["one", "two"] },
      { kind: "code", lang: "py", text: "x = 1\n\n# not a heading" },
      { kind: "paragraph", text: "<script>alert(1)</script>" },
    ]);
  });

  it("links only http and https addresses", () => {
    expect(safeHref("https://example.com/a?b=1")).toBe("https://example.com/a?b=1");
    expect(safeHref("http://example.com")).toBe("http://example.com/");
    for (const bad of ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>", "/relative", "vbscript:x", "  javascript:alert(1)"]) expect(safeHref(bad)).toBeUndefined();
  });
});
