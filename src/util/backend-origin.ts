/**
 * Which backing service an error came from. The database and object-storage
 * layers mark the errors they raise, so that the wire layer can tell a client
 * which one is unreachable: a bare ECONNREFUSED or "socket hang up" does not
 * say. The mark is a hidden property, so the error itself (its class, code and
 * message, which callers inspect) is unchanged.
 */
export type Backend = "database" | "object storage";

const ORIGIN = Symbol("traintrack.backend");

/** Marks `error` (if an object, and not already marked) as raised by `backend`; returns it. */
export function markOrigin<E>(error: E, backend: Backend): E {
  if (typeof error === "object" && error !== null && !Object.prototype.hasOwnProperty.call(error, ORIGIN)) {
    try {
      Object.defineProperty(error, ORIGIN, { value: backend, enumerable: false });
    } catch {
      // A frozen error cannot carry the mark: it is then reported as from an unnamed backend.
    }
  }
  return error;
}

/** The backend that raised `error` or one of its causes, if any marked it. */
export function originOf(error: unknown): Backend | undefined {
  for (let e: unknown = error, depth = 0; typeof e === "object" && e !== null && depth < 8; depth++) {
    const mark = (e as { [ORIGIN]?: Backend })[ORIGIN];
    if (mark) return mark;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
