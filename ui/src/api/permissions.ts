/**
 * What the signed-in principal may do, for greying out what it may not:
 * one TestPermissions call per scope (a project, or the organisation) for the
 * methods a page offers. The server decides every call anyway; this only
 * keeps buttons honest.
 */
import { useQuery } from "@connectrpc/connect-query";
import { AccessService } from "@gen/traintrack/v1/access_pb.js";

type Method = { parent: { typeName: string }; name: string };

export function methodName(m: Method): string {
  return `${m.parent.typeName}/${m.name}`;
}

/** allowed(method) for `methods` on `project` ("" = the organisation); false until known. */
export function usePermissions(methods: Method[], project = ""): (m: Method) => boolean {
  const names = methods.map(methodName);
  const { data } = useQuery(AccessService.method.testPermissions, { project, methods: names }, { staleTime: 60_000 });
  // Answers come one per requested method, in order.
  const allowed = new Set(names.filter((_, i) => data?.permissions[i]?.allowed === true));
  return (m) => allowed.has(methodName(m));
}
