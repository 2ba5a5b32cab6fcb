/**
 * The embedded dev server's own Prometheus metrics (startStack's `temporal.metricsPort`): the
 * visibility rows it has written, by kind. tools/temporal holds started rows back, so a run that
 * closes within 2 s gets only its close row.
 */
export async function visibilityRowsWritten(metricsUrl: string): Promise<{ started: number; closed: number }> {
  const text = await (await fetch(metricsUrl)).text();
  const rows = { started: 0, closed: 0 };
  const series = /^visibility_persistence_requests\{operation="RecordWorkflowExecution(Started|Closed)"[^}]*\} (\d+)/gm;
  for (const [, kind, n] of text.matchAll(series)) rows[kind === 'Started' ? 'started' : 'closed'] += Number(n);
  return rows;
}
