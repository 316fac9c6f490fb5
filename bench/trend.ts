/** Least-squares slope (per x unit) and the standard deviation of the residuals. */
export function trend(points: [number, number][]): { slope: number; noise: number } {
  const n = points.length;
  if (n < 3) return { slope: 0, noise: 0 };
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const sxx = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  const slope = sxx === 0 ? 0 : points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0) / sxx;
  const residuals = points.map(([x, y]) => y - (my + slope * (x - mx)));
  const noise = Math.sqrt(residuals.reduce((s, r) => s + r * r, 0) / (n - 2));
  return { slope, noise };
}

/**
 * Growth "beyond noise": the trend over the run adds more than three times the scatter around it
 * and more than an absolute floor (a few MiB of RSS come and go with the garbage collector).
 */
export function grows(
  points: [number, number][],
  floor: number,
): { grew: boolean; growth: number; noise: number } {
  const { slope, noise } = trend(points);
  const span = points.length > 1 ? points[points.length - 1][0] - points[0][0] : 0;
  const growth = slope * span;
  return { grew: growth > Math.max(3 * noise, floor), growth, noise };
}
