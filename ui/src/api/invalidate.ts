import type { DescService } from "@bufbuild/protobuf";
import { createConnectQueryKey } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";

/** Refreshes every cached answer of `service` after a write changed what it returns. */
export function useInvalidate(): (service: DescService) => Promise<void> {
  const client = useQueryClient();
  return (service) => client.invalidateQueries({ queryKey: createConnectQueryKey({ schema: service, cardinality: undefined }) });
}
