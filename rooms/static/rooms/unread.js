/**
 * The "New messages" line: above the first message that others wrote after the reader
 * last read the room, as it stood when the page loaded.
 *
 * Which messages count is settled once, at load; the line stays while the page is open
 * (reading the room does not move it, reopening the room does). The list changes under
 * it (older pages come in above, a resync redraws it), so it re-finds its place after
 * every change. If it is above the fold when the page opens, the view scrolls up to it,
 * so the reader starts where they left off.
 */

export class UnreadDivider {
  #list;
  #line;
  #first;

  /** `readSeq` and `lastSeq` are the reader's read position and the room's newest seq
   * at load; `me` is the reader, whose own messages never count as new. */
  constructor(list, { readSeq, lastSeq, me }) {
    this.#list = list;
    this.#first = (element) => {
      const seq = Number(element.dataset.seq);
      return seq > readSeq && seq <= lastSeq && element.dataset.author !== String(me.id);
    };
    this.#line = document.createElement("li");
    this.#line.className = "unread-divider";
    this.#line.dataset.unreadDivider = "";
    const label = document.createElement("span");
    label.textContent = "New messages";
    this.#line.append(label);
    if (readSeq != null && readSeq < lastSeq) {
      new MutationObserver(() => this.#place()).observe(list, { childList: true });
      this.#place();
    }
  }

  /** Brings the line into view if it sits above what is on screen. */
  reveal(scroller) {
    if (!this.#line.isConnected) {
      return;
    }
    const top = this.#line.getBoundingClientRect().top - scroller.getBoundingClientRect().top;
    if (top < 0) {
      scroller.scrollTop += top - 8;
    }
  }

  #place() {
    const target = [...this.#list.querySelectorAll(".message[data-seq]")].find(this.#first);
    if (!target) {
      this.#line.remove();
    } else if (target.previousElementSibling !== this.#line) {
      this.#list.insertBefore(this.#line, target);
      // The first new message opens its own group, with its author's name.
      target.classList.remove("continued");
    }
  }
}
