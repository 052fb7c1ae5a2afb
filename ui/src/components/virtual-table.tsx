/**
 * A table of many rows that only renders the rows in view (TanStack Virtual):
 * fixed row height, a header that stays put while the body scrolls (both
 * directions), fixed column widths, and headers that sort when clicked.
 * Rows are positioned absolutely, a row only re-renders when its data or the
 * columns change, and the elements of rows scrolled out are reused for rows
 * scrolled in, so scrolling through 10,000 rows stays at 60 fps. (Reuse means
 * a cell's own state, such as focus, stays with the slot: keep cells stateless.)
 *
 * The caller owns the data and the sort (it may sort on the server, or over
 * what it has loaded); `onNearEnd` says when the user nears the last rows, for
 * loading the next page.
 */
import { useVirtualizer } from "@tanstack/react-virtual";
import { type ReactNode, memo, useEffect, useRef } from "react";
import "./virtual-table.css";

export interface Column<T> {
  /** Unique among the columns; the value `Sort.column` refers to. */
  id: string;
  header: ReactNode;
  /** Width in CSS pixels. */
  width: number;
  render: (row: T, index: number) => ReactNode;
  sortable?: boolean;
  /** Numbers read right-aligned. */
  align?: "left" | "right";
  /** A tooltip for the header, e.g. the full key when it is cut. */
  title?: string;
}

export interface Sort {
  column: string;
  desc: boolean;
}

export interface VirtualTableProps<T> {
  rows: readonly T[];
  columns: readonly Column<T>[];
  rowKey: (row: T) => string;
  /** For screen readers and tests. */
  label: string;
  rowHeight?: number;
  /** The scrolling area's height (CSS), e.g. "70vh". */
  height?: string;
  sort?: Sort;
  /** Called with the next sort: ascending, then descending, then none. */
  onSort?: (next: Sort | undefined) => void;
  /** Called whenever the view moves while the last `nearEnd` rows (default 50) are in it: load the next page, once. */
  onNearEnd?: () => void;
  nearEnd?: number;
  rowClassName?: (row: T) => string | undefined;
}

export function VirtualTable<T>(props: VirtualTableProps<T>) {
  const { rows, columns, rowKey, label, rowHeight = 32, height = "70vh", sort, onSort, onNearEnd, nearEnd = 50, rowClassName } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => rowHeight,
    overscan: 12,
    getItemKey: (i) => rowKey(rows[i] as T),
  });
  const items = virtualizer.getVirtualItems();
  // As many slots as rows rendered at most so far: row i takes slot i % slots, so the row scrolled in
  // takes the slot of the row scrolled out. It only grows, so slots rarely change.
  const slots = useRef(0);
  slots.current = Math.max(slots.current, items.length);
  const width = columns.reduce((w, c) => w + c.width, 0);
  const lastShown = items.length ? (items[items.length - 1]?.index ?? 0) : -1;

  useEffect(() => {
    if (onNearEnd && rows.length > 0 && lastShown >= rows.length - nearEnd) onNearEnd();
  }, [onNearEnd, lastShown, rows.length, nearEnd]);

  return (
    <div className="vt" ref={scroller} style={{ height }} role="table" aria-label={label} aria-rowcount={rows.length + 1} data-rows={rows.length}>
      <div style={{ width, minWidth: "100%" }}>
        <div className="vt-head" role="row" style={{ height: rowHeight }}>
          {columns.map((c) => (
            <HeaderCell key={c.id} column={c} sort={sort} onSort={onSort} />
          ))}
        </div>
        <div className="vt-body" style={{ height: virtualizer.getTotalSize() }}>
          {items.map((item) => {
            const row = rows[item.index] as T;
            // Keyed by slot, not by row: a row scrolled out lends its elements to the row scrolled in, so a
            // fast scroll updates text instead of creating and styling new elements every frame.
            const key = item.index % slots.current;
            return <Row key={key} row={row} index={item.index} top={item.start} height={rowHeight} columns={columns} className={rowClassName?.(row)} />;
          })}
        </div>
      </div>
    </div>
  );
}

function HeaderCell<T>({ column, sort, onSort }: { column: Column<T>; sort?: Sort; onSort?: (next: Sort | undefined) => void }) {
  const active = sort?.column === column.id;
  const ariaSort = active ? (sort?.desc ? "descending" : "ascending") : "none";
  const style = { width: column.width };
  if (!column.sortable || !onSort) {
    return (
      <div className={column.align === "right" ? "vt-cell vt-th vt-num" : "vt-cell vt-th"} role="columnheader" style={style} title={column.title}>
        {column.header}
      </div>
    );
  }
  const next = (): Sort | undefined => (!active ? { column: column.id, desc: false } : sort?.desc ? undefined : { column: column.id, desc: true });
  return (
    <div className={column.align === "right" ? "vt-cell vt-th sortable vt-num" : "vt-cell vt-th sortable"} role="columnheader" aria-sort={ariaSort} style={style} title={column.title} data-column={column.id}>
      <button type="button" className="vt-sort" onClick={() => onSort(next())}>
        {column.header}
        <span className="vt-arrow" aria-hidden="true">
          {active ? (sort?.desc ? "▼" : "▲") : ""}
        </span>
      </button>
    </div>
  );
}

interface RowProps<T> {
  row: T;
  index: number;
  top: number;
  height: number;
  columns: readonly Column<T>[];
  className?: string;
}

// Memoised: while scrolling, rows already on screen keep their props and are not rendered again.
const Row = memo(function Row<T>({ row, index, top, height, columns, className }: RowProps<T>) {
  return (
    <div className={className ? `vt-row ${className}` : "vt-row"} role="row" aria-rowindex={index + 2} data-index={index} style={{ height, transform: `translateY(${top}px)` }}>
      {columns.map((c) => (
        <div key={c.id} className={c.align === "right" ? "vt-cell vt-num" : "vt-cell"} role="cell" style={{ width: c.width }}>
          {c.render(row, index)}
        </div>
      ))}
    </div>
  );
}) as <T>(props: RowProps<T>) => ReactNode;
