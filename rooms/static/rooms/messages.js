/**
 * The open room's message list, drawn from message payloads.
 *
 * User text only ever goes in through textContent, never as HTML, so a message holding
 * markup shows the characters that were typed; the one exception is a message's html,
 * which the server rendered and sanitized (rich.js draws it, with quotes, reactions
 * and the message's actions). Stored messages are ordered by seq;
 * messages still being sent wait at the end until the server gives them one. The view
 * stays where the reader left it: new messages pull it down only for a reader already
 * at the bottom, and older pages are added above without moving what is on screen.
 */

import { messageOf, requote, showReactions, showRich } from "./rich.js";

const GROUP_WINDOW_MS = 5 * 60_000;
const NEAR_BOTTOM_PX = 80;
const NEAR_TOP_PX = 400;
const HIGHLIGHT_MS = 2500;
const AVATAR_COLOURS = 8;

const timeOfDay = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dayAndTime = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "numeric",
  minute: "2-digit",
});
const fullDate = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });

function shortTime(date) {
  return date.toDateString() === new Date().toDateString()
    ? timeOfDay.format(date)
    : dayAndTime.format(date);
}

/** The same person gets the same avatar colour on every screen. */
function avatarColour(username) {
  let hash = 0;
  for (const char of username) {
    hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  }
  return `avatar-${hash % AVATAR_COLOURS}`;
}

export class MessageList {
  #me;
  #dmUrl;
  #roomLabel;
  #fetchOlder;
  #scroller;
  #list;
  #template;
  #loadOlderButton;
  #historyNote;
  #jumpButton;
  #announcer;
  #hasMore = false;
  #loading = false;
  #pinned = true;

  /**
   * fetchOlder() resolves to {messages, hasMore}: the page before the oldest shown,
   * already filtered to messages not yet shown. onRetry, onEdit and onDiscard get the
   * client_id of a message that failed to send.
   */
  constructor(root, { me, roomLabel, fetchOlder, onRetry, onEdit, onDiscard }) {
    this.#me = me;
    this.#dmUrl = root.dataset.dmUrl;
    this.#roomLabel = roomLabel;
    this.#fetchOlder = fetchOlder;
    this.#scroller = root.querySelector("[data-scroller]");
    this.#list = root.querySelector("[data-message-list]");
    this.#template = root.querySelector("#message-template");
    this.#loadOlderButton = root.querySelector("[data-load-older]");
    this.#historyNote = root.querySelector("[data-history-note]");
    this.#jumpButton = root.querySelector("[data-jump-latest]");
    this.#announcer = root.querySelector("[data-announcer]");

    this.#scroller.addEventListener("scroll", () => this.#onScroll(), { passive: true });
    // The list shrinks as the composer grows with the text; a reader at the bottom
    // keeps seeing the newest messages.
    new ResizeObserver(() => {
      if (this.#pinned) {
        this.scrollToBottom();
      }
    }).observe(this.#scroller);
    this.#loadOlderButton.addEventListener("click", () => this.#loadOlder());
    this.#jumpButton.addEventListener("click", () => this.scrollToBottom());
    this.#list.addEventListener("click", (event) => {
      const button = event.target.closest("[data-retry], [data-edit], [data-discard]");
      if (button) {
        const { clientId } = button.closest(".message").dataset;
        if (button.matches("[data-retry]")) {
          onRetry(clientId);
        } else if (button.matches("[data-edit]")) {
          onEdit(clientId);
        } else {
          onDiscard(clientId);
        }
      }
    });
  }

  /** Shows a fresh page in place of every stored message; unsent ones stay. */
  replace(messages, hasMore) {
    for (const element of this.#list.querySelectorAll(".message[data-seq]")) {
      element.remove();
    }
    this.add(messages);
    this.setHasMore(hasMore);
    this.scrollToBottom();
    this.#loadWhileNearTop();
  }

  /**
   * Adds stored messages in seq order. A live one pulls the view down only if the
   * reader was already at the bottom (or wrote it); otherwise a button offers to.
   */
  add(messages, { live = false } = {}) {
    const atBottom = this.#nearBottom();
    for (const message of messages) {
      this.#place(this.#unsent(message.client_id) ?? this.#newElement(), message);
    }
    if (!live || !messages.length) {
      return;
    }
    if (atBottom || messages.some((message) => message.author.id === this.#me.id)) {
      this.scrollToBottom();
    } else {
      this.#jumpButton.hidden = false;
    }
  }

  /** Shows a message the moment it is written, marked as sending, at the end. */
  addUnsent(item) {
    const element = this.#newElement();
    element.dataset.clientId = item.clientId;
    element.classList.add("pending");
    this.#fill(element, {
      author: this.#me,
      body: item.body,
      created_at: item.createdAt ?? new Date().toISOString(),
      deleted: false,
      edited_at: null,
      reply_to: item.replyQuote ?? null,
    });
    element.querySelector("[data-state]").textContent = "Sending…";
    this.#list.append(element);
    this.#regroup(element);
    this.scrollToBottom();
  }

  markFailed(clientId, reason = "") {
    const element = this.#unsent(clientId);
    element.classList.add("failed");
    element.querySelector("[data-state]").textContent = reason
      ? `Not sent: ${reason}`
      : "Not sent";
    element.querySelector("[data-actions]").hidden = false;
  }

  markSending(clientId) {
    const element = this.#unsent(clientId);
    element.classList.remove("failed");
    element.querySelector("[data-state]").textContent = "Sending…";
    element.querySelector("[data-actions]").hidden = true;
  }

  removeUnsent(clientId) {
    const element = this.#unsent(clientId);
    if (!element) {
      return;
    }
    const next = element.nextElementSibling;
    element.remove();
    this.#regroup(next);
  }

  markDeleted(id, change) {
    const element = this.#byId(id);
    if (element && !this.#stale(element, change)) {
      const shown = messageOf(element);
      const deleted = { ...shown, deleted: true, body: "", html: "" };
      deleted.change = change ?? shown.change;
      showRich(element, deleted, this.#me);
      requote(this.#list, { id, deleted: true });
    }
  }

  /**
   * Draws a stored message again in its state now (edited, restored or deleted, its
   * reactions), and the replies quoting it; false if it is not shown or this state is
   * older than the one shown.
   */
  update(message) {
    const element = this.#byId(message.id);
    if (element && this.#stale(element, message.change)) {
      return false;
    }
    if (element) {
      this.#fill(element, message);
    }
    requote(this.#list, message);
    return Boolean(element);
  }

  setReactions(id, reactions, change) {
    const element = this.#byId(id);
    const message = element && messageOf(element);
    if (message && !message.deleted && !this.#stale(element, change)) {
      message.reactions = reactions;
      message.change = change ?? message.change;
      showReactions(element, reactions, this.#me);
    }
  }

  /**
   * Whether a change (the room's number of it) is no newer than the state shown:
   * events and catch-up answers may come in either order, and the newest state wins.
   */
  #stale(element, change) {
    const shown = messageOf(element)?.change;
    return change != null && shown != null && change <= shown;
  }

  /**
   * Brings a message into view and highlights it, loading older pages until it is
   * there (a reply's parent may be far back). False if it cannot be found.
   */
  async reveal(id) {
    let element = this.#byId(id);
    while (!element && this.#hasMore) {
      if (!(await this.#loadOlder())) {
        if (!this.#loading) {
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      element = this.#byId(id);
    }
    if (!element) {
      this.announce("That message could not be found.");
      return false;
    }
    element.scrollIntoView({ block: "center" });
    element.tabIndex = -1;
    element.focus({ preventScroll: true });
    element.classList.remove("highlight");
    void element.offsetWidth; // restart the highlight if it is still fading
    element.classList.add("highlight");
    setTimeout(() => element.classList.remove("highlight"), HIGHLIGHT_MS);
    return true;
  }

  #byId(id) {
    return this.#list.querySelector(`.message[data-id="${Number(id)}"]`);
  }

  setHasMore(hasMore) {
    this.#hasMore = hasMore;
    this.#loadOlderButton.hidden = !hasMore;
    this.#historyNote.textContent = hasMore ? "" : `This is the start of ${this.#roomLabel}.`;
  }

  /** Speaks a line through the polite live region, for readers who cannot watch the list. */
  announce(text) {
    this.#announcer.textContent = text;
  }

  scrollToBottom() {
    this.#scroller.scrollTop = this.#scroller.scrollHeight;
    this.#jumpButton.hidden = true;
  }

  #nearBottom() {
    const { scrollTop, scrollHeight, clientHeight } = this.#scroller;
    return scrollHeight - scrollTop - clientHeight < NEAR_BOTTOM_PX;
  }

  #onScroll() {
    this.#pinned = this.#nearBottom();
    if (this.#pinned) {
      this.#jumpButton.hidden = true;
    }
    this.#loadWhileNearTop();
  }

  #loadWhileNearTop() {
    if (this.#scroller.scrollTop < NEAR_TOP_PX) {
      this.#loadOlder();
    }
  }

  /** Loads the page before the oldest shown; true if one came. */
  async #loadOlder() {
    if (this.#loading || !this.#hasMore) {
      return false;
    }
    this.#loading = true;
    this.#loadOlderButton.hidden = true;
    this.#historyNote.textContent = "Loading older messages…";
    let page;
    try {
      page = await this.#fetchOlder();
    } catch (error) {
      this.#historyNote.textContent = `Could not load older messages: ${error.message}`;
      this.#loadOlderButton.hidden = false;
      return false;
    } finally {
      this.#loading = false;
    }
    this.#prepend(page.messages);
    this.setHasMore(page.hasMore);
    // A short page may leave the top still in view: keep going until it is not.
    this.#loadWhileNearTop();
    return true;
  }

  /** Older messages go above; the distance from the bottom is kept, so nothing jumps. */
  #prepend(messages) {
    const fromBottom = this.#scroller.scrollHeight - this.#scroller.scrollTop;
    const oldFirst = this.#list.firstElementChild;
    const elements = messages.map((message) => {
      const element = this.#newElement();
      this.#fill(element, message);
      return element;
    });
    this.#list.prepend(...elements);
    for (const element of [...elements, oldFirst]) {
      this.#regroup(element);
    }
    this.#scroller.scrollTop = this.#scroller.scrollHeight - fromBottom;
  }

  #unsent(clientId) {
    if (!clientId) {
      return null;
    }
    return [...this.#list.querySelectorAll(".message.pending")].find(
      (element) => element.dataset.clientId === clientId,
    );
  }

  #newElement() {
    return this.#template.content.firstElementChild.cloneNode(true);
  }

  /** Puts a stored message at its seq, before any still being sent. */
  #place(element, message) {
    const formerNext = element.isConnected ? element.nextElementSibling : null;
    element.classList.remove("pending", "failed");
    element.querySelector("[data-actions]").hidden = true;
    this.#fill(element, message);
    let before = null;
    for (let node = this.#list.lastElementChild; node; node = node.previousElementSibling) {
      if (node === element) {
        continue;
      }
      if (node.dataset.seq && Number(node.dataset.seq) < message.seq) {
        break;
      }
      before = node;
    }
    this.#list.insertBefore(element, before);
    for (const node of [element, element.nextElementSibling, formerNext]) {
      this.#regroup(node);
    }
  }

  #fill(element, message) {
    const { author } = message;
    if (message.id !== undefined) {
      element.dataset.id = message.id;
      element.dataset.seq = message.seq;
    }
    if (message.client_id) {
      element.dataset.clientId = message.client_id;
    }
    element.dataset.author = author.id ?? "";
    element.dataset.time = Date.parse(message.created_at);

    const avatar = element.querySelector("[data-avatar]");
    avatar.textContent = ([...author.name][0] ?? "?").toUpperCase();
    avatar.className = `avatar ${avatarColour(author.username)}`;
    const name = element.querySelector("[data-author]");
    name.textContent = author.name;
    name.title = author.username ? `@${author.username}` : "";
    // Anyone else's name starts a direct message with them; an <a> without href (our
    // own name, a deleted user's) is plain text, out of the tab order.
    if (author.id && author.id !== this.#me.id) {
      name.href = `${this.#dmUrl}?to=${encodeURIComponent(author.username)}`;
      name.setAttribute("aria-label", `Message ${author.name}`);
    } else {
      name.removeAttribute("href");
      name.removeAttribute("aria-label");
    }
    const time = element.querySelector("[data-time]");
    const date = new Date(message.created_at);
    time.dateTime = message.created_at;
    time.textContent = shortTime(date);
    time.title = fullDate.format(date);
    element.querySelector("[data-state]").textContent = message.edited_at ? "(edited)" : "";
    showRich(element, message, this.#me);
  }

  /**
   * Messages by the same author a few minutes apart read as one block: the name, time
   * and avatar show once. They stay in the markup for screen readers.
   */
  #regroup(element) {
    if (!element) {
      return;
    }
    const previous = element.previousElementSibling;
    const continued =
      previous !== null &&
      previous.dataset.author === element.dataset.author &&
      element.dataset.author !== "" &&
      Number(element.dataset.time) - Number(previous.dataset.time) < GROUP_WINDOW_MS;
    element.classList.toggle("continued", continued);
  }
}
