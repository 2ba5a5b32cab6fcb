/**
 * Reads that many callers make at once with the same question (in a storm, one organization's
 * webhooks for one event type, a hundred times a second) share one query. A caller never takes
 * the answer of a query that started before it asked: it joins the next one, which starts when
 * the one in flight ends, so it sees every write made before it asked, as its own query would.
 */
interface Slot<T> {
  running: Promise<T>;
  /** The query that callers who came while `running` was in flight share; starts after it. */
  next?: Promise<T>;
}

const ignore = () => undefined;

export class SharedReads<T> {
  private readonly slots = new Map<string, Slot<T>>();

  read(key: string, query: () => Promise<T>): Promise<T> {
    const slot = this.slots.get(key);
    if (!slot) return this.start(key, query);
    return (slot.next ??= slot.running.then(ignore, ignore).then(() => this.start(key, query)));
  }

  private start(key: string, query: () => Promise<T>): Promise<T> {
    const slot: Slot<T> = { running: Promise.resolve().then(query) };
    this.slots.set(key, slot);
    // Runs before `next` starts (registered first), so a slot with followers stays for them to replace.
    const settle = () => {
      if (this.slots.get(key) === slot && !slot.next) this.slots.delete(key);
    };
    slot.running.then(settle, settle);
    return slot.running;
  }
}
