import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client.ts";
import type { AnalysisRun } from "../api/types.ts";

/** The incident's analysis runs, newest first (as the server lists them). */
export function useAnalysisRuns(incidentId: string) {
  return useQuery({
    queryKey: ["incident", incidentId, "analyses"],
    queryFn: () => api.get<AnalysisRun[]>(`/incidents/${incidentId}/analyses`),
    // While a run is queued or running, poll so the pages pick up its result without a reload.
    refetchInterval: (q) =>
      q.state.data?.some((r) => r.status === "queued" || r.status === "running") ? 3000 : false,
  });
}

/**
 * The newest analysis run that succeeded: `run` is undefined while loading, null when no run has
 * succeeded yet. `runs` is every run (newest first), `isLoading` and `error` come from the query.
 */
export function useLatestRun(incidentId: string): {
  run: AnalysisRun | null | undefined;
  runs: AnalysisRun[] | undefined;
  isLoading: boolean;
  error: unknown;
} {
  const runs = useAnalysisRuns(incidentId);
  const run = runs.data
    ? ([...runs.data]
        .filter((r) => r.status === "succeeded")
        .sort((a, b) => latestTime(b).localeCompare(latestTime(a)))[0] ?? null)
    : undefined;
  return { run, runs: runs.data, isLoading: runs.isLoading, error: runs.error };
}

const latestTime = (r: AnalysisRun) => r.created_at;
