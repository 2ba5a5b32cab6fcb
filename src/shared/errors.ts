/**
 * Errors the domain layers (webhooks, templates, events, access) throw. They say what went wrong
 * in the domain's words; `src/api/errors.ts` alone maps each kind to an HTTP status.
 */
import type { ZodError } from 'zod';

export interface FieldError {
  field: string;
  message: string;
}

export type ErrorKind = 'invalid' | 'unprocessable' | 'unauthenticated' | 'forbidden' | 'not_found' | 'conflict';

/** The one error type domain code throws: a kind, a message, and the bad fields if any. */
export class AppError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly errors?: FieldError[],
  ) {
    super(message);
  }

  /** The request is malformed: wrong shape or types. */
  static badRequest(message: string, errors?: FieldError[]) {
    return new AppError('invalid', message, errors);
  }
  /** Well formed, but the values cannot be accepted (a template that does not render, a URL refused). */
  static unprocessable(message: string, errors?: FieldError[]) {
    return new AppError('unprocessable', message, errors);
  }
  static unauthorized(message = 'missing or invalid API key') {
    return new AppError('unauthenticated', message);
  }
  static forbidden(message = 'you do not have permission to do this') {
    return new AppError('forbidden', message);
  }
  static notFound(what = 'resource') {
    return new AppError('not_found', `${what} not found`);
  }
  /** Another request changed the resource in between (optimistic concurrency). */
  static conflict(message: string) {
    return new AppError('conflict', message);
  }
}

/**
 * Every issue of a zod error as `{field, message}`, field paths dotted (`urls.0.url`); each unknown
 * key of a strict object is its own "is not a known field".
 */
export function fieldErrors(error: ZodError): FieldError[] {
  return error.issues.flatMap((i) => {
    const at = i.path.map(String).join('.');
    if (i.code === 'unrecognized_keys') {
      return i.keys.map((k) => ({ field: at ? `${at}.${k}` : k, message: 'is not a known field' }));
    }
    return [{ field: at || '(body)', message: i.message }];
  });
}
