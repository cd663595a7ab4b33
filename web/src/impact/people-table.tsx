import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, query } from "../api/client.ts";
import type { Category, Page, Person } from "../api/types.ts";
import { categoryLabel } from "../datasets/use-datasets.ts";
import { ErrorMessage, Field, formatNumber, Loading, Pager } from "../layout/ui.tsx";
import { CategoryList, CellText } from "./cell-text.tsx";
import { countryName } from "./world-map.tsx";

const LIMIT = 50;

/**
 * Affected people, searched and filtered by the server and fetched a page at a time, so a million
 * people cost one page: `q` finds one person exactly (an email, a user id or a person key).
 */
export function PeopleTable({
  incidentId,
  runId,
  byCountry,
  byCategory,
  categories,
}: {
  incidentId: string;
  runId: string;
  byCountry: Record<string, number>;
  byCategory: Record<string, number>;
  categories: Category[] | undefined;
}) {
  const [text, setText] = useState("");
  const [filter, setFilter] = useState({ q: "", country: "", category: "" });
  const [offset, setOffset] = useState(0);
  const people = useQuery({
    queryKey: ["incident", incidentId, "run", runId, "people", filter, offset],
    queryFn: () =>
      api.get<Page<Person>>(
        `/incidents/${incidentId}/analyses/${runId}/people${query({ ...filter, offset, limit: LIMIT })}`,
      ),
    placeholderData: keepPreviousData,
  });
  const change = (next: Partial<typeof filter>) => {
    setFilter({ ...filter, ...next });
    setOffset(0);
  };
  const search = (e: FormEvent) => {
    e.preventDefault();
    change({ q: text.trim() });
  };
  const countryOptions = Object.keys(byCountry).sort((a, b) =>
    a === "unknown" ? 1 : b === "unknown" ? -1 : countryName(a).localeCompare(countryName(b)),
  );
  const categoryOptions = Object.keys(byCategory).sort((a, b) =>
    categoryLabel(categories, a).localeCompare(categoryLabel(categories, b)),
  );
  const filtered = filter.q || filter.country || filter.category;
  return (
    <>
      <form className="people-filters" onSubmit={search} aria-label="Find people">
        <Field label="Search people" hint="An exact email, user id or person key">
          {(id) => (
            <div className="search-row">
              <input
                id={id}
                type="search"
                value={text}
                maxLength={1000}
                autoComplete="off"
                spellCheck={false}
                onChange={(e) => setText(e.target.value)}
              />
              <button type="submit">Search</button>
            </div>
          )}
        </Field>
        <Field label="Filter by country">
          {(id) => (
            <select id={id} value={filter.country} onChange={(e) => change({ country: e.target.value })}>
              <option value="">All countries</option>
              {countryOptions.map((c) => (
                <option key={c} value={c}>
                  {c === "unknown" ? "Unknown" : `${countryName(c)} (${c})`}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Filter by category">
          {(id) => (
            <select id={id} value={filter.category} onChange={(e) => change({ category: e.target.value })}>
              <option value="">All categories</option>
              {categoryOptions.map((c) => (
                <option key={c} value={c}>
                  {categoryLabel(categories, c)}
                </option>
              ))}
            </select>
          )}
        </Field>
        {filtered ? (
          <div className="field clear-filters">
            <button
              type="button"
              onClick={() => {
                setText("");
                change({ q: "", country: "", category: "" });
              }}
            >
              Clear search and filters
            </button>
          </div>
        ) : null}
      </form>
      <ErrorMessage error={people.error} />
      {!people.data ? (
        people.error ? null : (
          <Loading what="Loading the people" />
        )
      ) : (
        <>
          <p className="muted" role="status">
            {people.data.total === 0
              ? filter.q
                ? "No affected person has exactly that email, user id or person key."
                : "No affected person matches these filters."
              : `${formatNumber(people.data.total)} ${people.data.total === 1 ? "person" : "people"}${filtered ? " match" : ""}`}
          </p>
          {people.data.items.length > 0 ? (
            <div className={`table-wrap ${people.isFetching ? "stale" : ""}`}>
              <table className="people-table">
                <caption className="visually-hidden">Affected people</caption>
                <thead>
                  <tr>
                    <th scope="col">Email</th>
                    <th scope="col">Name</th>
                    <th scope="col">User id</th>
                    <th scope="col">Country</th>
                    <th scope="col">Language</th>
                    <th scope="col">Categories</th>
                    <th scope="col">Matched by</th>
                    <th scope="col" className="num">
                      Records
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {people.data.items.map((p) => (
                    <tr key={p.person_key}>
                      <td>
                        <CellText value={p.email} />
                      </td>
                      <td>
                        <CellText value={p.name} />
                      </td>
                      <td>
                        <CellText value={p.user_id} code />
                      </td>
                      <td>{p.country ? <abbr title={countryName(p.country)}>{p.country}</abbr> : "–"}</td>
                      <td>{p.language ?? "–"}</td>
                      <td className="categories">
                        <CategoryList keys={p.categories} labelOf={(c) => categoryLabel(categories, c)} />
                      </td>
                      <td className="nowrap">{p.matched_by.replaceAll("_", " ")}</td>
                      <td className="num">{formatNumber(p.records)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
          {people.data.total > LIMIT ? (
            <Pager offset={offset} limit={LIMIT} total={people.data.total} onChange={setOffset} />
          ) : null}
        </>
      )}
    </>
  );
}
