/**
 * Add / Edit Webhook: three steps (Details, Type, Payload) visitable in any order from the top bar.
 * Save sends the whole config; the server's field errors appear beside their fields and Save lands
 * on the first step that has one.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import {
  api,
  ApiError,
  WEBHOOKS,
  type CatalogEvent,
  type FieldError,
  type Me,
  type Team,
  type TemplateSummary,
  type TestResult,
  type Webhook,
} from './api';
import { CodeEditor } from './codeEditor';
import { FilterBuilder } from './filterBuilder';
import { filtersFromApi, filtersToApi, type FilterModel } from './filters';
import { SecretDialog } from './secret';
import { ErrorBanner, errorsFor, FieldErrors, go } from './ui';

/** What the API shows instead of a header value, and takes back as "keep the stored value". */
const MASKED = '********';
const STEPS = ['details', 'type', 'payload'] as const;
type Step = (typeof STEPS)[number];
const STEP_LABELS: Record<Step, string> = { details: '1. Details', type: '2. Type', payload: '3. Payload' };
const STEP_FIELDS: Record<Step, string[]> = {
  details: ['name', 'description', 'mail_ids', 'urls', 'header', 'max_retry'],
  type: ['trigger_type', 'version', 'triggers', 'filters', 'teams', 'is_all_teams_configured'],
  payload: ['payload_type', 'custom_payload', 'custom_payload_template_slug', 'language'],
};
const stepOf = (field: string): Step =>
  STEPS.find((s) =>
    STEP_FIELDS[s].some((f) => field === f || field.startsWith(`${f}.`) || field.startsWith(`${f}[`)),
  ) ?? 'details';

interface HeaderRow {
  key: number;
  name: string;
  value: string;
  /** Saved before: an empty value keeps the stored one (the API never shows it). */
  stored: boolean;
}

interface Form {
  name: string;
  description: string;
  mailIds: string;
  /** `rate`: the URL's rate_limit.per_second as typed, '' for none. */
  urls: { key: number; url: string; method: string; rate: string }[];
  headers: HeaderRow[];
  maxRetry: string;
  triggerType: 'automatic' | 'manual';
  version: 'v1' | 'v2';
  triggers: string[];
  filters: FilterModel;
  allTeams: boolean;
  teams: string[];
  payloadType: 'standard' | 'custom';
  customPayload: string;
  templateSlug: string;
  enabled: boolean;
}

let rowKey = 1;
const emptyForm = (): Form => ({
  name: '',
  description: '',
  mailIds: '',
  urls: [{ key: rowKey++, url: '', method: 'POST', rate: '' }],
  headers: [],
  maxRetry: '3',
  triggerType: 'automatic',
  version: 'v2',
  triggers: [],
  filters: { mode: 'none' },
  allTeams: true,
  teams: [],
  payloadType: 'standard',
  customPayload: '',
  templateSlug: '',
  enabled: true,
});

function formOf(w: Webhook): Form {
  return {
    name: w.name,
    description: w.description ?? '',
    mailIds: (w.mail_ids ?? []).join(', '),
    urls: (w.urls ?? []).map((u) => ({
      key: rowKey++,
      url: u.url,
      method: u.method,
      rate: u.rate_limit ? String(u.rate_limit.per_second) : '',
    })),
    headers: Object.keys(w.header ?? {}).map((name) => ({ key: rowKey++, name, value: '', stored: true })),
    maxRetry: String(w.max_retry ?? 3),
    triggerType: w.trigger_type,
    version: w.version ?? 'v2',
    triggers: (w.triggers ?? []).map((t) => t.event_type),
    filters: filtersFromApi(w.filters),
    allTeams: w.is_all_teams_configured,
    teams: [...w.teams],
    payloadType: w.payload_type ?? 'standard',
    customPayload: w.custom_payload ?? '',
    templateSlug: w.custom_payload_template_slug ?? '',
    enabled: w.enabled,
  };
}

/** The API body for the form; `keepMasked` false drops stored header values (an unsaved test cannot use them). */
function bodyOf(
  f: Form,
  catalog: CatalogEvent[],
  keepMasked = true,
): { body?: Record<string, unknown>; errors: FieldError[] } {
  const filters = f.triggerType === 'automatic' ? filtersToApi(f.filters) : { ok: true as const, filters: null };
  if (!filters.ok) return { errors: [{ field: 'filters', message: filters.message }] };
  const header: Record<string, string> = {};
  for (const h of f.headers) {
    if (!h.name.trim()) continue;
    if (h.value) header[h.name.trim()] = h.value;
    else if (h.stored && keepMasked) header[h.name.trim()] = MASKED;
  }
  const retry = Number(f.maxRetry);
  return {
    errors: [],
    body: {
      name: f.name,
      description: f.description,
      mail_ids: f.mailIds
        .split(/[,\s]+/)
        .map((m) => m.trim())
        .filter(Boolean),
      urls: f.urls
        .filter((u) => u.url.trim() || f.urls.length === 1)
        .map((u) => ({
          url: u.url.trim(),
          method: u.method,
          // Sent as typed (a number when it is one): the API says what is wrong with it.
          ...(u.rate.trim() ? { rate_limit: { per_second: Number(u.rate) } } : {}),
        })),
      header,
      max_retry: f.maxRetry.trim() === '' || !Number.isFinite(retry) ? f.maxRetry : retry,
      trigger_type: f.triggerType,
      version: f.version,
      triggers:
        f.triggerType === 'automatic'
          ? f.triggers.map((t) => ({
              event_class: catalog.find((c) => c.event_type === t)?.event_class,
              event_type: t,
            }))
          : [],
      filters: filters.filters,
      is_all_teams_configured: f.triggerType === 'manual' && f.allTeams,
      teams: f.triggerType === 'manual' && !f.allTeams ? f.teams : [],
      payload_type: f.payloadType,
      custom_payload: f.payloadType === 'custom' ? f.customPayload : '',
      custom_payload_template_slug: f.payloadType === 'custom' ? f.templateSlug : '',
      language: 'jsonnet',
      enabled: f.enabled,
    },
  };
}

export function Editor({ me, id, step: stepParam }: { me: Me; id: string | null; step?: string }) {
  const step: Step = (STEPS as readonly string[]).includes(stepParam ?? '') ? (stepParam as Step) : 'details';
  const base = id ? `#/edit/${encodeURIComponent(id)}` : '#/new';
  const [form, setForm] = useState<Form | null>(id ? null : emptyForm());
  const [loadError, setLoadError] = useState<unknown>(null);
  const [catalog, setCatalog] = useState<CatalogEvent[]>([]);
  const [teams, setTeams] = useState<Team[]>([]);
  const [fieldErrors, setFieldErrors] = useState<FieldError[]>([]);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const [created, setCreated] = useState<Webhook | null>(null);
  const [notice, setNotice] = useState('');

  const load = () => {
    if (!id) return;
    setLoadError(null);
    api<Webhook>('GET', `${WEBHOOKS}/${encodeURIComponent(id)}`).then(
      (w) => setForm(formOf(w)),
      (err) => setLoadError(err),
    );
  };
  useEffect(load, [id]);
  useEffect(() => {
    api<Team[]>('GET', '/v3/teams').then(setTeams, () => setTeams([]));
  }, []);
  useEffect(() => {
    if (!form) return;
    api<CatalogEvent[]>('GET', `${WEBHOOKS}/events?version=${form.version}`).then(setCatalog, (err) =>
      setLoadError(err),
    );
  }, [form?.version]);

  if (!me.can_manage_webhooks)
    return <p role="alert">Managing webhooks needs the owner role or the manage_webhook permission.</p>;
  if (loadError) return <ErrorBanner error={loadError} onRetry={load} />;
  if (!form) return <p class="loading">Loading…</p>;

  const set = (patch: Partial<Form>) => setForm({ ...form, ...patch });
  const countByStep = (s: Step) => fieldErrors.filter((e) => stepOf(e.field) === s).length;

  const save = async () => {
    setSaveError(null);
    setNotice('');
    const { body, errors } = bodyOf(form, catalog);
    if (!body) {
      setFieldErrors(errors);
      go(`${base}/${stepOf(errors[0].field)}`);
      return;
    }
    setSaving(true);
    try {
      const saved = id
        ? await api<Webhook>('PUT', `${WEBHOOKS}/${encodeURIComponent(id)}`, body)
        : await api<Webhook>('POST', WEBHOOKS, body);
      setFieldErrors([]);
      if (id) {
        setForm(formOf(saved));
        setNotice(`Saved “${saved.name}”.`);
      } else setCreated(saved);
    } catch (err) {
      if (err instanceof ApiError && err.fieldErrors.length) {
        setFieldErrors(err.fieldErrors);
        const first = STEPS.find((s) => err.fieldErrors.some((e) => stepOf(e.field) === s)) ?? 'details';
        go(`${base}/${first}`);
      }
      setSaveError(err);
    } finally {
      setSaving(false);
    }
  };

  const props = { form, set, fieldErrors, catalog, teams };
  return (
    <section aria-labelledby="editor-title" class="editor">
      <div class="page-head">
        <h1 id="editor-title">{id ? `Edit Webhook “${form.name}”` : 'Add Webhook'}</h1>
        <a class="button" href="#/">
          Back to webhooks
        </a>
      </div>
      <nav class="steps" aria-label="Steps">
        <ol>
          {STEPS.map((s) => (
            <li key={s}>
              <a href={`${base}/${s}`} aria-current={s === step ? 'step' : undefined}>
                {STEP_LABELS[s]}
                {countByStep(s) > 0 && (
                  <span class="badge" aria-label={`${countByStep(s)} errors`}>
                    {countByStep(s)}
                  </span>
                )}
              </a>
            </li>
          ))}
        </ol>
      </nav>
      {saveError ? <ErrorBanner error={saveError} /> : null}
      {notice && (
        <p class="banner ok" role="status">
          {notice}
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
        noValidate
      >
        {step === 'details' && <DetailsStep {...props} />}
        {step === 'type' && <TypeStep {...props} />}
        {step === 'payload' && <PayloadStep {...props} id={id} />}
        <div class="actions sticky">
          {step !== 'details' && (
            <a class="button" href={`${base}/${STEPS[STEPS.indexOf(step) - 1]}`}>
              Previous
            </a>
          )}
          {step !== 'payload' && (
            <a class="button" href={`${base}/${STEPS[STEPS.indexOf(step) + 1]}`}>
              Next
            </a>
          )}
          <button type="submit" class="primary" disabled={saving}>
            {saving ? 'Saving…' : id ? 'Save changes' : 'Save webhook'}
          </button>
        </div>
      </form>
      {created && (
        <SecretDialog
          title={`Webhook “${created.name}” created`}
          secret={created.secret ?? ''}
          onClose={() => {
            setCreated(null);
            go('/');
          }}
        />
      )}
    </section>
  );
}

interface StepProps {
  form: Form;
  set: (patch: Partial<Form>) => void;
  fieldErrors: FieldError[];
  catalog: CatalogEvent[];
  teams: Team[];
}

/** A labelled input with its server errors announced and linked by aria-describedby. */
function Field(props: {
  id: string;
  label: string;
  field: string;
  errors: FieldError[];
  help?: string;
  children: (describedBy: string | undefined, invalid: boolean) => preact.JSX.Element;
}) {
  const messages = errorsFor(props.errors, props.field);
  const ids = [props.help ? `${props.id}-help` : '', messages.length ? `${props.id}-error` : '']
    .filter(Boolean)
    .join(' ');
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.children(ids || undefined, messages.length > 0)}
      {props.help && (
        <p class="help" id={`${props.id}-help`}>
          {props.help}
        </p>
      )}
      <FieldErrors id={`${props.id}-error`} messages={messages} />
    </div>
  );
}

function DetailsStep({ form, set, fieldErrors }: StepProps) {
  const urlErrors = errorsFor(fieldErrors, 'urls', true);
  const headerErrors = errorsFor(fieldErrors, 'header', true);
  return (
    <div class="step" aria-label="Details">
      <Field id="wh-name" label="Name" field="name" errors={fieldErrors}>
        {(d, invalid) => (
          <input
            id="wh-name"
            value={form.name}
            required
            aria-invalid={invalid}
            aria-describedby={d}
            onInput={(e) => set({ name: e.currentTarget.value })}
          />
        )}
      </Field>
      <Field id="wh-description" label="Description (optional)" field="description" errors={fieldErrors}>
        {(d, invalid) => (
          <textarea
            id="wh-description"
            rows={2}
            value={form.description}
            aria-invalid={invalid}
            aria-describedby={d}
            onInput={(e) => set({ description: e.currentTarget.value })}
          />
        )}
      </Field>
      <Field
        id="wh-mails"
        label="Failure notification emails (optional)"
        field="mail_ids"
        errors={fieldErrors}
        help="Separated by commas. They get a mail when the last retry of a delivery fails."
      >
        {(d, invalid) => (
          <input
            id="wh-mails"
            type="text"
            value={form.mailIds}
            aria-invalid={invalid}
            aria-describedby={d}
            onInput={(e) => set({ mailIds: e.currentTarget.value })}
          />
        )}
      </Field>
      <fieldset>
        <legend>URLs</legend>
        {form.urls.map((u, i) => {
          const messages = errorsFor(fieldErrors, `urls.${i}`);
          return (
            <div class="row url-row" key={u.key}>
              <label class="sr-only" for={`wh-method-${i}`}>{`Method of URL ${i + 1}`}</label>
              <select
                id={`wh-method-${i}`}
                value={u.method}
                onChange={(e) =>
                  set({ urls: form.urls.map((x) => (x.key === u.key ? { ...x, method: e.currentTarget.value } : x)) })
                }
              >
                {['POST', 'PUT', 'PATCH'].map((m) => (
                  <option key={m}>{m}</option>
                ))}
              </select>
              <label class="sr-only" for={`wh-url-${i}`}>{`URL ${i + 1}`}</label>
              <input
                id={`wh-url-${i}`}
                type="url"
                placeholder="https://example.com/hooks"
                value={u.url}
                aria-invalid={messages.length > 0}
                aria-describedby={messages.length ? `wh-url-${i}-error` : undefined}
                onInput={(e) =>
                  set({ urls: form.urls.map((x) => (x.key === u.key ? { ...x, url: e.currentTarget.value } : x)) })
                }
              />
              <label class="sr-only" for={`wh-rate-${i}`}>{`Rate limit of URL ${i + 1} (requests per second)`}</label>
              <input
                id={`wh-rate-${i}`}
                class="rate"
                type="number"
                min="1"
                max="1000"
                placeholder="max/s"
                title="Rate limit: at most this many requests per second to this URL (empty: none)"
                value={u.rate}
                onInput={(e) =>
                  set({ urls: form.urls.map((x) => (x.key === u.key ? { ...x, rate: e.currentTarget.value } : x)) })
                }
              />
              {form.urls.length > 1 && (
                <button
                  type="button"
                  class="link danger"
                  aria-label={`Remove URL ${i + 1}`}
                  onClick={() => set({ urls: form.urls.filter((x) => x.key !== u.key) })}
                >
                  Remove
                </button>
              )}
              <FieldErrors id={`wh-url-${i}-error`} messages={messages} />
            </div>
          );
        })}
        <FieldErrors id="wh-urls-error" messages={urlErrors} />
        <button
          type="button"
          onClick={() => set({ urls: [...form.urls, { key: rowKey++, url: '', method: 'POST', rate: '' }] })}
        >
          Add URL
        </button>
      </fieldset>
      <fieldset>
        <legend>Extra headers (optional)</legend>
        <p class="help">
          Values are write-only: once saved they are never shown again. Leave a saved value empty to keep it.
        </p>
        {form.headers.map((h, i) => {
          const messages = errorsFor(fieldErrors, `header.${h.name}`);
          return (
            <div class="row" key={h.key}>
              <label class="sr-only" for={`wh-header-name-${i}`}>{`Header ${i + 1} name`}</label>
              <input
                id={`wh-header-name-${i}`}
                placeholder="X-Api-Key"
                value={h.name}
                onInput={(e) =>
                  set({
                    headers: form.headers.map((x) => (x.key === h.key ? { ...x, name: e.currentTarget.value } : x)),
                  })
                }
              />
              <label class="sr-only" for={`wh-header-value-${i}`}>{`Header ${i + 1} value`}</label>
              <input
                id={`wh-header-value-${i}`}
                type="password"
                autocomplete="off"
                placeholder={h.stored ? '•••••••• saved (type to replace)' : 'value'}
                value={h.value}
                aria-describedby={messages.length ? `wh-header-${i}-error` : undefined}
                onInput={(e) =>
                  set({
                    headers: form.headers.map((x) => (x.key === h.key ? { ...x, value: e.currentTarget.value } : x)),
                  })
                }
              />
              <button
                type="button"
                class="link danger"
                aria-label={`Remove header ${h.name || i + 1}`}
                onClick={() => set({ headers: form.headers.filter((x) => x.key !== h.key) })}
              >
                Remove
              </button>
              <FieldErrors id={`wh-header-${i}-error`} messages={messages} />
            </div>
          );
        })}
        <FieldErrors id="wh-header-error" messages={headerErrors} />
        <button
          type="button"
          onClick={() => set({ headers: [...form.headers, { key: rowKey++, name: '', value: '', stored: false }] })}
        >
          Add header
        </button>
      </fieldset>
      <Field
        id="wh-retry"
        label="Max retries"
        field="max_retry"
        errors={fieldErrors}
        help="0 to 10; each failed request is retried with backoff."
      >
        {(d, invalid) => (
          <input
            id="wh-retry"
            type="number"
            min={0}
            max={10}
            value={form.maxRetry}
            aria-invalid={invalid}
            aria-describedby={d}
            onInput={(e) => set({ maxRetry: e.currentTarget.value })}
          />
        )}
      </Field>
    </div>
  );
}

function TypeStep({ form, set, fieldErrors, catalog, teams }: StepProps) {
  const byResource = useMemo(() => {
    const groups = new Map<string, CatalogEvent[]>();
    for (const e of catalog) groups.set(e.event_class, [...(groups.get(e.event_class) ?? []), e]);
    return [...groups];
  }, [catalog]);
  const toggle = (t: string, on: boolean) =>
    set({ triggers: on ? [...form.triggers, t] : form.triggers.filter((x) => x !== t) });
  return (
    <div class="step" aria-label="Type">
      <fieldset>
        <legend>Type</legend>
        {(
          [
            ['automatic', 'Automatic: called when events happen'],
            ['manual', 'Manual: fired on demand for one incident'],
          ] as const
        ).map(([value, label]) => (
          <label class="radio" key={value}>
            <input
              type="radio"
              name="trigger-type"
              checked={form.triggerType === value}
              onChange={() => set({ triggerType: value })}
            />{' '}
            {label}
          </label>
        ))}
        <FieldErrors id="wh-type-error" messages={errorsFor(fieldErrors, 'trigger_type')} />
      </fieldset>
      {form.triggerType === 'manual' ? (
        <fieldset>
          <legend>Teams that may fire it</legend>
          <label class="radio">
            <input
              type="checkbox"
              checked={form.allTeams}
              onChange={(e) => set({ allTeams: e.currentTarget.checked })}
            />{' '}
            All teams
          </label>
          {!form.allTeams && (
            <div class="checks">
              {teams.length === 0 && <p class="help">No teams yet (npm run admin -- create-team --org … name).</p>}
              {teams.map((t) => (
                <label class="radio" key={t.id}>
                  <input
                    type="checkbox"
                    checked={form.teams.includes(t.id)}
                    onChange={(e) =>
                      set({
                        teams: e.currentTarget.checked ? [...form.teams, t.id] : form.teams.filter((x) => x !== t.id),
                      })
                    }
                  />{' '}
                  {t.name}
                </label>
              ))}
            </div>
          )}
          <FieldErrors
            id="wh-teams-error"
            messages={[...errorsFor(fieldErrors, 'teams'), ...errorsFor(fieldErrors, 'is_all_teams_configured')]}
          />
        </fieldset>
      ) : (
        <>
          <div class="field">
            <label for="wh-version">Payload version</label>
            <select
              id="wh-version"
              value={form.version}
              onChange={(e) => set({ version: e.currentTarget.value as Form['version'], triggers: [] })}
            >
              <option value="v2">v2 (all events)</option>
              <option value="v1">v1 (incident events, flat payload)</option>
            </select>
            <FieldErrors id="wh-version-error" messages={errorsFor(fieldErrors, 'version')} />
          </div>
          <fieldset aria-describedby={errorsFor(fieldErrors, 'triggers').length ? 'wh-triggers-error' : undefined}>
            <legend>Trigger events</legend>
            <div class="resources">
              {byResource.map(([resource, events]) => (
                <fieldset key={resource} class="resource">
                  <legend>{resource.replace(/_/g, ' ')}</legend>
                  {events.map((e) => (
                    <label class="radio" key={e.event_type}>
                      <input
                        type="checkbox"
                        checked={form.triggers.includes(e.event_type)}
                        onChange={(ev) => toggle(e.event_type, ev.currentTarget.checked)}
                      />{' '}
                      <code>{e.event_type}</code>
                    </label>
                  ))}
                </fieldset>
              ))}
            </div>
            <FieldErrors id="wh-triggers-error" messages={errorsFor(fieldErrors, 'triggers')} />
          </fieldset>
          <FilterBuilder model={form.filters} onChange={(filters) => set({ filters })} errorId="wh-filters-error" />
          <FieldErrors id="wh-filters-error" messages={errorsFor(fieldErrors, 'filters')} />
        </>
      )}
    </div>
  );
}

interface ValidateAnswer {
  valid: boolean;
  event_type: string;
  rendered?: unknown;
  error?: { message: string; line: number; column: number };
}

function PayloadStep({ form, set, fieldErrors, catalog, id }: StepProps & { id: string | null }) {
  const [templates, setTemplates] = useState<TemplateSummary[]>([]);
  // An answer is shown only while the editor still holds what it rendered, so an answer that lands
  // late (a re-picked template's code, a slow render) never stands for other text.
  const [rendered, setRendered] = useState<{ key: string; answer: ValidateAnswer } | null>(null);
  const [previewError, setPreviewError] = useState<unknown>(null);
  const [validating, setValidating] = useState(false);
  const [test, setTest] = useState<TestResult | null>(null);
  const [testError, setTestError] = useState<unknown>(null);
  const [testing, setTesting] = useState(false);
  const firstTrigger = form.triggerType === 'automatic' ? form.triggers[0] : undefined;
  const eventType = firstTrigger ?? (form.version === 'v1' ? 'incident_triggered' : 'incident.triggered');
  const renderKey = (source: string) => `${form.version}\n${eventType}\n${source}`;
  const shownSource = form.payloadType === 'standard' ? 'root' : form.customPayload;
  const preview = rendered?.key === renderKey(shownSource) ? rendered.answer : null;

  useEffect(() => {
    api<TemplateSummary[]>('GET', `${WEBHOOKS}/templates`).then(setTemplates, () => setTemplates([]));
  }, []);

  const render = async (source: string) => {
    setValidating(true);
    setPreviewError(null);
    const key = renderKey(source);
    try {
      const answer = await api<ValidateAnswer>('POST', `${WEBHOOKS}/payload/validate`, {
        language: 'jsonnet',
        custom_payload: source,
        version: form.version,
        event_type: eventType,
      });
      setRendered({ key, answer });
    } catch (err) {
      setRendered(null);
      setPreviewError(err);
    } finally {
      setValidating(false);
    }
  };
  // The standard payload is the v2 event itself: rendering `root` shows the sample exactly.
  useEffect(() => {
    if (form.payloadType === 'standard') void render('root');
  }, [form.payloadType, eventType, form.version]);

  const pickTemplate = async (slug: string) => {
    if (!slug) return set({ templateSlug: '' });
    try {
      const t = await api<{ 'template-code': string }>('GET', `${WEBHOOKS}/templates/${slug}`);
      set({ templateSlug: slug, customPayload: t['template-code'] });
    } catch (err) {
      setPreviewError(err);
    }
  };

  const runTest = async (saved: boolean) => {
    setTesting(true);
    setTest(null);
    setTestError(null);
    try {
      if (saved && id) setTest(await api<TestResult>('POST', `${WEBHOOKS}/${encodeURIComponent(id)}/test`));
      else {
        const { body, errors } = bodyOf(form, catalog, false);
        if (!body) throw new ApiError('invalid', errors[0].message, null, errors);
        setTest(await api<TestResult>('POST', `${WEBHOOKS}/test`, body));
      }
    } catch (err) {
      setTestError(err);
    } finally {
      setTesting(false);
    }
  };

  const templateError = preview && !preview.valid ? (preview.error ?? null) : null;
  const serverPayloadErrors = errorsFor(fieldErrors, 'custom_payload');
  return (
    <div class="step" aria-label="Payload">
      <fieldset>
        <legend>Payload</legend>
        {(
          [
            ['standard', `Standard ${form.version} payload`],
            ['custom', 'Custom payload (Jsonnet template)'],
          ] as const
        ).map(([value, label]) => (
          <label class="radio" key={value}>
            <input
              type="radio"
              name="payload-type"
              checked={form.payloadType === value}
              onChange={() => set({ payloadType: value })}
            />{' '}
            {label}
          </label>
        ))}
        <FieldErrors id="wh-payload-type-error" messages={errorsFor(fieldErrors, 'payload_type')} />
      </fieldset>
      {form.payloadType === 'standard' ? (
        <div>
          <h2 class="h3">
            Standard payload of <code>{eventType}</code>
          </h2>
          {form.version === 'v1' && (
            <p class="help">
              Shown as the v2 event it is derived from; a v1 webhook receives the flat v1 shape of this incident.
            </p>
          )}
          <ErrorBanner error={previewError} />
          {preview?.valid && (
            <pre class="code preview" tabIndex={0} aria-label="Standard payload">
              {JSON.stringify(preview.rendered, null, 2)}
            </pre>
          )}
        </div>
      ) : (
        <div class="custom">
          <div class="field">
            <label for="wh-template">Start from a template</label>
            <select
              id="wh-template"
              value={form.templateSlug}
              onChange={(e) => void pickTemplate(e.currentTarget.value)}
            >
              <option value="">(none: write your own)</option>
              {templates.map((t) => (
                <option key={t.slug} value={t.slug}>
                  {t.name.includes(t.target) ? t.name : `${t.name} (${t.target})`}
                </option>
              ))}
            </select>
            {form.templateSlug && (
              <p class="help">{templates.find((t) => t.slug === form.templateSlug)?.description}</p>
            )}
          </div>
          <label for="wh-custom-payload">
            Jsonnet template (the event is <code>root</code>)
          </label>
          <CodeEditor
            id="wh-custom-payload"
            value={form.customPayload}
            onInput={(v) => set({ customPayload: v })}
            error={templateError}
            describedBy="wh-template-status"
          />
          <div id="wh-template-status" role="status" class="template-status">
            {templateError && (
              <p class="field-error">
                Line {templateError.line}, column {templateError.column}: {templateError.message}
              </p>
            )}
            {preview?.valid && <p class="ok">Valid: renders for {preview.event_type}.</p>}
            {serverPayloadErrors.length > 0 && <p class="field-error">{serverPayloadErrors.join('; ')}</p>}
          </div>
          <ErrorBanner error={previewError} />
          <button
            type="button"
            onClick={() => void render(form.customPayload)}
            disabled={validating || !form.customPayload.trim()}
          >
            {validating ? 'Validating…' : 'Validate'}
          </button>
          {preview?.valid && (
            <>
              <h2 class="h3">Rendered for {preview.event_type}</h2>
              <pre class="code preview" tabIndex={0} aria-label="Rendered preview">
                {JSON.stringify(preview.rendered, null, 2)}
              </pre>
            </>
          )}
        </div>
      )}
      <section class="test" aria-labelledby="test-title">
        <h2 id="test-title" class="h3">
          Test Webhook
        </h2>
        <p class="help">
          Sends one real request per URL {firstTrigger ? `for ${firstTrigger}` : ''} and shows each answer.
        </p>
        <div class="row">
          {id && (
            <button type="button" onClick={() => void runTest(true)} disabled={testing}>
              Test saved webhook
            </button>
          )}
          <button type="button" onClick={() => void runTest(false)} disabled={testing}>
            {id ? 'Test these edits (unsaved)' : 'Test Webhook'}
          </button>
        </div>
        {id && <p class="help">An unsaved test cannot use saved header values; it sends only the headers you typed.</p>}
        {testing && <p role="status">Sending…</p>}
        <ErrorBanner error={testError} />
        {testError instanceof ApiError && testError.fieldErrors.length > 0 && (
          <ul class="field-error">
            {testError.fieldErrors.map((e) => (
              <li key={e.field}>
                {e.field}: {e.message}
              </li>
            ))}
          </ul>
        )}
        {test && (
          <table class="test-results">
            <caption>Answers for {test.event_type}</caption>
            <thead>
              <tr>
                <th scope="col">URL</th>
                <th scope="col">Status</th>
                <th scope="col">Time</th>
                <th scope="col">Response</th>
              </tr>
            </thead>
            <tbody>
              {test.results.map((r) => (
                <tr key={r.url}>
                  <td class="mono">
                    {r.method} {r.url}
                  </td>
                  <td class={r.outcome === 'delivered' ? 'ok' : 'bad'}>{r.status ?? r.error ?? r.outcome}</td>
                  <td>{r.duration_ms} ms</td>
                  <td>
                    <pre class="excerpt">{r.response_body || r.error || ''}</pre>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
