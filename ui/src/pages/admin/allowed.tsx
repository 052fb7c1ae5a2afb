/**
 * Like api/permissions.ts's usePermissions, but also says whether the answer
 * is known yet: a page must not call a method the principal may not use (a
 * refused call is a red console line and an error box), so it waits for the
 * answer before reading what only some roles may read. A local version: the
 * shared hook answers "false until known", which cannot tell "not yet" from "no".
 */
import type { DescService } from "@bufbuild/protobuf";
import { createConnectQueryKey, useQuery } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import { AccessService } from "@gen/traintrack/v1/access_pb.js";
import type { ButtonHTMLAttributes, ReactNode } from "react";
import { methodName } from "../../api/permissions.js";

type Method = { parent: { typeName: string }; name: string };

export interface Allowed {
  known: boolean;
  may(m: Method): boolean;
}

export function useAllowed(methods: Method[], project = ""): Allowed {
  const names = methods.map(methodName);
  const { data } = useQuery(AccessService.method.testPermissions, { project, methods: names }, { staleTime: 60_000 });
  const allowed = new Set(names.filter((_, i) => data?.permissions[i]?.allowed === true));
  return { known: data !== undefined, may: (m) => allowed.has(methodName(m)) };
}

/** The title of a disabled write button: why it is greyed out. */
export function whyNot(known: boolean, role = "owner"): string {
  return known ? `Your role does not allow this: it needs the ${role} role on the organisation.` : "Checking what your role allows…";
}

/** A button for a write: greyed out, with a title saying why, when the principal may not do it. */
export function WriteButton({
  allowed,
  why,
  children,
  ...rest
}: { allowed: boolean; why: string; children: ReactNode } & ButtonHTMLAttributes<HTMLButtonElement>) {
  return (
    <button type="button" {...rest} disabled={!allowed || rest.disabled} title={allowed ? rest.title : why} data-write="">
      {children}
    </button>
  );
}

/** Refreshes every cached answer of `service` after a write changed what it returns. */
export function useInvalidate(): (service: DescService) => Promise<void> {
  const client = useQueryClient();
  return (service) => client.invalidateQueries({ queryKey: createConnectQueryKey({ schema: service, cardinality: undefined }) });
}
