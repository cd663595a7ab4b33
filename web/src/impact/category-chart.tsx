import { Bar, BarChart, CartesianGrid, Label, Tooltip, XAxis, YAxis } from "recharts";
import type { Category } from "../api/types.ts";
import { categoryLabel, shortLabel } from "../datasets/use-datasets.ts";
import { formatNumber } from "../layout/ui.tsx";
import { useWidth } from "./use-width.ts";

/**
 * Affected people per data category as horizontal bars, most first. The same numbers are in a table
 * for screen readers (the chart itself is hidden from them).
 */
export function CategoryChart({
  byCategory,
  categories,
}: {
  byCategory: Record<string, number>;
  categories: Category[] | undefined;
}) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const data = Object.entries(byCategory)
    .map(([key, people]) => {
      const label = categoryLabel(categories, key);
      // the axis shows the name without its explanation in brackets; the table and tooltip have it all
      return { key, label, short: shortLabel(label), people };
    })
    .sort((a, b) => b.people - a.people || a.label.localeCompare(b.label));
  if (data.length === 0) return <p>No category was exposed.</p>;
  const narrow = width < 520;
  const labelWidth = narrow ? Math.min(130, Math.floor(width * 0.4)) : 220;
  const height = data.length * (narrow ? 44 : 34) + 70;
  return (
    <figure className="category-chart">
      <div ref={ref} className="chart-box" aria-hidden="true">
        <BarChart
          width={width}
          height={height}
          data={data}
          layout="vertical"
          margin={{ top: 4, right: narrow ? 12 : 24, bottom: 28, left: narrow ? 0 : 24 }}
          accessibilityLayer={false}
        >
          <CartesianGrid horizontal={false} stroke="#e4e7ec" />
          <XAxis type="number" allowDecimals={false} tickFormatter={(v: number) => formatNumber(v)}>
            <Label value="Affected people" position="insideBottom" offset={-16} />
          </XAxis>
          <YAxis
            type="category"
            dataKey="short"
            width={labelWidth}
            interval={0}
            tick={{ fontSize: narrow ? 11 : 13 }}
          >
            {narrow ? null : <Label value="Data category" angle={-90} position="left" offset={0} />}
          </YAxis>
          <Tooltip
            formatter={(v) => [formatNumber(Number(v)), "Affected people"]}
            labelFormatter={(_, payload) => payload?.[0]?.payload?.label ?? ""}
            cursor={{ fill: "#f2f4f7" }}
            isAnimationActive={false}
          />
          <Bar dataKey="people" name="Affected people" fill="#b42318" isAnimationActive={false} />
        </BarChart>
      </div>
      <figcaption className="visually-hidden">Affected people by data category</figcaption>
      {/* a table does not shrink to 1 px itself, so a hidden box holds it */}
      <div className="visually-hidden">
        <table>
          <caption>Affected people by data category</caption>
          <thead>
            <tr>
              <th scope="col">Data category</th>
              <th scope="col">Key</th>
              <th scope="col">Affected people</th>
            </tr>
          </thead>
          <tbody>
            {data.map((d) => (
              <tr key={d.key}>
                <th scope="row">{d.label}</th>
                <td>{d.key}</td>
                <td>{formatNumber(d.people)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
