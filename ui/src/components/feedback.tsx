/**
 * What a page shows instead of its data: an error that says what went wrong
 * and what to do, an empty state that says what to do next, and a quiet
 * placeholder while the first answer is on its way.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { ReactNode } from "react";
import { Link } from "../router.js";

const ADVICE: Partial<Record<Code, string>> = {
  [Code.NotFound]: "It may have been deleted, or the link is wrong.",
  [Code.PermissionDenied]: "Your role does not allow this: ask an owner of the organisation for access.",
  [Code.Unauthenticated]: "Your session has ended: sign in again.",
  [Code.InvalidArgument]: "Check what you entered.",
  [Code.ResourceExhausted]: "Ask for less at once (a smaller page or range).",
  [Code.Unavailable]: "The server or its storage is not reachable right now: try again in a moment.",
  [Code.DeadlineExceeded]: "The server took too long: try again, or ask for less.",
};

export function ErrorBox({ error, what }: { error: unknown; what: string }) {
  const err = ConnectError.from(error);
  return (
    <div className="error" role="alert">
      <strong>Could not {what}.</strong> {err.rawMessage}
      {ADVICE[err.code] ? <div className="advice">{ADVICE[err.code]}</div> : null}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <strong>{title}</strong>
      {children ? <div>{children}</div> : null}
    </div>
  );
}

/** Stands in for content not loaded yet: the layout does not jump, nothing spins. */
export function Pending({ rows = 3 }: { rows?: number }) {
  return (
    <div className="pending" aria-busy="true">
      {Array.from({ length: rows }, (_, i) => (
        <div key={i} className="pending-row" />
      ))}
    </div>
  );
}

export function NotFound() {
  return (
    <Empty title="No such page.">
      <Link to="/">Go to the start page</Link>.
    </Empty>
  );
}

/** A query's three states in one place: pending, failed, or its data rendered. */
export function Loaded<T>({ query, what, children }: { query: { data?: T; error: unknown; isPending: boolean }; what: string; children: (data: T) => ReactNode }) {
  if (query.error) return <ErrorBox error={query.error} what={what} />;
  if (query.isPending || query.data === undefined) return <Pending />;
  return <>{children(query.data)}</>;
}
