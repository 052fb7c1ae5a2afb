/**
 * Paging by the server's page tokens, kept in the URL (?page=…) so that a
 * page can be shared and the browser's Back goes to the previous one.
 */
import { setQuery, useLocation } from "../router.js";
import { navigate } from "../router.js";

export const PAGE_SIZE = 50;

/** The page token of the current URL ("" on the first page). */
export function usePageToken(param = "page"): string {
  return useLocation().query.get(param) ?? "";
}

export function Pager({ nextPageToken, param = "page" }: { nextPageToken: string; param?: string }) {
  const token = usePageToken(param);
  if (!token && !nextPageToken) return null;
  const go = (value: string | undefined) => {
    const query = new URLSearchParams(window.location.search);
    if (value) query.set(param, value);
    else query.delete(param);
    const qs = query.toString();
    navigate(`${window.location.pathname}${qs ? `?${qs}` : ""}`);
  };
  return (
    <div className="pager">
      {token ? (
        <button type="button" onClick={() => go(undefined)}>
          ⇤ First page
        </button>
      ) : null}
      {nextPageToken ? (
        <button type="button" onClick={() => go(nextPageToken)}>
          Next page →
        </button>
      ) : null}
    </div>
  );
}

/** A search box whose text lives in the URL (?q=…), so that a filtered list can be shared. */
export function SearchBox({ placeholder, param = "q" }: { placeholder: string; param?: string }) {
  const value = useLocation().query.get(param) ?? "";
  return (
    <input
      className="search"
      type="search"
      placeholder={placeholder}
      defaultValue={value}
      onChange={(e) => setQuery({ [param]: e.target.value, page: undefined })}
    />
  );
}
