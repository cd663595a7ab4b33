import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, type ReactNode, useContext, useMemo } from "react";
import { ApiError, api, setCsrfToken } from "../api/client.ts";
import type { Me, Role, User } from "../api/types.ts";

type Session = {
  user: User;
  /** whether the signed-in user has at least this role */
  can(role: Role): boolean;
  refresh(): Promise<void>;
};

const rank: Record<Role, number> = { viewer: 0, analyst: 1, responder: 2, admin: 3 };
const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside a signed-in page");
  return s;
}

export type AuthState =
  | { state: "loading" }
  | { state: "needs_setup" }
  | { state: "signed_out" }
  | { state: "error"; message: string }
  | { state: "signed_in"; me: Me };

/** Who is signed in, whether the first admin is still to be created, and the CSRF token. */
export function useAuthState(): AuthState {
  const health = useQuery({
    queryKey: ["health"],
    queryFn: () => api.get<{ ok: boolean; needs_bootstrap: boolean }>("/health"),
  });
  const me = useQuery({
    queryKey: ["me"],
    queryFn: async () => {
      try {
        const m = await api.get<Me>("/me");
        setCsrfToken(m.csrf_token);
        return m;
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) {
          setCsrfToken(null);
          return null;
        }
        throw error;
      }
    },
    enabled: health.data?.needs_bootstrap === false,
  });
  if (health.error) return { state: "error", message: (health.error as Error).message };
  if (!health.data) return { state: "loading" };
  if (health.data.needs_bootstrap) return { state: "needs_setup" };
  if (me.error) return { state: "error", message: (me.error as Error).message };
  if (me.data === undefined) return { state: "loading" };
  if (me.data === null) return { state: "signed_out" };
  return { state: "signed_in", me: me.data };
}

export function SessionProvider({ me, children }: { me: Me; children: ReactNode }) {
  const client = useQueryClient();
  const value = useMemo<Session>(
    () => ({
      user: me.user,
      can: (role) => rank[me.user.role] >= rank[role],
      refresh: async () => {
        await client.invalidateQueries({ queryKey: ["me"] });
      },
    }),
    [me, client],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}
