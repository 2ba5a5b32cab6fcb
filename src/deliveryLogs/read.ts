/**
 * Reads one webhook's delivery logs for the logs API: the newest finished rows, walked hour by hour
 * or day by day (equality on a bucket key, never a sort or range over the whole table: see
 * deliveryLogKeys), and the attempts in flight.
 */
import { AttemptInFlight, DeliveryLog, attemptLogId, deliveryLogKeys } from '../db/deliveryLog';
import { directStore, type DirectStore } from '../db/postgresDirect';
import { COUNT_AHEAD, countFinishedRowsSql, finishedRowsSql } from './readSql';
import { mergePage, newestFirst, type AttemptView, type InFlightRow, type LogRow } from './view';

export interface LogQuery {
  organizationId: string;
  webhookId: string;
  outcome?: 'delivered' | 'retrying' | 'failed' | 'cancelled' | 'in_progress';
  eventType?: string;
  url?: string;
  from?: Date;
  to?: Date;
  test?: boolean;
  offset: number;
  limit: number;
}

export interface LogPage {
  result: AttemptView[];
  /** Exact when `exact`; otherwise a lower bound (the walk stopped once the page and one row more were found). */
  totalCount: number;
  exact: boolean;
}

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
/**
 * With at least this many rows still to find, a day is read whole: they are needed anyway, and one
 * query costs less than its 24 hours. The embedded store decodes every row a query matches (about
 * 0.3 ms for a 1.5 KB row), so rows read and not listed are what a page costs.
 */
export const WHOLE_DAY_NEED = 400;
const rowKey = (r: LogRow) => ({ timestamp: r.timestamp, id: String(r._id) });
const byNewest = (a: LogRow, b: LogRow) => newestFirst(rowKey(a), rowKey(b));

/**
 * The newest `need` finished rows matching `filter` with `from <= timestamp <= to`, none older than
 * `oldest`, and whether they are all there are. Days are walked newest first. A day is probed for one
 * row more than still needed (unsorted, so the store stops decoding there): fewer means that is the
 * whole day; more, and its hours are read newest first until enough are found. With many rows still
 * to find (WHOLE_DAY_NEED) the day is read whole.
 */
export async function newestRows(
  webhookId: string,
  filter: Record<string, unknown>,
  range: { from?: Date; to?: Date; oldest: Date; now: Date },
  need: number,
): Promise<{ rows: LogRow[]; complete: boolean }> {
  const rows: LogRow[] = [];
  const newest = range.to && range.to < range.now ? range.to : new Date(range.now.getTime() + 5 * 60_000);
  const oldest = range.from && range.from > range.oldest ? range.from : range.oldest;
  const timeFilter =
    range.from || range.to
      ? { timestamp: { ...(range.from ? { $gte: range.from } : {}), ...(range.to ? { $lte: range.to } : {}) } }
      : {};
  const firstDay = Math.floor(newest.getTime() / DAY_MS) * DAY_MS;
  for (let day = firstDay; day + DAY_MS > oldest.getTime(); day -= DAY_MS) {
    const wanted = need - rows.length;
    if (wanted <= 0) return { rows, complete: false };
    const { logDay } = deliveryLogKeys(webhookId, new Date(day));
    const whole = wanted >= WHOLE_DAY_NEED;
    const probe = DeliveryLog.find({ ...filter, logDay, ...timeFilter });
    const dayRows = await (whole ? probe : probe.limit(wanted + 1)).lean<LogRow[]>();
    if (whole || dayRows.length <= wanted) {
      rows.push(...dayRows.sort(byNewest));
      continue;
    }
    const lastHour = Math.floor(Math.min(day + DAY_MS - 1, newest.getTime()) / HOUR_MS) * HOUR_MS;
    for (let hour = lastHour; hour >= day && hour + HOUR_MS > oldest.getTime(); hour -= HOUR_MS) {
      if (rows.length >= need) return { rows, complete: false };
      const { logHour } = deliveryLogKeys(webhookId, new Date(hour));
      rows.push(
        ...(await DeliveryLog.find({ ...filter, logHour, ...timeFilter })
          .sort({ timestamp: -1, _id: -1 })
          .lean<LogRow[]>()),
      );
    }
  }
  return { rows, complete: true };
}

/**
 * A page of a webhook's attempts, finished and in flight, newest first. `oldest`: no row is older
 * (the webhook's creation, or the retention cutoff); `runningSince`: a mark older than this belongs
 * to a worker that died and is not listed.
 */
export async function readLogPage(q: LogQuery, at: { now: Date; oldest: Date; runningSince: Date }): Promise<LogPage> {
  // Filters both sources share; `outcome` and `test` differ (a mark has no outcome, only a trigger).
  const common: Record<string, unknown> = { organizationId: q.organizationId, webhookId: q.webhookId };
  if (q.eventType) common.eventType = q.eventType;
  if (q.url) common.url = q.url;
  const finishedFilter: Record<string, unknown> = { ...common };
  if (q.outcome) finishedFilter.outcome = q.outcome;
  if (q.test !== undefined) finishedFilter.test = q.test;
  const inFlightFilter: Record<string, unknown> = { ...common };
  if (q.from || q.to) {
    inFlightFilter.timestamp = { ...(q.from ? { $gte: q.from } : {}), ...(q.to ? { $lte: q.to } : {}) };
  }
  if (q.test !== undefined) inFlightFilter.trigger = q.test ? 'test' : { $ne: 'test' };
  const wantFinished = q.outcome !== 'in_progress';
  const wantInFlight = !q.outcome || q.outcome === 'in_progress';

  const marks = wantInFlight
    ? (await AttemptInFlight.find(inFlightFilter).lean<InFlightRow[]>()).filter((m) => m.timestamp >= at.runningSince)
    : [];
  const direct = directStore();
  if (direct) return readLogPageSql(direct, q, marks);
  // One row more than the page: whether a next page exists is then known.
  const { rows, complete } = wantFinished
    ? await newestRows(
        q.webhookId,
        finishedFilter,
        { from: q.from, to: q.to, oldest: at.oldest, now: at.now },
        q.offset + q.limit + 1,
      )
    : { rows: [], complete: true };
  // Checked after the rows were read, so an attempt that finished meanwhile is never listed twice
  // (at worst it is missing from this one answer). A mark left by a dead worker whose attempt was
  // logged since ("interrupted") is skipped the same way.
  const inFlight = await unfinished(marks);
  return {
    result: mergePage(rows, inFlight, q.offset, q.limit),
    totalCount: rows.length + inFlight.length,
    exact: complete,
  };
}

/**
 * The page through the store's PostgreSQL: PostgreSQL skips to the offset itself, unless attempts are
 * in flight (marks sort among the rows, so the rows before the page are read to place them), and
 * counts the rows up to COUNT_AHEAD past the page.
 */
async function readLogPageSql(direct: DirectStore, q: LogQuery, marks: InFlightRow[]): Promise<LogPage> {
  const filter = { ...q, outcome: q.outcome === 'in_progress' ? undefined : q.outcome };
  const wantFinished = q.outcome !== 'in_progress';
  const [rows, counted] = wantFinished
    ? await Promise.all([
        marks.length
          ? finishedRowsSql(direct, filter, 0, q.offset + q.limit)
          : finishedRowsSql(direct, filter, q.offset, q.limit),
        countFinishedRowsSql(direct, filter, q.offset + q.limit + COUNT_AHEAD),
      ])
    : [[], { count: 0, exact: true }];
  // After the rows, as above.
  const inFlight = await unfinished(marks);
  return {
    result: marks.length ? mergePage(rows, inFlight, q.offset, q.limit) : mergePage(rows, [], 0, q.limit),
    totalCount: counted.count + inFlight.length,
    exact: counted.exact,
  };
}

/** The marks whose attempt has no log row yet: one `_id` lookup each (an `$in` is not served by the embedded store's index). */
async function unfinished(marks: InFlightRow[]): Promise<InFlightRow[]> {
  const logged = await Promise.all(
    marks.map((m) => DeliveryLog.exists({ _id: attemptLogId(m.deliveryId, m.url, m.attempt, m.round) })),
  );
  return marks.filter((_, i) => !logged[i]);
}
