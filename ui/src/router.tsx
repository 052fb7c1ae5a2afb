/**
 * Client-side routes: every page has a URL that can be shared and reloaded
 * (the server answers unknown paths with index.html). A route is a pattern
 * such as "/runs/:runId"; a page reads its parameters and its query string
 * from here, and navigates with <Link> or navigate(). Small on purpose: the
 * UI needs paths, parameters and the query string, nothing more.
 */
import { type AnchorHTMLAttributes, type ReactNode, createContext, useContext, useEffect, useMemo, useState } from "react";

export interface Location {
  path: string;
  query: URLSearchParams;
}

const listeners = new Set<() => void>();

function current(): Location {
  return { path: window.location.pathname, query: new URLSearchParams(window.location.search) };
}

/** Goes to `to` ("/runs/abc?x=1"); `replace` keeps the history entry (for filters typed into a box). */
export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  for (const l of listeners) l();
}

/** The current location, re-rendering on navigation. */
export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const update = () => setLoc(current());
    listeners.add(update);
    window.addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      window.removeEventListener("popstate", update);
    };
  }, []);
  return loc;
}

/** Sets (or with undefined, removes) query parameters of the current URL, replacing the history entry. */
export function setQuery(values: Record<string, string | undefined>): void {
  const query = new URLSearchParams(window.location.search);
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined || v === "") query.delete(k);
    else query.set(k, v);
  }
  const qs = query.toString();
  navigate(`${window.location.pathname}${qs ? `?${qs}` : ""}`, { replace: true });
}

/** "/runs/:runId" against "/runs/r_1" → { runId: "r_1" }, or undefined when it does not match. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split("/").filter(Boolean);
  const got = path.split("/").filter(Boolean);
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string;
    const g = got[i] as string;
    if (w.startsWith(":")) params[w.slice(1)] = decodeURIComponent(g);
    else if (w !== g) return undefined;
  }
  return params;
}

export interface Route {
  path: string;
  render: (params: Record<string, string>) => ReactNode;
}

const ParamsContext = createContext<Record<string, string>>({});

/** The first route matching the current path, or `fallback`. */
export function Routes({ routes, fallback }: { routes: Route[]; fallback: ReactNode }) {
  const { path } = useLocation();
  const found = useMemo(() => {
    for (const r of routes) {
      const params = matchPath(r.path, path);
      if (params) return { route: r, params };
    }
    return undefined;
  }, [routes, path]);
  if (!found) return <>{fallback}</>;
  return <ParamsContext.Provider value={found.params}>{found.route.render(found.params)}</ParamsContext.Provider>;
}

export function useParams(): Record<string, string> {
  return useContext(ParamsContext);
}

/** A path with its parts encoded: path`/runs/${id}`. */
export function path(strings: TemplateStringsArray, ...parts: (string | number)[]): string {
  return strings.reduce((out, s, i) => out + s + (i < parts.length ? encodeURIComponent(String(parts[i])) : ""), "");
}

/** An <a> that navigates without reloading (ctrl/cmd-click still opens a new tab). */
export function Link({ to, children, ...rest }: { to: string; children: ReactNode } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  return (
    <a
      href={to}
      {...rest}
      onClick={(e) => {
        rest.onClick?.(e);
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}
