/** A horizontal bar chart in SVG: one bar per item, labelled with its value. */
export function Bars({
  title,
  items,
  unit = '',
}: {
  title: string;
  items: { label: string; value: number }[];
  unit?: string;
}) {
  const max = Math.max(1, ...items.map((i) => i.value));
  return (
    <figure className="chart" data-testid={`chart-${title}`}>
      <figcaption>{title}</figcaption>
      {items.length === 0 ? (
        <p className="muted">No data in this window.</p>
      ) : (
        <svg viewBox={`0 0 420 ${items.length * 26}`} role="img" aria-label={title}>
          {items.map((item, i) => (
            <g key={item.label} transform={`translate(0, ${i * 26})`}>
              <text x="0" y="15" className="label">
                {item.label}
              </text>
              <rect x="190" y="3" height="16" width={Math.max(2, (item.value / max) * 170)} rx="3" />
              <text x={196 + (item.value / max) * 170} y="15" className="value">
                {Math.round(item.value * 100) / 100}
                {unit}
              </text>
            </g>
          ))}
        </svg>
      )}
    </figure>
  );
}
