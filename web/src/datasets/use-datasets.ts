import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client.ts";
import type { Category, Dataset } from "../api/types.ts";

export function useDatasets(incidentId: string) {
  return useQuery({
    queryKey: ["incident", incidentId, "datasets"],
    queryFn: () => api.get<Dataset[]>(`/incidents/${incidentId}/datasets`),
  });
}

/** The data categories a field can map to (fideslang keys with a readable label). */
export function useCategories() {
  return useQuery({
    queryKey: ["categories"],
    queryFn: () => api.get<Category[]>("/categories"),
    staleTime: Number.POSITIVE_INFINITY,
  });
}

/** The category's plain name ("Email address") when the key is known, else the key itself. */
export function categoryLabel(categories: Category[] | undefined, key: string): string {
  const c = categories?.find((x) => x.key === key);
  return c ? c.label : key;
}

/** The name without its explanation in brackets: "Product usage events (which features …)" → "Product usage events". */
export const shortLabel = (label: string) => label.replace(/\s*\(.*\)\s*$/, "") || label;
