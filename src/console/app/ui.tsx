/** Small shared pieces: the error banner, field errors, a modal dialog, route helpers. */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { ApiError, errorMessage, type FieldError } from './api';

export const go = (hash: string) => {
  location.hash = hash;
};

/** An error a person can act on; `role=alert` so screen readers announce it. */
export function ErrorBanner({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  const retryIn = error instanceof ApiError ? error.retryAfterSeconds : null;
  return (
    <div class="banner error" role="alert">
      <span>{errorMessage(error)}</span>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          {retryIn ? `Retry (after ${retryIn} s)` : 'Retry'}
        </button>
      )}
    </div>
  );
}

/** The server's messages for one field (and its sub-fields, e.g. `urls.0.url` under `urls`). */
export function errorsFor(errors: FieldError[], field: string, exact = false): string[] {
  return errors
    .filter(
      (e) => e.field === field || (!exact && (e.field.startsWith(`${field}.`) || e.field.startsWith(`${field}[`))),
    )
    .map((e) => (e.field === field ? e.message : `${e.field.slice(field.length + 1)}: ${e.message}`));
}

export function FieldErrors({ id, messages }: { id: string; messages: string[] }) {
  if (!messages.length) return null;
  return (
    <p class="field-error" id={id} role="alert">
      {messages.join('; ')}
    </p>
  );
}

/** A modal <dialog>: the browser keeps focus inside it and Escape closes it. */
export function Dialog(props: { title: string; onClose: () => void; children: ComponentChildren; labelId?: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  const labelId = props.labelId ?? 'dialog-title';
  useEffect(() => {
    const d = ref.current!;
    if (!d.open) d.showModal();
    const close = () => props.onClose();
    d.addEventListener('close', close);
    return () => d.removeEventListener('close', close);
  }, []);
  return (
    <dialog ref={ref} aria-labelledby={labelId} class="dialog">
      <h2 id={labelId}>{props.title}</h2>
      {props.children}
    </dialog>
  );
}

export const formatTime = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');

export function Outcome({ outcome }: { outcome: string }) {
  return <span class={`outcome outcome-${outcome}`}>{outcome.replace('_', ' ')}</span>;
}
