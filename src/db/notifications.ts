/**
 * PostgreSQL LISTEN/NOTIFY, for news every replica must hear at once (a key
 * revoked, a user deactivated). A NOTIFY sent in a transaction is delivered
 * when it commits. A listener that loses its connection may miss messages: it
 * reports itself not live until it has listened again, and whoever relies on
 * it must then assume anything changed.
 */
import type { PGlite } from "@electric-sql/pglite";
import pg from "pg";

export interface Subscription {
  /** Whether messages are being received now; while false, some may be missed. */
  readonly live: boolean;
  close(): Promise<void>;
}

export interface Notifications {
  subscribe(channel: string, onMessage: (payload: string) => void, onLiveChange: (live: boolean) => void): Promise<Subscription>;
}

/** PGlite runs in this process: every notifying transaction is ours, and nothing is ever missed. */
export function pgliteNotifications(pglite: PGlite): Notifications {
  return {
    async subscribe(channel, onMessage) {
      const unlisten = await pglite.listen(channel, onMessage);
      return { live: true, close: () => unlisten() };
    },
  };
}

const RETRY_MS = 1000;

/** A dedicated connection per subscription, reconnecting (every second) after it is lost. */
export function postgresNotifications(url: string, log: (message: string, error?: unknown) => void): Notifications {
  return {
    async subscribe(channel, onMessage, onLiveChange) {
      let client: pg.Client | undefined;
      let live = false;
      let closed = false;
      let retry: NodeJS.Timeout | undefined;
      const setLive = (value: boolean) => {
        if (live === value) return;
        live = value;
        onLiveChange(value);
      };
      const lost = (error?: unknown) => {
        if (closed) return;
        if (live) log("database notifications lost; caches are bypassed until they are back", error);
        setLive(false);
        client?.removeAllListeners();
        client?.on("error", () => undefined);
        void client?.end().catch(() => undefined);
        client = undefined;
        retry ??= setTimeout(() => {
          retry = undefined;
          void connect();
        }, RETRY_MS);
      };
      const connect = async () => {
        const c = new pg.Client({ connectionString: url, application_name: "traintrack-listen", keepAlive: true });
        client = c;
        c.on("error", lost);
        c.on("end", () => lost());
        c.on("notification", (n) => {
          if (n.channel === channel) onMessage(n.payload ?? "");
        });
        try {
          await c.connect();
          await c.query(`listen ${pg.escapeIdentifier(channel)}`);
          if (client === c && !closed) setLive(true);
        } catch (error) {
          if (client === c) lost(error);
        }
      };
      await connect();
      return {
        get live() {
          return live;
        },
        async close() {
          closed = true;
          clearTimeout(retry);
          setLive(false);
          await client?.end().catch(() => undefined);
        },
      };
    },
  };
}
