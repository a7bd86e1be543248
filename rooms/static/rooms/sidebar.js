/**
 * The user's rooms and direct messages, each in its own list, with unread counts kept
 * live.
 *
 * Unread is the room's newest seq minus the user's read seq, as the server counts it,
 * rather than one more per event: a replayed event cannot inflate a badge, and a read
 * from another tab clears it exactly. The page title carries the total over both lists,
 * so a background tab shows that something is waiting.
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
      this.#track(room.slug, element, room.last_seq, room.last_seq - room.unread);
    }
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
    this.#render();
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
    this.#track(room.slug, element, room.last_seq, lastReadSeq);
    this.#render();
  }

  remove(slug) {
    this.#rooms.get(slug)?.element.remove();
    this.#rooms.delete(slug);
    this.#render();
  }

  #track(slug, element, lastSeq, readSeq) {
    this.#rooms.set(slug, { element, lastSeq, readSeq });
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
      total += unread;
      const badge = room.element.querySelector("[data-badge]");
      badge.hidden = unread === 0;
      badge.querySelector("[data-count]").textContent = unread > 99 ? "99+" : String(unread);
    }
    document.title = total ? `(${total}) ${this.#title}` : this.#title;
  }
}
