/**
 * Who is online, away or offline, wherever the page shows a person's presence dot
 * ([data-presence-user], from templates/partials/presence.html): the member list,
 * the direct messages in the sidebar, people search.
 *
 * The page arrives with each dot current. A page with a connection applies the
 * server's presence events as they come (idempotently: an event only sets a state),
 * and every page asks /api/presence again now and then, and whenever its connection
 * comes back, so nothing it missed (a dropped event, a process that crashed and was
 * swept) stays wrong for long.
 *
 * PresenceReporter tells the server whether this tab is in use: away when it is hidden
 * or nobody has touched it for a while, online again at the first sign of activity.
 */

const REFRESH_MS = 60_000;
const ACTIVITY = ["keydown", "pointerdown", "pointermove", "wheel", "touchstart", "focus"];
const MAX_PER_REQUEST = 500;

export function presenceLabel(status) {
  return status.charAt(0).toUpperCase() + status.slice(1);
}

/** Shows `status` on one dot. */
export function setDot(dot, status) {
  dot.dataset.status = status;
  dot.title = presenceLabel(status);
  dot.querySelector("[data-presence-text]").textContent = `(${status})`;
}

/** A dot for a person not yet on the page (people search), as the template makes. */
export function makeDot(userId, status) {
  const dot = document.createElement("span");
  dot.className = "presence";
  dot.dataset.presenceUser = String(userId);
  const mark = document.createElement("span");
  mark.className = "presence-dot";
  mark.setAttribute("aria-hidden", "true");
  const text = document.createElement("span");
  text.className = "visually-hidden";
  text.dataset.presenceText = "";
  dot.append(mark, text);
  setDot(dot, status);
  return dot;
}

class PresenceDots {
  #url = "/api/presence";

  constructor() {
    setInterval(() => this.refresh(), REFRESH_MS);
  }

  /** A presence event, or a refreshed status: every dot of that person. */
  apply(userId, status) {
    for (const dot of document.querySelectorAll(
      `[data-presence-user="${CSS.escape(String(userId))}"]`,
    )) {
      setDot(dot, status);
    }
  }

  /** Asks the server for everyone the page shows; failures wait for the next time. */
  async refresh() {
    const ids = [
      ...new Set(
        [...document.querySelectorAll("[data-presence-user]")].map(
          (dot) => dot.dataset.presenceUser,
        ),
      ),
    ].slice(0, MAX_PER_REQUEST);
    if (!ids.length || document.visibilityState === "hidden") {
      return;
    }
    const query = ids.map((id) => `user=${encodeURIComponent(id)}`).join("&");
    try {
      const response = await fetch(`${this.#url}?${query}`, {
        headers: { Accept: "application/json" },
      });
      if (response.ok) {
        const { presence } = await response.json();
        for (const [id, status] of Object.entries(presence)) {
          this.apply(id, status);
        }
      }
    } catch {
      // Offline for now: the next refresh, or the connection's return, tries again.
    }
  }
}

export const presenceDots = new PresenceDots();

export class PresenceReporter {
  #idleMs;
  #onChange;
  #status = "online";
  #lastActive = Date.now();

  /** onChange(status) hears "online" or "away" whenever this tab's state changes. */
  constructor({ idleMs, onChange }) {
    this.#idleMs = idleMs;
    this.#onChange = onChange;
    for (const type of ACTIVITY) {
      window.addEventListener(type, () => this.#active(), { passive: true, capture: true });
    }
    document.addEventListener("visibilitychange", () => this.#update());
    setInterval(() => this.#update(), Math.min(15_000, idleMs / 4));
    this.#status = this.#current();
  }

  get status() {
    return this.#status;
  }

  #active() {
    this.#lastActive = Date.now();
    if (this.#status !== "online") {
      this.#update();
    }
  }

  #current() {
    const idle = Date.now() - this.#lastActive >= this.#idleMs;
    return document.visibilityState === "hidden" || idle ? "away" : "online";
  }

  #update() {
    const status = this.#current();
    if (status !== this.#status) {
      this.#status = status;
      this.#onChange(status);
    }
  }
}
