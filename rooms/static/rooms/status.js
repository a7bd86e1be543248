/** The connection state in words, so nobody has to guess why messages stopped. */

const LABELS = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

export function showConnectionState(element, state) {
  element.dataset.state = state;
  element.querySelector("[data-connection-text]").textContent = LABELS[state];
}
