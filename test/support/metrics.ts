/** The sum of a series' samples on an app's /metrics, only those whose labels include every `label` given. */
export async function metricSum(appUrl: string, name: string, ...labels: string[]): Promise<number> {
  const text = await (await fetch(`${appUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter(
      (line) =>
        (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && labels.every((l) => line.includes(l)),
    )
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}
