/**
 * The message box. Enter sends and Shift+Enter starts a new line, as in most chats;
 * Enter while an input method is still composing a character belongs to it.
 *
 * The length limit appears only as the text nears it, and a message over the limit is
 * held back with the reason rather than cut short: nothing typed is ever thrown away.
 * Length counts characters as the server does (code points), not UTF-16 units.
 *
 * A reply names its parent in a bar above the box until it is sent or cancelled (the
 * bar's button, or Escape in the box).
 */

const SHOW_COUNT_FROM = 0.9;

export class Composer {
  #input;
  #error;
  #count;
  #maxLength;
  #onSend;
  #onTyping;
  #replyBar;
  #reply = null;

  /**
   * onSend(body, reply): reply is what replyTo() was given, or null. onTyping() runs
   * on every change that leaves text in the box.
   */
  constructor(form, { maxLength, onSend, onTyping = () => {} }) {
    this.#input = form.querySelector("textarea");
    this.#error = form.querySelector("[data-composer-error]");
    this.#count = form.querySelector("[data-composer-count]");
    this.#replyBar = form.querySelector("[data-reply-bar]");
    this.#maxLength = maxLength;
    this.#onSend = onSend;
    this.#onTyping = onTyping;
    this.#replyBar.querySelector("[data-reply-cancel]").addEventListener("click", () => {
      this.clearReply();
      this.#input.focus();
    });

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#submit();
    });
    this.#input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.#submit();
      } else if (event.key === "Escape" && this.#reply) {
        event.preventDefault();
        this.clearReply();
      }
    });
    this.#input.addEventListener("input", () => {
      this.#showCount();
      if (this.#input.value.trim()) {
        this.#onTyping();
      }
    });
  }

  showError(text) {
    this.#error.textContent = text;
  }

  clearError() {
    this.#error.textContent = "";
  }

  /** The next message answers `reply` ({id, author: {name}, excerpt, ...}). */
  replyTo(reply) {
    this.#reply = reply;
    this.#replyBar.querySelector("[data-reply-bar-author]").textContent = reply.author.name;
    this.#replyBar.querySelector("[data-reply-bar-excerpt]").textContent = reply.excerpt;
    this.#replyBar.hidden = false;
    this.#input.focus();
  }

  clearReply() {
    this.#reply = null;
    this.#replyBar.hidden = true;
  }

  /** Gives text back to its author to edit, above anything typed since. */
  restore(text) {
    const typed = this.#input.value;
    this.#input.value = typed.trim() ? `${text}\n${typed}` : text;
    this.#showCount();
    this.#input.focus();
  }

  #length() {
    return [...this.#input.value.trim()].length;
  }

  #submit() {
    const body = this.#input.value.trim();
    if (!body) {
      return;
    }
    const length = this.#length();
    if (length > this.#maxLength) {
      this.showError(
        `This message is ${length.toLocaleString()} characters long; ` +
          `the limit is ${this.#maxLength.toLocaleString()}.`,
      );
      return;
    }
    this.clearError();
    this.#input.value = "";
    this.#showCount();
    const reply = this.#reply;
    this.clearReply();
    this.#onSend(body, reply);
  }

  #showCount() {
    const length = this.#length();
    const near = length >= this.#maxLength * SHOW_COUNT_FROM;
    this.#count.hidden = !near;
    this.#count.classList.toggle("over", length > this.#maxLength);
    this.#count.textContent = near
      ? `${length.toLocaleString()} / ${this.#maxLength.toLocaleString()} characters`
      : "";
  }
}
