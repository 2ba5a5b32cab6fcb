/** View Logs: every attempt of one webhook, newest first (in-flight ones too), and its failure mails. */
import { useEffect, useState } from 'preact/hooks';
import { manualFireWorkflowId } from '../../shared/delivery';
import { eventWorkflowId } from '../../shared/workflowIds';
import { api, WEBHOOKS, type Attempt, type ConsoleSettings, type Me, type Webhook } from './api';
import { ErrorBanner, formatTime, Outcome } from './ui';

const PAGE = 50;
const REFRESH_MS = 2000;
const OUTCOMES = ['delivered', 'retrying', 'failed', 'cancelled', 'in_progress'];

interface Filters {
  outcome: string;
  event_type: string;
  url: string;
  from: string;
  to: string;
}

/** The Temporal Web UI page of the run that made this attempt (test sends have no run). */
function temporalLink(a: Attempt, me: Me, webhookId: string, s: ConsoleSettings): string | null {
  const org = me.organization.id;
  let workflowId: string | null = null;
  if (a.trigger === 'event') workflowId = eventWorkflowId(org, a.event_id);
  else if (a.trigger === 'manual' && a.event_id.startsWith('manual-'))
    workflowId = manualFireWorkflowId(org, webhookId, a.event_id.slice('manual-'.length));
  else if (a.trigger === 'redeliver' || a.trigger === 'recover') workflowId = a.workflow_id ?? null;
  if (!workflowId) return null;
  const base = s.temporal_ui_url.replace(/\/+$/, '');
  return `${base}/namespaces/${encodeURIComponent(s.temporal_namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

const prettyBody = (body: string | null | undefined) => {
  if (!body) return '';
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
};

export function LogsPage({ id, tab, me, settings }: { id: string; tab?: string; me: Me; settings: ConsoleSettings }) {
  const [webhook, setWebhook] = useState<Webhook | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api<Webhook>('GET', `${WEBHOOKS}/${encodeURIComponent(id)}`).then(setWebhook, setError);
  }, [id]);
  const base = `#/logs/${encodeURIComponent(id)}`;
  return (
    <section aria-labelledby="logs-title">
      <div class="page-head">
        <h1 id="logs-title">Logs of “{webhook?.name ?? id}”</h1>
        <a class="button" href="#/">
          Back to webhooks
        </a>
      </div>
      <ErrorBanner error={error} />
      <nav class="tabs" aria-label="Log views">
        <a href={base} aria-current={tab !== 'mails' ? 'page' : undefined}>
          Attempts
        </a>
        <a href={`${base}/mails`} aria-current={tab === 'mails' ? 'page' : undefined}>
          Failure mails
        </a>
      </nav>
      {tab === 'mails' ? <Mails id={id} /> : webhook && <Attempts webhook={webhook} me={me} settings={settings} />}
    </section>
  );
}

function Attempts({ webhook, me, settings }: { webhook: Webhook; me: Me; settings: ConsoleSettings }) {
  const [filters, setFilters] = useState<Filters>({ outcome: '', event_type: '', url: '', from: '', to: '' });
  const [applied, setApplied] = useState(filters);
  const [offset, setOffset] = useState(0);
  const [rows, setRows] = useState<Attempt[] | null>(null);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [refreshedAt, setRefreshedAt] = useState<Date | null>(null);

  const load = async () => {
    const q = new URLSearchParams({ 'page-limit': String(PAGE), offset: String(offset) });
    for (const [k, v] of Object.entries(applied)) {
      if (!v) continue;
      q.set(k, k === 'from' || k === 'to' ? new Date(v).toISOString() : v);
    }
    try {
      const data = await api<{ result: Attempt[]; meta: { total_count: number } }>(
        'GET',
        `${WEBHOOKS}/${webhook.id}/logs?${q}`,
      );
      setRows(data.result);
      setTotal(data.meta.total_count);
      setError(null);
      setRefreshedAt(new Date());
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    void load();
  }, [applied, offset]);
  // Refreshes while attempts are in flight, or a retry is due soon, and stops when all are settled
  // (a retry hours away is not worth polling for).
  const soon = Date.now() - 2 * 60_000;
  const inFlight =
    rows?.some(
      (r) => r.outcome === 'in_progress' || (r.outcome === 'retrying' && new Date(r.timestamp).getTime() > soon),
    ) ?? false;
  useEffect(() => {
    if (!inFlight) return;
    const t = setTimeout(() => void load(), REFRESH_MS);
    return () => clearTimeout(t);
  }, [rows, inFlight]);

  const setF = (patch: Partial<Filters>) => setFilters({ ...filters, ...patch });
  return (
    <>
      <form
        class="log-filters"
        aria-label="Filter attempts"
        onSubmit={(e) => {
          e.preventDefault();
          setOffset(0);
          setApplied(filters);
        }}
      >
        <div class="field">
          <label for="f-outcome">Outcome</label>
          <select id="f-outcome" value={filters.outcome} onChange={(e) => setF({ outcome: e.currentTarget.value })}>
            <option value="">any</option>
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {o.replace('_', ' ')}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-event">Event type</label>
          <select id="f-event" value={filters.event_type} onChange={(e) => setF({ event_type: e.currentTarget.value })}>
            <option value="">any</option>
            {[...new Set(['incident.triggered', ...(webhook.triggers ?? []).map((t) => t.event_type)])].map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-url">URL</label>
          <select id="f-url" value={filters.url} onChange={(e) => setF({ url: e.currentTarget.value })}>
            <option value="">any</option>
            {(webhook.urls ?? []).map((u) => (
              <option key={u.url}>{u.url}</option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-from">From</label>
          <input
            id="f-from"
            type="datetime-local"
            value={filters.from}
            onInput={(e) => setF({ from: e.currentTarget.value })}
          />
        </div>
        <div class="field">
          <label for="f-to">To</label>
          <input
            id="f-to"
            type="datetime-local"
            value={filters.to}
            onInput={(e) => setF({ to: e.currentTarget.value })}
          />
        </div>
        <button type="submit">Apply filters</button>
        <button type="button" onClick={() => void load()}>
          Refresh
        </button>
      </form>
      <p class="muted small" role="status">
        {total} {total === 1 ? 'attempt' : 'attempts'}
        {inFlight ? ' · some in flight: refreshing every 2 s' : ''}
        {refreshedAt ? ` · updated ${refreshedAt.toLocaleTimeString()}` : ''}
      </p>
      <ErrorBanner error={error} onRetry={load} />
      {rows && rows.length === 0 && <p class="empty">No attempts match. Post an event or use Test Webhook.</p>}
      {rows && rows.length > 0 && (
        <div class="table-wrap">
          <table class="logs">
            <caption class="sr-only">Delivery attempts, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Outcome</th>
                <th scope="col">HTTP</th>
                <th scope="col">Attempt</th>
                <th scope="col">Event</th>
                <th scope="col">URL</th>
                <th scope="col">Duration</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((a) => {
                const isOpen = open === a.id;
                const link = temporalLink(a, me, webhook.id, settings);
                return [
                  <tr key={a.id} class={`attempt ${isOpen ? 'open' : ''}`} data-outcome={a.outcome}>
                    <td>
                      <button
                        type="button"
                        class="link"
                        aria-expanded={isOpen}
                        aria-controls={`attempt-${a.id}`}
                        onClick={() => setOpen(isOpen ? null : a.id)}
                      >
                        {formatTime(a.timestamp)}
                      </button>
                    </td>
                    <td>
                      <Outcome outcome={a.outcome} />
                      {a.test && <span class="tag">test</span>}
                      {a.trigger === 'manual' && <span class="tag">manual</span>}
                      {(a.trigger === 'redeliver' || a.trigger === 'recover') && <span class="tag">{a.trigger}</span>}
                    </td>
                    <td>{a.status ?? '—'}</td>
                    <td>
                      {a.attempt} of {a.max_attempts}
                    </td>
                    <td>
                      <code>{a.event_type}</code>
                    </td>
                    <td class="mono url">
                      {a.method} {a.url}
                    </td>
                    <td>{a.duration_ms === null ? '—' : `${a.duration_ms} ms`}</td>
                  </tr>,
                  isOpen && (
                    <tr key={`${a.id}-detail`} class="detail">
                      <td colSpan={7} id={`attempt-${a.id}`}>
                        <div class="detail-grid">
                          <div>
                            <h3>Request headers</h3>
                            <table class="kv">
                              <tbody>
                                {Object.entries(a.request.headers).map(([k, v]) => (
                                  <tr key={k}>
                                    <th scope="row">{k}</th>
                                    <td class="mono">{v}</td>
                                  </tr>
                                ))}
                              </tbody>
                            </table>
                            <p class="small muted">
                              Delivery <code>{a.delivery_id}</code> · event <code>{a.event_id}</code>
                            </p>
                            {link ? (
                              <a href={link} target="_blank" rel="noopener noreferrer">
                                Open this event's run in the Temporal Web UI
                              </a>
                            ) : (
                              <p class="small muted">A test send has no workflow run.</p>
                            )}
                            {a.error && <p class="field-error">Error: {a.error}</p>}
                          </div>
                          <div>
                            <h3>Request body</h3>
                            <pre class="code body" tabIndex={0} aria-label="Request body">
                              {prettyBody(a.request.body)}
                            </pre>
                            <h3>Response excerpt</h3>
                            <pre class="code" tabIndex={0} aria-label="Response excerpt">
                              {a.response ? a.response.body || '(empty)' : '(no answer yet)'}
                            </pre>
                          </div>
                        </div>
                      </td>
                    </tr>
                  ),
                ];
              })}
            </tbody>
          </table>
        </div>
      )}
      {total > PAGE && (
        <nav class="pager" aria-label="Pages">
          <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            Newer
          </button>
          <span>
            {offset + 1}–{Math.min(total, offset + PAGE)} of {total}
          </span>
          <button type="button" disabled={offset + PAGE >= total} onClick={() => setOffset(offset + PAGE)}>
            Older
          </button>
        </nav>
      )}
    </>
  );
}

interface Mail {
  id: string;
  url: string;
  to: string[];
  subject: string;
  text: string;
  status: string;
  error: string | null;
  created_at: string | null;
}

function Mails({ id }: { id: string }) {
  const [mails, setMails] = useState<Mail[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () => {
    api<{ result: Mail[] }>('GET', `${WEBHOOKS}/${encodeURIComponent(id)}/mails`).then(
      (r) => setMails(r.result),
      setError,
    );
  };
  useEffect(load, [id]);
  return (
    <>
      <ErrorBanner error={error} onRetry={load} />
      {mails && mails.length === 0 && <p class="empty">No failure mails: no delivery has failed its last retry.</p>}
      {mails?.map((m) => (
        <article key={m.id} class="mail">
          <h3>{m.subject}</h3>
          <p class="small muted">
            {formatTime(m.created_at)} · to {m.to.join(', ')} · {m.status}
            {m.error ? ` (${m.error})` : ''}
          </p>
          <pre class="code">{m.text}</pre>
        </article>
      ))}
    </>
  );
}
