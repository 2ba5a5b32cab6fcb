/** Settings → Webhooks: the list, row actions, paging, name search, and the empty state. */
import { useEffect, useState } from 'preact/hooks';
import { api, errorMessage, WEBHOOKS, type Attempt, type Me, type Webhook } from './api';
import { SecretDialog } from './secret';
import { Dialog, ErrorBanner, formatTime, Outcome } from './ui';

const PAGE = 20;

/** URLs that auto-disable turned off while the webhook stays enabled (POST …/enable turns them on). */
const autoDisabledUrls = (w: Webhook) => (w.urls ?? []).filter((u) => u.disabled_at).length;

interface Page {
  result: Webhook[];
  meta: { total_count: number };
}

/** Every webhook of the org (the API has no name search; orgs have tens, not thousands). */
async function allWebhooks(): Promise<Webhook[]> {
  const all: Webhook[] = [];
  for (let offset = 0; ; offset += 100) {
    const page = await api<Page>('GET', `${WEBHOOKS}?page-limit=100&offset=${offset}`);
    all.push(...page.result);
    if (!page.result.length || all.length >= page.meta.total_count) return all;
  }
}

function LastDelivery({ id }: { id: string }) {
  const [last, setLast] = useState<Attempt | null | undefined>(undefined);
  useEffect(() => {
    api<{ result: Attempt[] }>('GET', `${WEBHOOKS}/${id}/logs?page-limit=1`).then(
      (r) => setLast(r.result[0] ?? null),
      () => setLast(null),
    );
  }, [id]);
  if (last === undefined) return <span class="muted">…</span>;
  if (!last) return <span class="muted">none yet</span>;
  return (
    <span>
      <Outcome outcome={last.outcome} /> {last.status ?? ''}{' '}
      <time dateTime={last.timestamp} class="muted">
        {formatTime(last.timestamp)}
      </time>
    </span>
  );
}

export function WebhookList({ me }: { me: Me }) {
  const [page, setPage] = useState(0);
  const [search, setSearch] = useState('');
  const [rows, setRows] = useState<Webhook[] | null>(null);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');
  const [confirmDelete, setConfirmDelete] = useState<Webhook | null>(null);
  const [rotating, setRotating] = useState<Webhook | null>(null);
  const [secret, setSecret] = useState<{ value: string; name: string } | null>(null);
  const manager = me.can_manage_webhooks;

  const load = async () => {
    setError(null);
    try {
      const q = search.trim().toLowerCase();
      if (q) {
        const matching = (await allWebhooks()).filter((w) => w.name.toLowerCase().includes(q));
        setTotal(matching.length);
        setRows(matching.slice(page * PAGE, (page + 1) * PAGE));
      } else {
        const data = await api<Page>('GET', `${WEBHOOKS}?page-limit=${PAGE}&offset=${page * PAGE}`);
        setTotal(data.meta.total_count);
        setRows(data.result);
      }
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    void load();
  }, [page, search]);

  const act = async (what: string, fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      setNotice(what);
      await load();
    } catch (err) {
      setError(err);
    }
  };

  const pages = Math.max(1, Math.ceil(total / PAGE));
  return (
    <section aria-labelledby="list-title">
      <div class="page-head">
        <h1 id="list-title">Webhooks</h1>
        {manager && (
          <a class="button primary" href="#/new/details">
            Add Webhook
          </a>
        )}
      </div>
      <div class="toolbar">
        <label for="search">Search by name</label>
        <input
          id="search"
          type="search"
          value={search}
          onInput={(e) => {
            setPage(0);
            setSearch(e.currentTarget.value);
          }}
        />
      </div>
      <p role="status" class="notice">
        {notice}
      </p>
      <ErrorBanner error={error} onRetry={load} />
      {rows && rows.length === 0 && (
        <div class="empty">
          {search ? (
            <p>No webhook's name contains “{search}”.</p>
          ) : manager ? (
            <>
              <p>No webhooks yet. A webhook tells Slack, Jira or your own API when an incident changes.</p>
              <a class="button primary" href="#/new/details">
                Add your first webhook
              </a>
            </>
          ) : (
            <p>No manual webhook is configured for your teams.</p>
          )}
        </div>
      )}
      {rows && rows.length > 0 && (
        <div class="table-wrap">
          <table class="webhooks">
            <caption class="sr-only">Webhooks, page {page + 1}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                {manager && <th scope="col">Version · payload</th>}
                <th scope="col">Enabled</th>
                {manager && <th scope="col">Last delivery</th>}
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((w) => (
                <tr key={w.id} data-webhook={w.name}>
                  <th scope="row">
                    {manager ? <a href={`#/edit/${w.id}/details`}>{w.name}</a> : w.name}
                    {w.description && <div class="muted small">{w.description}</div>}
                  </th>
                  <td data-label="Type">{w.trigger_type}</td>
                  {manager && (
                    <td data-label="Version · payload">
                      {w.version} · {w.payload_type}
                    </td>
                  )}
                  <td data-label="Enabled">
                    {w.enabled ? 'Enabled' : 'Disabled'}
                    {w.disabled_reason && <div class="muted small">{w.disabled_reason}</div>}
                    {w.enabled && autoDisabledUrls(w) > 0 && (
                      <div class="muted small">{autoDisabledUrls(w)} URL(s) auto-disabled after failing</div>
                    )}
                  </td>
                  {manager && (
                    <td data-label="Last delivery">
                      <LastDelivery id={w.id} />
                    </td>
                  )}
                  <td class="row-actions">
                    {manager ? (
                      <>
                        <a class="button" href={`#/edit/${w.id}/details`} aria-label={`Edit ${w.name}`}>
                          Edit
                        </a>
                        <a class="button" href={`#/logs/${w.id}`} aria-label={`View logs of ${w.name}`}>
                          View Logs
                        </a>
                        <button
                          type="button"
                          aria-label={`${w.enabled ? 'Disable' : 'Enable'} ${w.name}`}
                          onClick={() =>
                            act(`${w.name} ${w.enabled ? 'disabled' : 'enabled'}.`, () =>
                              api('POST', `${WEBHOOKS}/${w.id}/${w.enabled ? 'disable' : 'enable'}`),
                            )
                          }
                        >
                          {w.enabled ? 'Disable' : 'Enable'}
                        </button>
                        {w.enabled && autoDisabledUrls(w) > 0 && (
                          <button
                            type="button"
                            aria-label={`Re-enable the disabled URLs of ${w.name}`}
                            onClick={() =>
                              act(`${w.name}: URLs enabled again.`, () => api('POST', `${WEBHOOKS}/${w.id}/enable`))
                            }
                          >
                            Re-enable URLs
                          </button>
                        )}
                        <button type="button" aria-label={`Rotate secret of ${w.name}`} onClick={() => setRotating(w)}>
                          Rotate secret
                        </button>
                        <button
                          type="button"
                          class="danger"
                          aria-label={`Delete ${w.name}`}
                          onClick={() => setConfirmDelete(w)}
                        >
                          Delete
                        </button>
                      </>
                    ) : null}
                    {w.trigger_type === 'manual' && (
                      <a class="button" href={`#/fire/${w.id}`} aria-label={`Fire ${w.name}`}>
                        Fire
                      </a>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {total > PAGE && (
        <nav class="pager" aria-label="Pages">
          <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>
            Previous
          </button>
          <span>
            Page {page + 1} of {pages} ({total} webhooks)
          </span>
          <button type="button" disabled={page + 1 >= pages} onClick={() => setPage(page + 1)}>
            Next
          </button>
        </nav>
      )}
      {confirmDelete && (
        <Dialog title={`Delete webhook “${confirmDelete.name}”?`} onClose={() => setConfirmDelete(null)}>
          <p>
            “{confirmDelete.name}” stops receiving events at once and its retries are cancelled. Its delivery logs are
            kept until they expire. This cannot be undone.
          </p>
          <div class="actions">
            <button type="button" onClick={() => setConfirmDelete(null)} autofocus>
              Cancel
            </button>
            <button
              type="button"
              class="danger"
              onClick={() => {
                const w = confirmDelete;
                setConfirmDelete(null);
                void act(`${w.name} deleted.`, () => api('DELETE', `${WEBHOOKS}/${w.id}`));
              }}
            >
              Delete “{confirmDelete.name}”
            </button>
          </div>
        </Dialog>
      )}
      {rotating && (
        <RotateDialog
          webhook={rotating}
          onClose={() => setRotating(null)}
          onRotated={(value) => {
            setSecret({ value, name: rotating.name });
            setRotating(null);
            setNotice(`New secret for ${rotating.name}.`);
          }}
        />
      )}
      {secret && (
        <SecretDialog
          title={`New signing secret of “${secret.name}”`}
          secret={secret.value}
          onClose={() => setSecret(null)}
        />
      )}
    </section>
  );
}

function RotateDialog(props: { webhook: Webhook; onClose: () => void; onRotated: (secret: string) => void }) {
  const [grace, setGrace] = useState<'default' | 'hour' | 'now'>('default');
  const [error, setError] = useState<unknown>(null);
  const rotate = async () => {
    try {
      const body = grace === 'now' ? { grace_ms: 0 } : grace === 'hour' ? { grace_ms: 3_600_000 } : undefined;
      const w = await api<Webhook>('POST', `${WEBHOOKS}/${props.webhook.id}/rotate-secret`, body);
      props.onRotated(w.secret ?? '');
    } catch (err) {
      setError(err);
    }
  };
  return (
    <Dialog title={`Rotate the signing secret of “${props.webhook.name}”`} onClose={props.onClose}>
      <p>A new secret signs every request from now on. How long should the current secret keep signing too?</p>
      <fieldset>
        <legend>Old secret</legend>
        {(
          [
            ['default', 'Keep it for the service’s grace period (SECRET_ROTATION_GRACE_MS, a day by default)'],
            ['hour', 'Keep it for one hour'],
            ['now', 'Retire it now (the secret leaked)'],
          ] as const
        ).map(([value, label]) => (
          <label key={value} class="radio">
            <input type="radio" name="grace" checked={grace === value} onChange={() => setGrace(value)} /> {label}
          </label>
        ))}
      </fieldset>
      {error ? (
        <p class="field-error" role="alert">
          {errorMessage(error)}
        </p>
      ) : null}
      <div class="actions">
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
        <button type="button" class="primary" onClick={rotate}>
          Rotate secret
        </button>
      </div>
    </Dialog>
  );
}
