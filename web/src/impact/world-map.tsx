import { geoEqualEarth, geoPath } from "d3-geo";
import type { Feature, FeatureCollection, Geometry } from "geojson";
import countries from "i18n-iso-countries";
import { useId } from "react";
import { feature } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";
import world from "world-atlas/countries-110m.json";
import { formatNumber } from "../layout/ui.tsx";

/** Country names in English from the browser itself: no locale file to load. */
const regionNames = new Intl.DisplayNames(["en"], { type: "region" });
export function countryName(code: string): string {
  if (code === "unknown") return "Unknown";
  try {
    return regionNames.of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}

const WIDTH = 960;
const HEIGHT = 470;

type Shape = { id: string; name: string; d: string };
let shapes: Shape[] | null = null;

/** The atlas's countries as SVG paths, projected once (they never change). */
function worldShapes(): Shape[] {
  if (shapes) return shapes;
  const topology = world as unknown as Topology<{ countries: GeometryCollection<{ name: string }> }>;
  const all = feature(topology, topology.objects.countries) as FeatureCollection<Geometry, { name: string }>;
  // Antarctica has no residents to notify and takes a sixth of the height.
  const kept = all.features.filter((f) => f.id !== "010");
  const projection = geoEqualEarth().fitSize([WIDTH, HEIGHT], { type: "FeatureCollection", features: kept });
  const path = geoPath(projection);
  shapes = kept.map((f: Feature<Geometry, { name: string }>, i) => ({
    id: f.id === undefined ? `x${i}` : String(f.id),
    name: f.properties.name,
    d: path(f) ?? "",
  }));
  return shapes;
}

/** A sequential red scale, light to dark; countries with no one affected stay grey. */
const COLOURS = ["#fde0dc", "#f9a99b", "#f0705a", "#d03b28", "#8f1d10"];
const EMPTY = "#e4e7ec";

/** Class edges on a log scale, so one large country does not wash out the rest. */
function classes(max: number): { from: number; to: number; colour: string }[] {
  if (max <= 0) return [];
  const k = Math.min(COLOURS.length, max);
  const out: { from: number; to: number; colour: string }[] = [];
  let from = 1;
  for (let i = 1; i <= k; i++) {
    const to = i === k ? max : Math.max(from, Math.round(max ** (i / k)));
    if (to < from) continue;
    out.push({
      from,
      to,
      colour: COLOURS[Math.round(((i - 1) * (COLOURS.length - 1)) / Math.max(1, k - 1))] ?? EMPTY,
    });
    from = to + 1;
    if (from > max) break;
  }
  return out;
}

/**
 * Affected people per country on a world map: ISO alpha-2 codes from the summary matched to the
 * atlas's numeric ids; each country has a title (name and count) for hover and screen readers.
 */
export function WorldMap({ byCountry }: { byCountry: Record<string, number> }) {
  const titleId = useId();
  const counts = new Map<string, { code: string; people: number }>();
  for (const [code, people] of Object.entries(byCountry)) {
    if (code === "unknown") continue;
    const numeric = countries.alpha2ToNumeric(code.toUpperCase());
    if (numeric) counts.set(numeric, { code: code.toUpperCase(), people });
  }
  const max = Math.max(0, ...[...counts.values()].map((c) => c.people));
  const scale = classes(max);
  const colour = (n: number) => scale.find((c) => n >= c.from && n <= c.to)?.colour ?? EMPTY;
  const atlasIds = new Set(worldShapes().map((s) => s.id));
  const onMap = new Set([...counts].filter(([id]) => atlasIds.has(id)).map(([, c]) => c.code));
  return (
    <figure className="world-map">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} aria-labelledby={titleId}>
        <title id={titleId}>Map of affected people by country</title>
        {worldShapes().map((s) => {
          const c = counts.get(s.id);
          const name = c ? countryName(c.code) : s.name;
          const label = c
            ? `${name}: ${formatNumber(c.people)} affected ${c.people === 1 ? "person" : "people"}`
            : name;
          return (
            <path
              key={s.id}
              d={s.d}
              fill={c ? colour(c.people) : EMPTY}
              role={c ? "img" : undefined}
              aria-label={c ? label : undefined}
              aria-hidden={c ? undefined : true}
              className={c ? "has-people" : undefined}
            >
              <title>{label}</title>
            </path>
          );
        })}
      </svg>
      <figcaption>
        {scale.length > 0 ? (
          <ul className="map-legend" aria-label="Legend: affected people per country">
            {scale.map((c) => (
              <li key={c.from}>
                <svg width="14" height="14" aria-hidden="true" focusable="false">
                  <rect width="14" height="14" fill={c.colour} />
                </svg>
                {c.from === c.to ? formatNumber(c.from) : `${formatNumber(c.from)}–${formatNumber(c.to)}`}
              </li>
            ))}
            <li>
              <svg width="14" height="14" aria-hidden="true" focusable="false">
                <rect width="14" height="14" fill={EMPTY} />
              </svg>
              none
            </li>
          </ul>
        ) : (
          <p className="muted">No affected person has a known country.</p>
        )}
        <OffMap byCountry={byCountry} onMap={onMap} />
      </figcaption>
    </figure>
  );
}

/** Countries too small for the atlas, and people with no known country, are said in words. */
function OffMap({ byCountry, onMap }: { byCountry: Record<string, number>; onMap: Set<string> }) {
  const off = Object.entries(byCountry)
    .filter(([code]) => code !== "unknown" && !onMap.has(code.toUpperCase()))
    .sort((a, b) => b[1] - a[1]);
  const unknown = byCountry.unknown ?? 0;
  return (
    <>
      {off.length > 0 ? (
        <p className="muted">
          Too small for the map:{" "}
          {off.map(([code, n]) => `${countryName(code)} ${formatNumber(n)}`).join(", ")}.
        </p>
      ) : null}
      {unknown > 0 ? (
        <p className="muted">
          {formatNumber(unknown)} {unknown === 1 ? "person has" : "people have"} no known country.
        </p>
      ) : null}
    </>
  );
}
