/**
 * What the signed-in principal may do, for greying out what it may not: one
 * TestPermissions call per scope (a project, or the organisation) for the
 * methods a page offers. The server decides every call anyway; this keeps
 * buttons honest, and lets a page wait for the answer before reading what
 * only some roles may read (a refused call is an error box and a red console
 * line), which is why it tells "not known yet" from "no".
 */
import { useQuery } from "@connectrpc/connect-query";
import { AccessService } from "@gen/traintrack/v1/access_pb.js";

type Method = { parent: { typeName: string }; name: string };

export function methodName(m: Method): string {
  return `${m.parent.typeName}/${m.name}`;
}

export interface Allowed {
  /** False until the server has answered. */
  known: boolean;
  may(m: Method): boolean;
}

export function useAllowed(methods: Method[], project = ""): Allowed {
  const names = methods.map(methodName);
  const { data } = useQuery(AccessService.method.testPermissions, { project, methods: names }, { staleTime: 60_000 });
  // Answers come one per requested method, in order.
  const allowed = new Set(names.filter((_, i) => data?.permissions[i]?.allowed === true));
  return { known: data !== undefined, may: (m) => allowed.has(methodName(m)) };
}
