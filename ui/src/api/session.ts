/**
 * The browser session: an API key is exchanged once for an HttpOnly,
 * SameSite=Strict cookie (the key itself is never stored in the browser),
 * and every call then carries the session's CSRF token in `x-csrf-token`.
 * These three plain-HTTP endpoints are the server's /api/v1/session; every
 * other call goes through the generated Connect clients.
 */
export interface Session {
  signedIn: true;
  csrfToken: string;
  orgId: string;
  userId: string;
  expiresAt: string;
}

const SESSION_PATH = "/api/v1/session";

async function errorOf(res: Response): Promise<Error> {
  const body = (await res.json().catch(() => undefined)) as { error?: string } | undefined;
  return new Error(body?.error ?? `the server answered ${res.status} ${res.statusText}`);
}

/** The current session, or undefined when signed out (or the session ended). */
export async function currentSession(): Promise<Session | undefined> {
  const res = await fetch(SESSION_PATH, { credentials: "same-origin" });
  if (!res.ok) throw await errorOf(res);
  const body = (await res.json()) as Session | { signedIn: false };
  return body.signedIn ? body : undefined;
}

export async function signIn(apiKey: string): Promise<Session> {
  const res = await fetch(SESSION_PATH, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ apiKey }),
  });
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as Session;
}

export async function signOut(session: Session): Promise<void> {
  const res = await fetch(SESSION_PATH, { method: "DELETE", credentials: "same-origin", headers: { "x-csrf-token": session.csrfToken } });
  if (!res.ok && res.status !== 401) throw await errorOf(res);
}
