import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client.ts";
import type { Category, RequirementSet, RiskTier, Vendor, VendorAccess, VendorStatus } from "../api/types.ts";
import { Field } from "../layout/ui.tsx";

/** What the vendor pages share: the record's vocabularies, the tier badge, list fields as text. */

export const RISK_TIERS: readonly RiskTier[] = ["low", "medium", "high", "critical"];
export const VENDOR_STATUSES: readonly VendorStatus[] = [
  "active",
  "under_review",
  "offboarding",
  "offboarded",
];
export const ACCESS_LEVELS: readonly VendorAccess[] = ["receives", "reads", "writes", "admin"];
/** The statuses the bulk requirement-set assignment touches (the server's default). */
export const ASSIGNABLE_STATUSES: readonly VendorStatus[] = ["active", "under_review"];

export const ACCESS_HELP: Record<VendorAccess, string> = {
  receives: "only what we send",
  reads: "reads from our systems",
  writes: "writes to our systems",
  admin: "administers our systems",
};

/** The vendor's access and the people whose data it holds: asked when adding a vendor and when editing one. */
export function AccessAndPeopleFields(props: {
  access: string;
  onAccess: (value: VendorAccess | "") => void;
  people: string;
  onPeople: (value: string) => void;
}) {
  return (
    <>
      <Field label="Access">
        {(id) => (
          <select
            id={id}
            value={props.access}
            onChange={(e) => props.onAccess(e.target.value as VendorAccess | "")}
          >
            <option value="">(not recorded)</option>
            {ACCESS_LEVELS.map((a) => (
              <option key={a} value={a}>
                {a}: {ACCESS_HELP[a]}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="People" hint="how many people's data it holds (an estimate)">
        {(id) => (
          <input
            id={id}
            type="number"
            min={0}
            step={1}
            value={props.people}
            onChange={(e) => props.onPeople(e.target.value)}
          />
        )}
      </Field>
    </>
  );
}

export const tierRank = (tier: RiskTier | null | undefined): number => (tier ? RISK_TIERS.indexOf(tier) : -1);

export const statusLabel = (status: string) => status.replaceAll("_", " ");

/** A website is a link only when it is plainly http(s): anything else (e.g. `javascript:`) stays text. */
export function isWebUrl(value: string): boolean {
  return /^https?:\/\/[^\s]+$/i.test(value.trim());
}

export function WebLink({ url }: { url: string | null }) {
  if (!url) return <>–</>;
  return isWebUrl(url) ? (
    <a href={url.trim()} rel="noopener noreferrer" target="_blank" className="wrap-anywhere">
      {url}
    </a>
  ) : (
    <span className="wrap-anywhere">{url}</span>
  );
}

export function TierBadge({ tier }: { tier: RiskTier | null }) {
  return tier ? (
    <span className={`badge risk-${tier}`}>{tier}</span>
  ) : (
    <span className="badge vendor-unrated">not rated</span>
  );
}

/** "a, b; c" or one per line → the distinct non-empty items, in order. */
export function splitList(text: string, separators = /[,;\n]/): string[] {
  return [
    ...new Set(
      text
        .split(separators)
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
}

export const splitLines = (text: string) => splitList(text, /\n/);

export const joinList = (items: readonly string[], sep = ", ") => items.join(sep);

/** A calendar day (YYYY-MM-DD) before today, in the reader's time zone. */
export function isPastDay(day: string | null | undefined, now = new Date()): boolean {
  if (!day) return false;
  const pad = (n: number) => String(n).padStart(2, "0");
  return day.slice(0, 10) < `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

export function useVendor(id: string) {
  return useQuery({ queryKey: ["vendors", id], queryFn: () => api.get<Vendor>(`/vendors/${id}`) });
}

export function useCategories(enabled = true) {
  return useQuery({
    queryKey: ["categories"],
    queryFn: () => api.get<Category[]>("/categories"),
    staleTime: Number.POSITIVE_INFINITY,
    enabled,
  });
}

/** The requirement sets change only with a release (same key as the review sections use). */
export function useRequirementSets() {
  return useQuery({
    queryKey: ["requirement-sets"],
    queryFn: () => api.get<RequirementSet[]>("/requirement-sets"),
    staleTime: Number.POSITIVE_INFINITY,
  });
}
