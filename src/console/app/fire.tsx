/** Fire a manual webhook on one incident (for users whose teams may), and show what was sent. */
import { useEffect, useState } from 'preact/hooks';
import { api, apiWithHeaders, ApiError, WEBHOOKS, type Me, type Webhook } from './api';
import { ErrorBanner, FieldErrors, errorsFor } from './ui';

interface Fired {
  fire_id: string;
  event_id: string;
  incident_id: string;
  webhook_id: string;
  workflow_id: string;
}

export function FirePage({ me, webhookId }: { me: Me; webhookId: string }) {
  const [webhooks, setWebhooks] = useState<Webhook[] | null>(null);
  const [chosen, setChosen] = useState(webhookId);
  const [incident, setIncident] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [fired, setFired] = useState<{ answer: Fired; name: string } | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api<{ result: Webhook[] }>('GET', `${WEBHOOKS}?page-limit=100`).then(
      (r) => {
        const mine = r.result.filter(
          (w) =>
            w.trigger_type === 'manual' &&
            (me.role === 'owner' || w.is_all_teams_configured || w.teams.some((t) => me.teams.some((m) => m.id === t))),
        );
        setWebhooks(mine);
        if (!webhookId && mine[0]) setChosen(mine[0].id);
      },
      (err) => setError(err),
    );
  }, []);

  const fire = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFired(null);
    try {
      // Squadcast's answer is the webhook; what the fire started is in the Hookrelay-* headers.
      const { headers } = await apiWithHeaders<unknown>(
        'POST',
        `/v3/incidents/${encodeURIComponent(incident.trim())}/actions/webhook/${encodeURIComponent(chosen)}`,
      );
      const answer: Fired = {
        fire_id: headers.get('hookrelay-fire-id') ?? '',
        event_id: headers.get('hookrelay-event-id') ?? '',
        incident_id: incident.trim(),
        webhook_id: chosen,
        workflow_id: headers.get('hookrelay-workflow-id') ?? '',
      };
      setFired({ answer, name: webhooks?.find((w) => w.id === chosen)?.name ?? chosen });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const fieldErrors = error instanceof ApiError ? error.fieldErrors : [];
  return (
    <section aria-labelledby="fire-title">
      <h1 id="fire-title">Fire a manual webhook</h1>
      <p class="help">
        Sends the latest state of an incident to a manual webhook your teams may fire, as{' '}
        <code>incident.triggered</code>.
      </p>
      {webhooks && webhooks.length === 0 && <p class="empty">No manual webhook is configured for your teams.</p>}
      {webhooks && webhooks.length > 0 && (
        <form onSubmit={fire} class="fire">
          <div class="field">
            <label for="fire-webhook">Webhook</label>
            <select id="fire-webhook" value={chosen} onChange={(e) => setChosen(e.currentTarget.value)}>
              {webhooks.map((w) => (
                <option key={w.id} value={w.id} disabled={!w.enabled}>
                  {w.name}
                  {w.enabled ? '' : ' (disabled)'}
                </option>
              ))}
            </select>
            <FieldErrors id="fire-webhook-error" messages={errorsFor(fieldErrors, 'webhookID')} />
          </div>
          <div class="field">
            <label for="fire-incident">Incident id</label>
            <input id="fire-incident" required value={incident} onInput={(e) => setIncident(e.currentTarget.value)} />
            <FieldErrors id="fire-incident-error" messages={errorsFor(fieldErrors, 'incident')} />
          </div>
          <button type="submit" class="primary" disabled={busy || !incident.trim() || !chosen}>
            {busy ? 'Firing…' : 'Fire webhook'}
          </button>
        </form>
      )}
      <ErrorBanner error={error} />
      {fired && (
        <div class="banner ok" role="status">
          <p>
            Fired “{fired.name}” for incident <code>{fired.answer.incident_id}</code>: sent as event{' '}
            <code>{fired.answer.event_id}</code> (<code>incident.triggered</code>), delivered with retries by workflow{' '}
            <code>{fired.answer.workflow_id}</code>.
          </p>
          {me.can_manage_webhooks && (
            <a href={`#/logs/${fired.answer.webhook_id}`}>See the request and its answer in View Logs</a>
          )}
        </div>
      )}
    </section>
  );
}
