import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client.ts";
import type { Campaign, User } from "../api/types.ts";
import { useSession } from "../auth/session.tsx";

/** The languages the notice templates ship in (README "What a notice says"). */
export const LOCALES = [
  ["en", "English"],
  ["es", "Spanish"],
  ["pt-BR", "Portuguese (Brazil)"],
  ["fr", "French"],
  ["de", "German"],
  ["it", "Italian"],
] as const;

export const AUDIENCE_HELP: Record<Campaign["audience"], string> = {
  users: "every affected person",
  admins: "each organisation's owners and admins, once, with every affected organisation they run",
};

export function useCampaigns(incidentId: string) {
  return useQuery({
    queryKey: ["incident", incidentId, "campaigns"],
    queryFn: () => api.get<Campaign[]>(`/incidents/${incidentId}/campaigns`),
  });
}

/** "a, b,c " → ["a", "b", "c"] */
export const splitList = (value: string) =>
  value
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * The audit label of a campaign's author or approver ("user:<id>") as a person: "you", an email
 * (admins can read the accounts), or a short id.
 */
export function useActorName(): (label: string | null) => string {
  const { user, can } = useSession();
  const users = useQuery({
    queryKey: ["users"],
    queryFn: () => api.get<User[]>("/users"),
    enabled: can("admin"),
  });
  return (label) => {
    if (!label) return "–";
    if (label === `user:${user.id}`) return `you (${user.email})`;
    const [kind, id] = label.split(":");
    if (kind === "user" && id) {
      const u = users.data?.find((x) => x.id === id);
      return u ? u.email : `user ${id.slice(0, 8)}`;
    }
    return label;
  };
}

export const isAuthor = (campaign: Campaign, userId: string) => campaign.created_by === `user:${userId}`;
