/** A plain-textarea Jsonnet editor with line numbers and a marked error line (no editor library). */
import { useEffect, useRef } from 'preact/hooks';

interface Props {
  id: string;
  value: string;
  onInput: (v: string) => void;
  error?: { line: number; column: number; message: string } | null;
  describedBy?: string;
}

export function CodeEditor({ id, value, onInput, error, describedBy }: Props) {
  const gutter = useRef<HTMLDivElement>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  const lines = value.split('\n').length;
  const sync = () => {
    if (gutter.current && area.current) gutter.current.scrollTop = area.current.scrollTop;
  };
  // Puts the caret where the error is, so the person can fix it without hunting.
  useEffect(() => {
    const a = area.current;
    if (!a || !error?.line) return;
    const all = a.value.split('\n');
    const offset = all.slice(0, error.line - 1).reduce((n, l) => n + l.length + 1, 0) + Math.max(0, error.column - 1);
    a.setSelectionRange(offset, offset);
    const lineHeight = parseFloat(getComputedStyle(a).lineHeight) || 18;
    a.scrollTop = Math.max(0, (error.line - 3) * lineHeight);
    sync();
  }, [error]);
  return (
    <div class={`code-editor${error ? ' has-error' : ''}`}>
      <div class="gutter" ref={gutter} aria-hidden="true">
        {Array.from({ length: lines }, (_, i) => (
          <div key={i} class={error?.line === i + 1 ? 'error-line' : undefined} data-line={i + 1}>
            {i + 1}
          </div>
        ))}
      </div>
      <textarea
        id={id}
        ref={area}
        class="mono"
        spellcheck={false}
        wrap="off"
        value={value}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={describedBy}
        onInput={(e) => onInput(e.currentTarget.value)}
        onScroll={sync}
        onKeyDown={(e) => {
          // Tab indents; Escape then Tab leaves the editor, so keyboard users are never trapped.
          if (e.key === 'Tab' && !e.shiftKey && !(e.currentTarget.dataset.escaped === '1')) {
            e.preventDefault();
            const a = e.currentTarget;
            const { selectionStart: s, selectionEnd: t } = a;
            const next = a.value.slice(0, s) + '  ' + a.value.slice(t);
            onInput(next);
            requestAnimationFrame(() => a.setSelectionRange(s + 2, s + 2));
          }
          e.currentTarget.dataset.escaped = e.key === 'Escape' ? '1' : '';
        }}
      />
    </div>
  );
}
