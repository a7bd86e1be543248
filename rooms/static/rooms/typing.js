/**
 * "Alice is typing…": the line under the message box, and the throttle on saying so.
 *
 * A notice lapses EXPIRE_MS after that person's last one, since nobody says when they
 * stop typing, and goes at once when their message arrives. Names are set as text,
 * never as HTML. The line is a polite live region: a screen reader hears who started
 * typing, not every renewal.
 */

const EXPIRE_MS = 6_000;
const SEND_EVERY_MS = 3_000;

export function typingText(names) {
  if (names.length === 0) {
    return "";
  }
  if (names.length === 1) {
    return `${names[0]} is typing…`;
  }
  if (names.length === 2) {
    return `${names[0]} and ${names[1]} are typing…`;
  }
  return "Several people are typing…";
}

export class TypingIndicator {
  #line;
  #me;
  #typists = new Map();

  constructor(line, me) {
    this.#line = line;
    this.#me = me;
  }

  /** Someone else is typing (the server tells everyone, the typist too). */
  show(user) {
    if (user.id === this.#me.id) {
      return;
    }
    clearTimeout(this.#typists.get(user.id)?.timer);
    const timer = setTimeout(() => this.clear(user.id), EXPIRE_MS);
    this.#typists.set(user.id, { name: user.name, timer });
    this.#render();
  }

  clear(userId) {
    const typist = this.#typists.get(userId);
    if (typist) {
      clearTimeout(typist.timer);
      this.#typists.delete(userId);
      this.#render();
    }
  }

  #render() {
    this.#line.textContent = typingText([...this.#typists.values()].map((t) => t.name));
  }
}

/** Calls send() at most every few seconds while keys are pressed. */
export class TypingThrottle {
  #send;
  #last = 0;

  constructor(send) {
    this.#send = send;
  }

  typed() {
    const now = Date.now();
    if (now - this.#last >= SEND_EVERY_MS && this.#send()) {
      this.#last = now;
    }
  }

  /** The message went: typing the next one is news at once. */
  reset() {
    this.#last = 0;
  }
}
