import { useQuery } from "@tanstack/react-query";
import { NavLink, Outlet, useParams } from "react-router-dom";
import { api } from "../api/client.ts";
import type { Incident } from "../api/types.ts";
import { ErrorMessage, Loading, StatusBadge } from "../layout/ui.tsx";

export function useIncidentId(): string {
  const { incidentId } = useParams();
  if (!incidentId) throw new Error("no incident in the address");
  return incidentId;
}

export function useIncident(id: string) {
  return useQuery({ queryKey: ["incident", id], queryFn: () => api.get<Incident>(`/incidents/${id}`) });
}

/** One incident: its title and status over the tabs for each step of the response. */
export function IncidentLayout() {
  const id = useIncidentId();
  const incident = useIncident(id);
  if (incident.error) return <ErrorMessage error={incident.error} />;
  if (!incident.data) return <Loading what="Loading the incident" />;
  const tabs = [
    ["", "Overview"],
    ["datasets", "Datasets"],
    ["blast-radius", "Blast radius"],
    ["obligations", "Obligations"],
    ["campaigns", "Campaigns"],
    ["reports", "Reports"],
  ] as const;
  return (
    <div className="incident">
      <div className="incident-title">
        <h1>{incident.data.title}</h1>
        <StatusBadge status={incident.data.status} />
      </div>
      <nav className="tabs" aria-label="Incident">
        {tabs.map(([path, label]) => (
          <NavLink key={path} to={`/incidents/${id}${path ? `/${path}` : ""}`} end={path === ""}>
            {label}
          </NavLink>
        ))}
      </nav>
      <Outlet />
    </div>
  );
}
