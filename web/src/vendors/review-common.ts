import { useSession } from "../auth/session.tsx";
import { useUsers } from "../users/users-page.tsx";

/** Helpers shared by the vendor's review, questionnaire, finding and offboarding sections. */

/** Today as YYYY-MM-DD in the reader's time zone: due dates and review dates are calendar days. */
export function todayDay(now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/** A calendar day before today (a review or due date that has passed). */
export function isPastDay(day: string | null | undefined): boolean {
  return !!day && day.slice(0, 10) < todayDay();
}

/** "31 Dec 2026" for 2026-12-31 (no time zone shift: the day is the day). */
export function formatDay(day: string | null | undefined): string {
  if (!day) return "–";
  const d = new Date(`${day.slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return day;
  return d.toLocaleDateString("en-GB", { day: "2-digit", month: "short", year: "numeric", timeZone: "UTC" });
}

/**
 * Who an account is, for "done by": admins can read every account's name; others know only their
 * own, and see the audit log's label (user:<id>) for anyone else.
 */
export function useWho(): (userId: string | null, label?: string | null) => string {
  const { user, can } = useSession();
  const users = useUsers(can("admin"));
  return (userId, label) => {
    if (!userId) return label ?? "–";
    if (userId === user.id) return `${user.display_name || user.email} (you)`;
    const u = users.data?.find((x) => x.id === userId);
    if (u) return u.display_name ? `${u.display_name} <${u.email}>` : u.email;
    return label ?? `user:${userId}`;
  };
}
