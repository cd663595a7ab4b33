import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Fragment, useState } from "react";
import { api, query } from "../api/client.ts";
import type { Category, Org, Page } from "../api/types.ts";
import { categoryLabel } from "../datasets/use-datasets.ts";
import { ErrorMessage, formatNumber, Loading, Pager } from "../layout/ui.tsx";
import { CategoryList, CellText } from "./cell-text.tsx";

const LIMIT = 25;

/** Affected organisations a page at a time; each row opens to list the admins to notify. */
export function OrgsTable({
  incidentId,
  runId,
  categories,
}: {
  incidentId: string;
  runId: string;
  categories: Category[] | undefined;
}) {
  const [offset, setOffset] = useState(0);
  const [open, setOpen] = useState<Set<string>>(new Set());
  const orgs = useQuery({
    queryKey: ["incident", incidentId, "run", runId, "orgs", offset],
    queryFn: () =>
      api.get<Page<Org>>(`/incidents/${incidentId}/analyses/${runId}/orgs${query({ offset, limit: LIMIT })}`),
    placeholderData: keepPreviousData,
  });
  const toggle = (id: string) => {
    const next = new Set(open);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setOpen(next);
  };
  if (orgs.error) return <ErrorMessage error={orgs.error} />;
  if (!orgs.data) return <Loading what="Loading the organisations" />;
  if (orgs.data.total === 0) return <p>No organisation is affected.</p>;
  return (
    <>
      <div className="table-wrap">
        <table className="orgs-table">
          <caption className="visually-hidden">Affected organisations</caption>
          <thead>
            <tr>
              <th scope="col">Organisation</th>
              <th scope="col">Org id</th>
              <th scope="col" className="num">
                Affected members
              </th>
              <th scope="col">Categories</th>
              <th scope="col">Admins</th>
            </tr>
          </thead>
          <tbody>
            {orgs.data.items.map((o, i) => {
              const expanded = open.has(o.org_id);
              const rowId = `org-admins-${offset + i}`;
              const name = o.name ?? o.org_id;
              return (
                <Fragment key={o.org_id}>
                  <tr>
                    <th scope="row">
                      <CellText value={o.name} />
                    </th>
                    <td>
                      <CellText value={o.org_id} code />
                    </td>
                    <td className="num">{formatNumber(o.affected_members)}</td>
                    <td className="categories">
                      <CategoryList keys={o.categories} labelOf={(c) => categoryLabel(categories, c)} />
                    </td>
                    <td>
                      {o.admins.length === 0 ? (
                        <span className="muted">none</span>
                      ) : (
                        <button
                          type="button"
                          className="small"
                          aria-expanded={expanded}
                          aria-controls={rowId}
                          aria-label={`${expanded ? "Hide" : "Show"} the ${o.admins.length} admin${o.admins.length === 1 ? "" : "s"} of ${name}`}
                          onClick={() => toggle(o.org_id)}
                        >
                          {expanded ? "Hide" : "Show"} {o.admins.length} admin
                          {o.admins.length === 1 ? "" : "s"}
                        </button>
                      )}
                    </td>
                  </tr>
                  {expanded ? (
                    <tr id={rowId} className="expanded">
                      <td colSpan={5}>
                        <table className="admins-table">
                          <caption>Admins of {name} to notify</caption>
                          <thead>
                            <tr>
                              <th scope="col">Name</th>
                              <th scope="col">Email</th>
                              <th scope="col">Role</th>
                              <th scope="col">Language</th>
                              <th scope="col">Country</th>
                            </tr>
                          </thead>
                          <tbody>
                            {o.admins.map((a) => (
                              <tr key={`${a.email}:${a.user_id ?? ""}`}>
                                <td>
                                  <CellText value={a.name} />
                                </td>
                                <td>
                                  <CellText value={a.email} />
                                </td>
                                <td>{a.role ?? "–"}</td>
                                <td>{a.language ?? "–"}</td>
                                <td>{a.country ?? "–"}</td>
                              </tr>
                            ))}
                          </tbody>
                        </table>
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      </div>
      <Pager offset={offset} limit={LIMIT} total={orgs.data.total} onChange={setOffset} />
    </>
  );
}
