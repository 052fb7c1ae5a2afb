import { EventEmitter, on } from "node:events";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import {
  Health,
  HealthCheckResponse_ServingStatus as Status,
  HealthCheckResponseSchema,
  type HealthCheckResponse,
} from "../../gen/health/v1/health_pb.js";

export interface HealthServer {
  register(router: ConnectRouter): void;
  /** Flips every known service at once; `false` lets load balancers drain us before shutdown. */
  setServing(serving: boolean): void;
}

/**
 * grpc.health.v1.Health for `serviceNames` plus "" (the whole server), all SERVING until
 * `setServing(false)`. Check of an unknown name fails with NotFound, as the protocol specifies.
 */
export function createHealth(serviceNames: readonly string[]): HealthServer {
  const known = new Set(["", ...serviceNames]);
  let serving = true;
  const changes = new EventEmitter();
  // Every open Watch holds one listener; many watchers are normal, not a leak.
  changes.setMaxListeners(0);

  const statusOf = (service: string): Status =>
    !known.has(service) ? Status.SERVICE_UNKNOWN : serving ? Status.SERVING : Status.NOT_SERVING;
  const response = (status: Status): HealthCheckResponse => create(HealthCheckResponseSchema, { status });

  return {
    setServing(next) {
      if (next === serving) return;
      serving = next;
      changes.emit("change");
    },
    register(router) {
      router.service(Health, {
        check({ service }) {
          if (!known.has(service)) {
            throw new ConnectError(`service "${service}" is not served here`, Code.NotFound);
          }
          return response(statusOf(service));
        },
        // Unknown names get SERVICE_UNKNOWN instead of an error: the protocol lets a watcher
        // wait for a service that may appear later.
        async *watch({ service }, ctx) {
          // Subscribe before the first send, so that a change in between is not lost; the
          // signal ends the subscription when the client goes away.
          const events = on(changes, "change", { signal: ctx.signal });
          let last = statusOf(service);
          try {
            yield response(last);
            for await (const _ of events) {
              const now = statusOf(service);
              if (now === last) continue;
              last = now;
              yield response(now);
            }
          } catch (e) {
            if (!ctx.signal.aborted) throw e;
          } finally {
            await events.return?.();
          }
        },
        list() {
          const statuses = Object.fromEntries([...known].map((name) => [name, response(statusOf(name))]));
          return { statuses };
        },
      });
    },
  };
}
