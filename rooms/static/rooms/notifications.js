/**
 * Desktop notifications: when this tab is hidden and a message mentions the reader or
 * arrives in one of their direct messages, from someone else, in a room they have not
 * muted.
 *
 * The browser's permission is asked only from the button, never on load (browsers
 * rightly distrust a page that asks unprompted). The button says where things stand:
 * on, off (the reader turned them off here, remembered in this browser), blocked in
 * the browser's settings, or not supported. A notification carries plain text only:
 * the room or person as its title, the start of the message as typed as its body.
 * Every open tab of the reader may raise the same one; its tag (the message's id)
 * makes the browser show it once. Clicking it brings the tab forward, in that room.
 */

import { excerptOf } from "./rich.js";

const OFF_KEY = "chat:notifications-off";

const LABELS = {
  unsupported: "Desktop notifications: not supported by this browser",
  denied: "Desktop notifications: blocked in the browser's settings",
  default: "Turn on desktop notifications",
  on: "Desktop notifications: on",
  off: "Desktop notifications: off",
};

export class DesktopNotifications {
  #button;
  #me;
  #roomUrl;

  /**
   * `button` shows and changes the state; `roomUrl(slug)` is where a notification
   * leads to.
   */
  constructor(button, { me, roomUrl }) {
    this.#button = button;
    this.#me = me;
    this.#roomUrl = roomUrl;
    this.#button.hidden = false;
    this.#button.addEventListener("click", () => this.#toggle());
    // The reader may have changed the permission in the browser's settings meanwhile.
    document.addEventListener("visibilitychange", () => this.#show());
    this.#show();
  }

  get #state() {
    if (!("Notification" in window)) {
      return "unsupported";
    }
    if (Notification.permission !== "granted") {
      return Notification.permission; // "default" or "denied"
    }
    return localStorage.getItem(OFF_KEY) ? "off" : "on";
  }

  /**
   * A message reached one of the reader's rooms (`room`: {name, kind, muted} as the
   * sidebar knows it): notify if it is for them and they cannot see the page.
   */
  consider(message, room) {
    // Only the reader's own rooms: a public room read without joining never notifies.
    const forMe =
      room !== null &&
      (room.kind === "direct" || (message.mentions ?? []).includes(this.#me.id));
    if (
      this.#state !== "on" ||
      document.visibilityState !== "hidden" ||
      !forMe ||
      room.muted ||
      message.deleted ||
      message.author.id === this.#me.id
    ) {
      return;
    }
    const title =
      room.kind === "direct" ? message.author.name : `${message.author.name} in #${room.name}`;
    const notification = new Notification(title, {
      body: excerptOf(message.body),
      tag: `message-${message.id}`,
    });
    notification.addEventListener("click", () => {
      window.focus();
      notification.close();
      const target = this.#roomUrl(message.room);
      if (new URL(target, location.href).pathname !== location.pathname) {
        location.assign(target);
      }
    });
  }

  async #toggle() {
    const state = this.#state;
    if (state === "default") {
      await Notification.requestPermission();
    } else if (state === "on") {
      localStorage.setItem(OFF_KEY, "1");
    } else if (state === "off") {
      localStorage.removeItem(OFF_KEY);
    }
    this.#show();
  }

  #show() {
    const state = this.#state;
    this.#button.dataset.state = state;
    this.#button.textContent = LABELS[state];
    this.#button.disabled = state === "unsupported" || state === "denied";
    // A toggle once the browser allows notifications; a plain button until then.
    if (state === "on" || state === "off") {
      this.#button.setAttribute("aria-pressed", String(state === "on"));
    } else {
      this.#button.removeAttribute("aria-pressed");
    }
  }
}
