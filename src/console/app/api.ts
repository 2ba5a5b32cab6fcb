/**
 * The console's only way to the server: the same /v3 API as any client, with the key kept in
 * sessionStorage (this tab only). Every failure becomes an ApiError that says what a person can do.
 */

const KEY_STORAGE = 'hookrelay.apiKey';

export interface FieldError {
  field: string;
  message: string;
}

export type ApiErrorKind =
  'unreachable' | 'unavailable' | 'unauthorized' | 'forbidden' | 'invalid' | 'not_found' | 'other';

export class ApiError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
    readonly status: number | null = null,
    readonly fieldErrors: FieldError[] = [],
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

export const storedKey = (): string | null => sessionStorage.getItem(KEY_STORAGE);
export const storeKey = (key: string) => sessionStorage.setItem(KEY_STORAGE, key);
export const forgetKey = () => sessionStorage.removeItem(KEY_STORAGE);

/** Called when any request answers 401, so the app can return to sign-in with the reason. */
let onUnauthorized: (message: string) => void = () => {};
export const setUnauthorizedHandler = (fn: (message: string) => void) => {
  onUnauthorized = fn;
};

export async function api<T>(method: string, path: string, body?: unknown, key = storedKey()): Promise<T> {
  return (await apiWithHeaders<T>(method, path, body, key)).data;
}

/** Like api(), with the answer's headers too (the manual fire's ids travel in them). */
export async function apiWithHeaders<T>(
  method: string,
  path: string,
  body?: unknown,
  key = storedKey(),
): Promise<{ data: T; headers: Headers }> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(
      'unreachable',
      'The hookrelay API cannot be reached. Check that the service is running (npm start), then try again.',
    );
  }
  if (res.status === 204) return { data: undefined as T, headers: res.headers };
  const text = await res.text();
  let json: { data?: unknown; meta?: { error_message?: string; errors?: FieldError[] } } | undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (res.ok) return { data: json?.data as T, headers: res.headers };
  const message = json?.meta?.error_message ?? `${res.status} ${res.statusText}`;
  const errors = json?.meta?.errors ?? [];
  switch (res.status) {
    case 401: {
      const error = new ApiError(
        'unauthorized',
        `The API key was refused (${message}). It may have been revoked or mistyped: sign in with a valid key.`,
        401,
      );
      if (key === storedKey()) onUnauthorized(error.message);
      throw error;
    }
    case 403:
      throw new ApiError('forbidden', `Not allowed with this key: ${message}.`, 403);
    case 404:
      throw new ApiError('not_found', `Not found: ${message}. It may have been deleted meanwhile.`, 404);
    case 400:
    case 422:
      throw new ApiError('invalid', message, res.status, errors);
    case 502:
    case 503:
    case 504: {
      const retry = Number(res.headers.get('retry-after'));
      const seconds = Number.isFinite(retry) && retry > 0 ? retry : null;
      throw new ApiError(
        'unavailable',
        `The service is briefly unavailable (${message}). Try again${seconds ? ` in ${seconds} s` : ' shortly'}.`,
        res.status,
        errors,
        seconds,
      );
    }
    default:
      throw new ApiError('other', `The API answered ${res.status}: ${message}`, res.status, errors);
  }
}

export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

// Shapes the console reads (a subset of the API's answers).
export interface Me {
  organization: { id: string; slug: string };
  user_id: string;
  role: 'owner' | 'user';
  permissions: string[];
  can_manage_webhooks: boolean;
  teams: Team[];
}
export interface Team {
  id: string;
  slug: string;
  name: string;
}
export interface Webhook {
  id: string;
  slug: string;
  name: string;
  description: string;
  trigger_type: 'automatic' | 'manual';
  version?: 'v1' | 'v2';
  triggers?: { event_class: string; event_type: string }[];
  /** `disabled_*`: set by auto-disable (the URL kept failing), else null. */
  urls?: {
    url: string;
    method: string;
    rate_limit?: { per_second: number };
    disabled_reason?: string | null;
    disabled_at?: string | null;
  }[];
  header?: Record<string, string>;
  filters?: unknown;
  max_retry?: number;
  teams: string[];
  is_all_teams_configured: boolean;
  mail_ids?: string[];
  payload_type?: 'standard' | 'custom';
  custom_payload?: string;
  custom_payload_template_slug?: string;
  enabled: boolean;
  disabled_reason?: string | null;
  disabled_at?: string | null;
  secret?: string | null;
}
export interface CatalogEvent {
  event_class: string;
  event_type: string;
}
export interface TemplateSummary {
  slug: string;
  name: string;
  target: string;
  description: string;
}
export interface Attempt {
  id: string;
  timestamp: string;
  delivery_id: string;
  event_id: string;
  event_type: string;
  url: string;
  method: string;
  attempt: number;
  max_attempts: number;
  outcome: 'delivered' | 'retrying' | 'failed' | 'cancelled' | 'in_progress';
  status: number | null;
  error: string | null;
  duration_ms: number | null;
  request: { headers: Record<string, string>; body: string };
  response: { body: string | null } | null;
  trigger: 'event' | 'manual' | 'test' | 'redeliver' | 'recover';
  workflow_id?: string | null;
  test: boolean;
}
export interface TestResult {
  event_type: string;
  results: {
    url: string;
    method: string;
    outcome: string;
    status: number | null;
    error: string | null;
    duration_ms: number;
    response_body: string;
  }[];
}
export interface ConsoleSettings {
  temporal_ui_url: string;
  temporal_namespace: string;
}

export const WEBHOOKS = '/v3/extensions/event-webhooks';
