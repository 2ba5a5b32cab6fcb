/** Reading Prometheus text format in tests: one sample's value by metric name and labels. */

/** The value of the sample `name{labels}` (labels in any order, all given ones matching), or 0 if absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) got[l[1]] = l[2];
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) {
      // Several series match when some labels are left out: their sum.
      total = (total ?? 0) + Number(m[3]);
    }
  }
  return total ?? 0;
}

export async function scrape(url: string, token?: string): Promise<{ status: number; text: string; type: string }> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') ?? '' };
}
