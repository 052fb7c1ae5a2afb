/** The web UI session's cookie and CSRF header, as the session route sets them and the auth interceptor reads them. */

export const SESSION_COOKIE = "tt_session";
export const CSRF_HEADER = "x-csrf-token";

/** The session token in a Cookie header, or undefined. */
export function sessionTokenOf(cookieHeader: string | null | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/**
 * Set-Cookie for a session token. HttpOnly: page scripts never see it.
 * SameSite=Strict: other sites' pages cannot make the browser send it (the
 * CSRF token is the second guard). Secure when the server is reached over TLS.
 */
export function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeSeconds}${secure ? "; Secure" : ""}`;
}

/** Set-Cookie that makes the browser forget the session. */
export function clearedSessionCookie(secure: boolean): string {
  return sessionCookie("", 0, secure);
}
