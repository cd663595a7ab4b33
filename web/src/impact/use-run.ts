import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client.ts";
import type { Summary } from "../api/types.ts";

/** A finished run's summary (counts only); it never changes, so it is fetched once. */
export function useRunSummary(incidentId: string, runId: string | undefined) {
  return useQuery({
    queryKey: ["incident", incidentId, "run", runId, "summary"],
    queryFn: () => api.get<Summary>(`/incidents/${incidentId}/analyses/${runId}/summary`),
    enabled: runId !== undefined,
    staleTime: Number.POSITIVE_INFINITY,
  });
}
