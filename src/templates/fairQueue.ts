/**
 * The render queue of the template engine, fair across tenants: organizations take turns (round
 * robin), and within one organization its webhooks do, so one organization's burst of slow templates
 * delays another's render by at most the renders already running, not by the whole burst.
 */

export interface Owner {
  organization: string;
  webhook: string;
}

/** A ring of keys with work, each with its own value, served in turn. */
class Ring<K, V> {
  private readonly entries = new Map<K, V>();

  get size(): number {
    return this.entries.size;
  }
  get(key: K): V | undefined {
    return this.entries.get(key);
  }
  /** Adds at the back of the turn order (or moves it to the front). */
  add(key: K, value: V, front = false): void {
    if (!front) return void this.entries.set(key, value);
    this.entries.delete(key);
    const rest = [...this.entries];
    this.entries.clear();
    this.entries.set(key, value);
    for (const [k, v] of rest) this.entries.set(k, v);
  }
  /** Moves a key to the back: it has had its turn. */
  rotate(key: K): void {
    const value = this.entries.get(key);
    if (value === undefined) return;
    this.entries.delete(key);
    this.entries.set(key, value);
  }
  delete(key: K): void {
    this.entries.delete(key);
  }
  [Symbol.iterator]() {
    return this.entries[Symbol.iterator]();
  }
}

export class FairQueue<T extends { owner: Owner }> {
  private readonly orgs = new Ring<string, Ring<string, T[]>>();
  private readonly counts = new Map<string, number>();
  private total = 0;

  get size(): number {
    return this.total;
  }

  /** Renders of this organization waiting. */
  waiting(organization: string): number {
    return this.counts.get(organization) ?? 0;
  }

  /** Queues a task at the back of its webhook's line; `front` puts it first in line and its organization next in turn. */
  push(task: T, front = false): void {
    const { organization, webhook } = task.owner;
    const hooks = this.orgs.get(organization) ?? new Ring<string, T[]>();
    if (front || !this.orgs.get(organization)) this.orgs.add(organization, hooks, front);
    const line = hooks.get(webhook) ?? [];
    if (front) line.unshift(task);
    else line.push(task);
    if (front || line.length === 1) hooks.add(webhook, line, front);
    this.counts.set(organization, this.waiting(organization) + 1);
    this.total++;
  }

  /** The next task in turn among organizations `eligible` accepts; its organization and webhook go to the back. */
  shift(eligible: (organization: string) => boolean = () => true): T | undefined {
    for (const [organization, hooks] of this.orgs) {
      if (!eligible(organization)) continue;
      for (const [webhook, line] of hooks) {
        const task = line.shift()!;
        if (line.length) hooks.rotate(webhook);
        else hooks.delete(webhook);
        if (hooks.size) this.orgs.rotate(organization);
        else this.orgs.delete(organization);
        const left = this.waiting(organization) - 1;
        if (left) this.counts.set(organization, left);
        else this.counts.delete(organization);
        this.total--;
        return task;
      }
    }
    return undefined;
  }

  /** Takes every task out (closing, or the engine is broken). */
  drain(): T[] {
    const all: T[] = [];
    for (let t = this.shift(); t; t = this.shift()) all.push(t);
    return all;
  }
}
