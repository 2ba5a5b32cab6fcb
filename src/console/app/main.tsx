/**
 * The hookrelay web console: Settings → Webhooks. A single page on hash routes, talking to the
 * /v3 API with the key the person pasted (kept for this tab in sessionStorage).
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, forgetKey, setUnauthorizedHandler, storeKey, storedKey, type ConsoleSettings, type Me } from './api';
import { Editor } from './editor';
import { FirePage } from './fire';
import { WebhookList } from './list';
import { LogsPage } from './logs';
import { ErrorBanner, go } from './ui';

function useHash(): string {
  const [hash, setHash] = useState(location.hash.slice(1) || '/');
  useEffect(() => {
    const on = () => setHash(location.hash.slice(1) || '/');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function SignIn({ reason, onSignedIn }: { reason: string | null; onSignedIn: (me: Me) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const me = await api<Me>('GET', '/v3/me', undefined, key.trim());
      storeKey(key.trim());
      onSignedIn(me);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin" id="main">
      <h1>hookrelay</h1>
      <p>Sign in with an API key. It is kept for this browser tab only.</p>
      {reason && !error && (
        <div class="banner error" role="alert">
          {reason}
        </div>
      )}
      <ErrorBanner error={error} />
      <form onSubmit={submit}>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autocomplete="off"
          required
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          aria-describedby="api-key-help"
        />
        <p id="api-key-help" class="help">
          Make one with <code>npm run admin -- create-key --org acme --role owner</code>.
        </p>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

function App() {
  const hash = useHash();
  const [me, setMe] = useState<Me | null>(null);
  const [settings, setSettings] = useState<ConsoleSettings>({
    temporal_ui_url: 'http://127.0.0.1:8233',
    temporal_namespace: 'default',
  });
  const [signedOutReason, setSignedOutReason] = useState<string | null>(null);
  const [loading, setLoading] = useState(!!storedKey());
  const [startError, setStartError] = useState<unknown>(null);

  const signOut = (reason: string | null) => {
    forgetKey();
    setMe(null);
    setSignedOutReason(reason);
  };
  const resume = () => {
    if (!storedKey()) return;
    setLoading(true);
    setStartError(null);
    api<Me>('GET', '/v3/me')
      .then(setMe, (err) => setStartError(err))
      .finally(() => setLoading(false));
  };
  useEffect(() => {
    setUnauthorizedHandler((message) => signOut(message));
    fetch('/console/config.json')
      .then((r) => (r.ok ? r.json() : null))
      .then((s: ConsoleSettings | null) => s && setSettings(s))
      .catch(() => {});
    resume();
  }, []);

  if (loading) return <p class="loading">Loading…</p>;
  if (!me) {
    if (startError && storedKey()) return <ErrorBanner error={startError} onRetry={resume} />;
    return (
      <SignIn
        reason={signedOutReason}
        onSignedIn={(m) => {
          setSignedOutReason(null);
          setMe(m);
          go('/');
        }}
      />
    );
  }

  const [, first, second, third] = hash.split('/');
  let page;
  if (first === 'new') page = <Editor me={me} id={null} step={second} />;
  else if (first === 'edit' && second) page = <Editor me={me} id={decodeURIComponent(second)} step={third} />;
  else if (first === 'logs' && second)
    page = <LogsPage id={decodeURIComponent(second)} tab={third} me={me} settings={settings} />;
  else if (first === 'fire') page = <FirePage me={me} webhookId={second ? decodeURIComponent(second) : ''} />;
  else page = <WebhookList me={me} />;

  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href="#/">
          hookrelay
        </a>
        <nav aria-label="Settings">
          <a href="#/" aria-current={first === '' || first === undefined ? 'page' : undefined}>
            Webhooks
          </a>
          <a href="#/fire" aria-current={first === 'fire' ? 'page' : undefined}>
            Fire a manual webhook
          </a>
        </nav>
        <span class="who">
          {me.organization.slug} · {me.role}
          {me.can_manage_webhooks ? '' : ' (read only)'}
        </span>
        <button type="button" onClick={() => signOut(null)}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
