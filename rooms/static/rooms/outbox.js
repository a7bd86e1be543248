/**
 * Messages written here that the server has not yet stored: kept in the tab and in
 * localStorage (per user and room), so they survive a reload or a closed tab and are
 * sent when the page next connects.
 *
 * Each keeps its client_id for life, so sending it again is always safe: the server
 * answers a repeated client_id with the first result (an ack with duplicate: true)
 * instead of posting twice. A send the server refuses for good waits, marked failed
 * with the reason, for its author to retry, edit or discard it; one refused for now
 * (an internal error, flood control) stays pending and goes again.
 *
 * Storage is written item by item (read, change one, write back), so two tabs of the
 * same room do not overwrite each other's messages.
 */

const PERMANENT_CODES = new Set([
  "not_member",
  "not_found",
  "archived",
  "locked",
  "muted",
  "invalid",
  "too_long",
  "empty",
  "too_large",
  "bad_json",
  "unknown_type",
]);

/** Whether an error frame's code refuses the send for good (else: try again later). */
export function isPermanent(code) {
  return PERMANENT_CODES.has(code);
}

export function outboxKey(userId, slug) {
  return `chat:outbox:${userId}:${slug}`;
}

export class Outbox {
  #key;
  #items = new Map();

  /** key: where in localStorage this user's unsent messages for this room live. */
  constructor(key) {
    this.#key = key;
  }

  /** Takes in what an earlier page (or another tab) left unsent; returns it, oldest first. */
  restore() {
    for (const item of this.#read()) {
      if (item?.clientId && typeof item.body === "string" && !this.#items.has(item.clientId)) {
        this.#items.set(item.clientId, item);
      }
    }
    return [...this.#items.values()];
  }

  /** `extra`: more to keep with the message (JSON-safe), such as what it replies to. */
  add(body, extra = {}) {
    const item = {
      ...extra,
      clientId: crypto.randomUUID(),
      body,
      createdAt: new Date().toISOString(),
      failed: false,
      reason: "",
    };
    this.#items.set(item.clientId, item);
    this.#store(item.clientId, item);
    return item;
  }

  has(clientId) {
    return this.#items.has(clientId);
  }

  /** Forgets a message and returns it: it was stored, or its author took it back. */
  take(clientId) {
    const item = this.#items.get(clientId);
    this.#items.delete(clientId);
    this.#store(clientId, null);
    return item;
  }

  /** A refused message waits for its author to retry, edit or discard it. */
  fail(clientId, reason) {
    const item = this.#items.get(clientId);
    item.failed = true;
    item.reason = reason;
    this.#store(clientId, item);
  }

  retry(clientId) {
    const item = this.#items.get(clientId);
    item.failed = false;
    item.reason = "";
    this.#store(clientId, item);
    return item;
  }

  get(clientId) {
    return this.#items.get(clientId);
  }

  /** What to send on a fresh connection, oldest first. */
  unsent() {
    return [...this.#items.values()].filter((item) => !item.failed);
  }

  #read() {
    try {
      const items = JSON.parse(localStorage.getItem(this.#key) ?? "[]");
      return Array.isArray(items) ? items : [];
    } catch {
      return [];
    }
  }

  /** Puts one item (or, given null, its absence) into storage, leaving the rest. */
  #store(clientId, item) {
    try {
      const items = this.#read().filter((stored) => stored?.clientId !== clientId);
      if (item) {
        items.push(item);
        items.sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));
      }
      if (items.length) {
        localStorage.setItem(this.#key, JSON.stringify(items));
      } else {
        localStorage.removeItem(this.#key);
      }
    } catch {
      // Storage full or switched off: the tab still holds the message and sends it.
    }
  }
}
