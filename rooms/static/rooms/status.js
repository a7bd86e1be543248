/**
 * The connection state in words, so nobody has to guess why messages stopped: which
 * transport carries the chat, or how long until the next try, with a button to try now;
 * once signed out, why, and a link to log in again.
 *
 * Only the state itself is in the live region (role=status): a screen reader hears
 * "Reconnecting…" once, not every tick of the countdown beside it.
 */

const LABELS = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  offline: "Offline",
  signed_out: "Signed out",
};

export class ConnectionStatus {
  #status;
  #text;
  #countdown;
  #retry;
  #login;
  #retryAt = null;
  #timer = 0;

  /**
   * root holds [data-connection-status], [data-connection-countdown], the retry button
   * and the [data-connection-login] link.
   */
  constructor(root, { onRetry }) {
    this.#status = root.querySelector("[data-connection-status]");
    this.#text = this.#status.querySelector("[data-connection-text]");
    this.#countdown = root.querySelector("[data-connection-countdown]");
    this.#retry = root.querySelector("[data-connection-retry]");
    this.#login = root.querySelector("[data-connection-login]");
    this.#retry.addEventListener("click", () => onRetry());
  }

  show({ state, transport, retryAt, note }) {
    this.#status.dataset.state = state;
    this.#status.dataset.transport = transport ?? "";
    const label =
      state === "connected" && transport ? `Connected (${transport})` : LABELS[state];
    this.#text.textContent = note ? `${label}. ${note}` : label;
    this.#retry.hidden = ["connected", "connecting", "signed_out"].includes(state);
    this.#login.hidden = state !== "signed_out";
    this.#retryAt = state === "reconnecting" ? retryAt : null;
    this.#tick();
  }

  #tick() {
    clearTimeout(this.#timer);
    const left = this.#retryAt === null ? 0 : Math.ceil((this.#retryAt - Date.now()) / 1000);
    this.#countdown.hidden = left <= 0;
    this.#countdown.textContent = left > 0 ? `Next try in ${left} s` : "";
    if (left > 0) {
      this.#timer = setTimeout(() => this.#tick(), 250);
    }
  }
}
