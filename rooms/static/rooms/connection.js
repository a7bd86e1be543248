/**
 * The tab's one WebSocket, kept alive.
 *
 * Sockets die quietly (a sleeping laptop, a NAT that forgets us, a server restart), so
 * the connection pings every 25 s and takes a missing pong as death instead of waiting
 * for a close event that may never come. Retries back off exponentially with full
 * jitter, capped at 30 s, so a restarted server is not hit by every tab at the same
 * instant. Only the server's hello counts as connected: it comes once the socket is
 * authenticated and follows the user's rooms, so frames sent after it are not lost.
 */

const PING_INTERVAL_MS = 25_000;
const PONG_TIMEOUT_MS = 10_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30_000;

/** Full jitter: any delay from 0 up to the exponential ceiling, so retries spread out. */
export function backoffDelay(attempt) {
  return Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
}

export class Connection {
  #url;
  #onHello;
  #onFrame;
  #onState;
  #socket = null;
  #state = "";
  #attempt = 0;
  #everConnected = false;
  #retryTimer = 0;
  #pingTimer = 0;
  #pongTimer = 0;

  /**
   * onHello runs on every (re)connect, the moment to catch up and resend; onFrame gets
   * every other frame; onState hears "connecting", "connected", "reconnecting" and
   * "offline".
   */
  constructor(url, { onHello, onFrame, onState }) {
    this.#url = url;
    this.#onHello = onHello;
    this.#onFrame = onFrame;
    this.#onState = onState;
  }

  start() {
    window.addEventListener("online", () => this.wake());
    window.addEventListener("offline", () => this.#drop());
    this.#open();
  }

  /** Sends a frame if connected. False means it was not sent: keep it for the next hello. */
  send(frame) {
    if (this.#state !== "connected") {
      return false;
    }
    this.#socket.send(JSON.stringify(frame));
    return true;
  }

  /**
   * Checks the line now rather than at the next ping or retry: after the tab comes back
   * to the foreground (timers may have slept) or the network returns.
   */
  wake() {
    if (this.#state === "connected") {
      this.#ping();
    } else if (!this.#socket) {
      this.#attempt = 0;
      this.#open();
    }
  }

  #setState(state) {
    if (state !== this.#state) {
      this.#state = state;
      this.#onState(state);
    }
  }

  #open() {
    clearTimeout(this.#retryTimer);
    if (navigator.onLine) {
      this.#setState(this.#everConnected ? "reconnecting" : "connecting");
    }
    const socket = new WebSocket(this.#url);
    this.#socket = socket;
    // A socket given up on may still fire events later; only the current one counts.
    socket.addEventListener("message", (event) => {
      if (socket === this.#socket) {
        this.#receive(JSON.parse(event.data));
      }
    });
    socket.addEventListener("close", () => {
      if (socket === this.#socket) {
        this.#drop();
      }
    });
  }

  #receive(frame) {
    if (frame.type === "pong") {
      clearTimeout(this.#pongTimer);
      this.#pongTimer = 0;
    } else if (frame.type === "hello") {
      this.#attempt = 0;
      this.#everConnected = true;
      this.#setState("connected");
      clearInterval(this.#pingTimer);
      this.#pingTimer = setInterval(() => this.#ping(), PING_INTERVAL_MS);
      this.#onHello(frame);
    } else {
      this.#onFrame(frame);
    }
  }

  #ping() {
    this.#socket.send(JSON.stringify({ type: "ping" }));
    if (!this.#pongTimer) {
      this.#pongTimer = setTimeout(() => this.#drop(), PONG_TIMEOUT_MS);
    }
  }

  /** Abandons the socket without waiting for a closing handshake a dead line never ends. */
  #drop() {
    const socket = this.#socket;
    this.#socket = null;
    clearInterval(this.#pingTimer);
    clearTimeout(this.#pongTimer);
    clearTimeout(this.#retryTimer);
    this.#pongTimer = 0;
    socket?.close();
    // Retry even when the browser says it is offline: that flag is a hint, and wrong
    // on some machines with no default route. The "online" event retries at once.
    this.#setState(navigator.onLine ? "reconnecting" : "offline");
    this.#retryTimer = setTimeout(() => this.#open(), backoffDelay(this.#attempt));
    this.#attempt += 1;
  }
}
