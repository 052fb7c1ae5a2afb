/**
 * A model card's Markdown, rendered as React elements from a safe subset:
 * headings, paragraphs, lists, fenced and inline code, emphasis, and links
 * whose address is http(s). Nothing is ever given to innerHTML: HTML in the
 * text (a <script>, an <img onerror>) stays text, and a javascript: link
 * stays plain text.
 */
import type { ReactNode } from "react";
import { parseBlocks, safeHref } from "./markdown-parse.js";

// `code`, [text](url), **strong**, *em* / _em_: the first match wins, left to right.
const INLINE = /`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)|\*\*([^*]+)\*\*|__([^_]+)__|\*([^*\s][^*]*)\*|\b_([^_\s][^_]*)_\b/g;

function inline(text: string, key = "i"): ReactNode[] {
  const out: ReactNode[] = [];
  let at = 0;
  let n = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > at) out.push(text.slice(at, m.index));
    const k = `${key}-${n++}`;
    if (m[1] !== undefined) out.push(<code key={k}>{m[1]}</code>);
    else if (m[2] !== undefined) {
      const href = safeHref(m[3] ?? "");
      out.push(
        href ? (
          <a key={k} href={href} target="_blank" rel="noopener noreferrer nofollow">
            {inline(m[2], k)}
          </a>
        ) : (
          m[0]
        ),
      );
    } else if (m[4] !== undefined || m[5] !== undefined) out.push(<strong key={k}>{inline(m[4] ?? m[5] ?? "", k)}</strong>);
    else out.push(<em key={k}>{inline(m[6] ?? m[7] ?? "", k)}</em>);
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

export function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      {parseBlocks(text).map((b, i) => {
        switch (b.kind) {
          case "heading": {
            // A card's "#" sits under the page's own h1 and the section's h2.
            const Tag = (["h3", "h3", "h4", "h5", "h6", "h6"] as const)[b.level - 1] ?? "h6";
            return <Tag key={i}>{inline(b.text)}</Tag>;
          }
          case "paragraph":
            return <p key={i}>{inline(b.text)}</p>;
          case "list": {
            const items = b.items.map((t, j) => <li key={j}>{inline(t)}</li>);
            return b.ordered ? <ol key={i}>{items}</ol> : <ul key={i}>{items}</ul>;
          }
          case "code":
            return (
              <pre key={i} className="code" data-lang={b.lang || undefined}>
                <code>{b.text}</code>
              </pre>
            );
        }
      })}
    </div>
  );
}
