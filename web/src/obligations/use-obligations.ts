import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client.ts";
import type { Decision, Filing, ObligationNotice, User } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";

/** The obligations of a succeeded run, with the incident's clocks, answers and filings as they are now. */
export function useObligations(incidentId: string, runId: string | null | undefined) {
  return useQuery({
    queryKey: ["incident", incidentId, "obligations", runId],
    queryFn: () => api.get<ObligationNotice[]>(`/incidents/${incidentId}/analyses/${runId}/obligations`),
    enabled: !!runId,
  });
}

export function useDecisions(incidentId: string) {
  return useQuery({
    queryKey: ["incident", incidentId, "decisions"],
    queryFn: () => api.get<Decision[]>(`/incidents/${incidentId}/decisions`),
  });
}

export function useFilings(incidentId: string) {
  return useQuery({
    queryKey: ["incident", incidentId, "filings"],
    queryFn: () => api.get<Filing[]>(`/incidents/${incidentId}/filings`),
  });
}

/** A notice is open until it is filed; notices that are not required have no deadline to keep. */
export const isOpen = (o: ObligationNotice) => o.decision !== "not_required" && !o.filed;

/** Open notices with a fixed deadline, soonest first. */
export function openDeadlines(obligations: readonly ObligationNotice[]): ObligationNotice[] {
  return obligations
    .filter((o) => isOpen(o) && o.deadline)
    .sort((a, b) => new Date(a.deadline ?? 0).getTime() - new Date(b.deadline ?? 0).getTime());
}

export const DECISION_LABELS: Record<ObligationNotice["decision"], string> = {
  required: "Required",
  not_required: "Not required",
  judgment: "Needs judgment",
};

export const AUDIENCE_LABELS: Record<string, string> = {
  regulator: "the regulator",
  individuals: "affected individuals",
  other: "others",
};

export const audienceLabel = (audience: string) => AUDIENCE_LABELS[audience] ?? audience;

/** The decision log's subject for a notice: how the engine reads a judgment answer. */
export const subjectOf = (o: Pick<ObligationNotice, "regime" | "audience">) => `${o.regime}:${o.audience}`;

/**
 * People as the server records them ("user:<id>", "token:<id>", "cli", "system") made readable:
 * the signed-in user by name, everyone by name for admins (who can list accounts).
 */
export function useActorName(): (label: string | null | undefined) => string {
  const { user, can } = useSession();
  const users = useQuery({
    queryKey: ["users"],
    queryFn: () => api.get<User[]>("/users"),
    enabled: can("admin"),
    staleTime: 60_000,
  });
  return (label) => {
    if (!label) return "unknown";
    const userId = /^user:(.+)$/.exec(label)?.[1];
    if (!userId) return label;
    if (userId === user.id) return `you (${user.display_name || user.email})`;
    const u = users.data?.find((x) => x.id === userId);
    return u ? u.display_name || u.email : `a user (${userId.slice(0, 8)})`;
  };
}
