/**
 * The user's rooms and direct messages, each in its own list, with unread counts kept
 * live.
 *
 * Unread is the room's newest seq minus the user's read seq, as the server counts it,
 * rather than one more per event: a replayed event cannot inflate a badge, and a read
 * from another tab clears it exactly. The page title carries the total over both lists,
 * so a background tab shows that something is waiting.
 *
 * Unread mentions are kept the same way: the seqs of the messages naming the user (the
 * server's list at load, then each message's `mentions`), counted above the read seq,
 * in a badge of their own. A room the user muted shows its unread count subdued and
 * leaves it out of the title; its mentions still count.
 */

const byName = new Intl.Collator(undefined, { sensitivity: "base" });

export class Sidebar {
  #lists;
  #template;
  #me;
  #rooms = new Map();
  #title = document.title;

  constructor(nav, rooms, me) {
    this.#lists = {
      rooms: nav.querySelector('[data-room-nav="rooms"]'),
      direct: nav.querySelector('[data-room-nav="direct"]'),
    };
    this.#template = nav.querySelector("#sidebar-room-template");
    this.#me = me;
    for (const room of rooms) {
      const element = nav.querySelector(`li[data-slug="${CSS.escape(room.slug)}"]`);
      this.#track(room, element, room.last_seq - room.unread);
    }
  }

  /** What the sidebar knows of one of the user's rooms: {name, kind, muted}, or null. */
  room(slug) {
    const room = this.#rooms.get(slug);
    return room ? { name: room.name, kind: room.kind, muted: room.muted } : null;
  }

  setMuted(slug, muted) {
    const room = this.#rooms.get(slug);
    if (room) {
      room.muted = muted;
      this.#render();
    }
  }

  /** A message's mentions as they now stand (stored, edited, deleted, restored). */
  noteMentions(message) {
    const room = this.#rooms.get(message.room);
    if (!room) {
      return;
    }
    if (!message.deleted && (message.mentions ?? []).includes(this.#me.id)) {
      room.mentions.add(message.seq);
    } else {
      room.mentions.delete(message.seq);
    }
    this.#render();
  }

  /** A message reached one of the user's rooms; `read` if the user is looking at it. */
  noteMessage(message, { read }) {
    const room = this.#rooms.get(message.room);
    if (!room) {
      return;
    }
    room.lastSeq = Math.max(room.lastSeq, message.seq);
    // The server counts what a user writes as read by them.
    if (read || message.author.id === this.#me.id) {
      room.readSeq = Math.max(room.readSeq, message.seq);
    }
    this.noteMentions(message);
  }

  markRead(slug, seq) {
    const room = this.#rooms.get(slug);
    if (room) {
      room.readSeq = Math.max(room.readSeq, seq);
      this.#render();
    }
  }

  /** A room or direct message the user was just let into: into its list, in order. */
  add(room, lastReadSeq) {
    if (this.#rooms.has(room.slug)) {
      return;
    }
    const element = this.#template.content.firstElementChild.cloneNode(true);
    element.dataset.slug = room.slug;
    element.dataset.kind = room.kind;
    const link = element.querySelector("a");
    link.href = this.#template.dataset.urlPattern.replace("__slug__", room.slug);
    const mark = link.querySelector("[data-kind-mark]");
    mark.textContent = { direct: "@", private: "" }[room.kind] ?? "#";
    mark.classList.toggle("lock", room.kind === "private");
    link.querySelector("[data-private]").hidden = room.kind !== "private";
    link.querySelector(".room-name").textContent = room.name;
    const list = room.kind === "direct" ? this.#lists.direct : this.#lists.rooms;
    list.insertBefore(element, this.#following(list, room.name));
    this.#track(room, element, lastReadSeq);
    this.#render();
  }

  remove(slug) {
    this.#rooms.get(slug)?.element.remove();
    this.#rooms.delete(slug);
    this.#render();
  }

  #track(room, element, readSeq) {
    this.#rooms.set(room.slug, {
      element,
      name: room.name,
      kind: room.kind,
      lastSeq: room.last_seq,
      readSeq,
      mentions: new Set(room.mentions ?? []),
      muted: Boolean(room.muted),
    });
  }

  /** The entry a new one goes before, to keep the list in name order, as served. */
  #following(list, name) {
    return (
      [...list.querySelectorAll("li[data-slug]")].find(
        (element) => byName.compare(element.querySelector(".room-name").textContent, name) > 0,
      ) ?? null
    );
  }

  #render() {
    let total = 0;
    for (const room of this.#rooms.values()) {
      const unread = Math.max(room.lastSeq - room.readSeq, 0);
      const mentions = [...room.mentions].filter((seq) => seq > room.readSeq).length;
      total += room.muted ? mentions : unread;
      room.element.classList.toggle("muted", room.muted);
      room.element.querySelector("[data-muted-note]").hidden = !room.muted;
      showCount(room.element.querySelector("[data-badge]"), unread);
      const mentionBadge = room.element.querySelector("[data-mention-badge]");
      showCount(mentionBadge, mentions);
      mentionBadge.querySelector("[data-mention-label]").textContent =
        mentions === 1 ? " mention" : " mentions";
    }
    document.title = total ? `(${total}) ${this.#title}` : this.#title;
  }
}

function showCount(badge, count) {
  badge.hidden = count === 0;
  badge.querySelector("[data-count]").textContent = count > 99 ? "99+" : String(count);
}
