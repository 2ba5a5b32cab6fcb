/**
 * Whether the API request this code runs for has been answered 503 at its deadline
 * (src/api/admission.ts). Such a request may still be running, held by a frozen store or a slow
 * Temporal, and its caller, told to try again, will: whatever it had not done yet must not happen
 * now (a webhook created twice, an event or a test sent twice, a burst of starts on thaw). Domain
 * code calls refuseIfAnsweredAtDeadline() just before such an effect. Outside an API request (the
 * worker, the admin CLI) it never refuses.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const scope = new AsyncLocalStorage<() => boolean>();

/** Runs `fn` (the rest of a request's handling) as the request `answeredAtDeadline` tells about. */
export function runForRequest<T>(answeredAtDeadline: () => boolean, fn: () => T): T {
  return scope.run(answeredAtDeadline, fn);
}

/** Thrown instead of an effect whose request was already answered; nobody hears of it. */
export class AnsweredAtDeadline extends Error {
  constructor() {
    super('the request was answered 503 at its deadline; its caller will try again');
    this.name = 'AnsweredAtDeadline';
  }
}

export function refuseIfAnsweredAtDeadline(): void {
  if (scope.getStore()?.()) throw new AnsweredAtDeadline();
}
