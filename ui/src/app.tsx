/**
 * The UI's root: find out whether a session exists, then either the sign-in
 * page or the signed-in shell (navigation and the page of the current URL),
 * with one Connect transport and one query cache for the whole session.
 */
import { TransportProvider } from "@connectrpc/connect-query";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useState } from "react";
import { type Session, currentSession } from "./api/session.js";
import { createTransport } from "./api/transport.js";
import { ErrorBox } from "./components/feedback.js";
import { Shell } from "./components/shell.js";
import { SignInPage } from "./pages/sign-in/sign-in-page.js";
import { routes } from "./routes.js";
import { Routes } from "./router.js";
import { NotFound } from "./components/feedback.js";

type State = { kind: "loading" } | { kind: "signedOut"; reason?: string } | { kind: "signedIn"; session: Session } | { kind: "error"; error: unknown };

export function App() {
  const [state, setState] = useState<State>({ kind: "loading" });
  const signedOut = useCallback((reason?: string) => setState({ kind: "signedOut", reason }), []);

  useEffect(() => {
    currentSession().then(
      (session) => setState(session ? { kind: "signedIn", session } : { kind: "signedOut" }),
      (error: unknown) => setState({ kind: "error", error }),
    );
  }, []);

  switch (state.kind) {
    case "loading":
      return null;
    case "error":
      return <ErrorBox error={state.error} what="reach the Traintrack server" />;
    case "signedOut":
      return <SignInPage reason={state.reason} onSignedIn={(session) => setState({ kind: "signedIn", session })} />;
    case "signedIn":
      return <SignedIn session={state.session} onSignedOut={signedOut} />;
  }
}

function SignedIn({ session, onSignedOut }: { session: Session; onSignedOut: (reason?: string) => void }) {
  const transport = useMemo(
    () => createTransport(session.csrfToken, () => onSignedOut("Your session has ended (signed out, key revoked or user deactivated). Sign in again.")),
    [session, onSignedOut],
  );
  const queryClient = useMemo(
    () =>
      new QueryClient({
        defaultOptions: {
          // Pages show cached data at once and refresh it behind the scenes.
          queries: { staleTime: 10_000, retry: 1, refetchOnWindowFocus: false },
        },
      }),
    [],
  );
  return (
    <TransportProvider transport={transport}>
      <QueryClientProvider client={queryClient}>
        <Shell session={session} onSignedOut={() => onSignedOut()}>
          <Routes routes={routes} fallback={<NotFound />} />
        </Shell>
      </QueryClientProvider>
    </TransportProvider>
  );
}
