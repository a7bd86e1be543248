/**
 * Messages written in this tab that the server has not yet stored.
 *
 * Each keeps its client_id for life, so sending it again after a reconnect is safe: the
 * server answers a repeated client_id with the first result instead of posting twice.
 */
export class Outbox {
  #items = new Map();

  add(body) {
    const item = { clientId: crypto.randomUUID(), body, failed: false };
    this.#items.set(item.clientId, item);
    return item;
  }

  has(clientId) {
    return this.#items.has(clientId);
  }

  /** Forgets a message and returns it: it was stored, or its author took it back. */
  take(clientId) {
    const item = this.#items.get(clientId);
    this.#items.delete(clientId);
    return item;
  }

  /** A refused message waits for its author to retry or edit it, never resent alone. */
  fail(clientId) {
    this.#items.get(clientId).failed = true;
  }

  retry(clientId) {
    const item = this.#items.get(clientId);
    item.failed = false;
    return item;
  }

  /** What to send on a fresh connection, oldest first. */
  unsent() {
    return [...this.#items.values()].filter((item) => !item.failed);
  }
}
