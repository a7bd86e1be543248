/**
 * The tab's one connection to the server, kept alive over whichever transport gets
 * through: a WebSocket, else an event stream with POSTed frames, else long-polling.
 *
 * Lines die quietly (a sleeping laptop, a NAT that forgets us, a server restart), so the
 * connection watches for silence instead of waiting for a close event that may never
 * come: a socket quiet for 15 s is pinged, and any transport that stays silent past its
 * limit is given up on, all within 30 s. A socket that has sent nothing for 30 s pings
 * too, even while the server talks: the server closes sockets silent for 90 s. Retries back off exponentially with full
 * jitter, capped at 30 s, so a restarted server is not hit by every tab at the same
 * instant; the network coming back, the tab coming to the foreground or "Retry now"
 * retry at once. Only the server's hello counts as connected: it comes once the server
 * follows the user's rooms, so frames sent after it are not lost.
 *
 * A transport that keeps failing to open while plain HTTP gets through is the wrong one
 * for this network (a proxy that refuses WebSockets, or buffers event streams): the
 * connection moves down to the next, and from time to time tries the best one again in
 * the background, switching back when it says hello.
 *
 * A sign-in that ends (logged out elsewhere, password changed, account closed, session
 * expired) ends the connection for good: the server says so in a `signed_out` frame, or
 * HTTP answers 401 when a transport fails to open. Retrying would only fail again.
 */

import { probeHttp } from "./http.js";

/** Reasons a transport gives onClose that are the server's decision, not the network's. */
export const SIGNED_OUT = "signed out";
export const TOO_MANY = "too many";

const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30_000;
const WATCH_EVERY_MS = 2_500;
const PONG_GRACE_MS = 5_000;
const SEND_SOMETHING_EVERY_MS = 30_000;
const FAILURES_BEFORE_FALLBACK = 3;
const UPGRADE_EVERY_MS = 60_000;
// Refused for holding too many connections: waiting longer than for a network fault
// gives a closed tab's socket time to be released.
const TOO_MANY_ATTEMPT = 5;
const SESSION_ENDED = {
  type: "signed_out",
  reason: "session_ended",
  message: "Your session has ended; log in again.",
};
// Signs of life, not news: they only keep the line counted as alive.
const QUIET_FRAMES = new Set(["pong", "keepalive"]);

/** Full jitter: any delay from 0 up to the exponential ceiling, so retries spread out. */
export function backoffDelay(attempt) {
  return Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
}

export class Connection {
  #transports;
  #framesUrl;
  #onHello;
  #onFrame;
  #onState;
  #level = 0;
  #current = null;
  #greeted = false;
  #candidate = null;
  #everConnected = false;
  #probing = false;
  #attempt = 0;
  #failures = 0;
  #retryAt = 0;
  #retryTimer = 0;
  #helloTimer = 0;
  #upgradeTimer = 0;
  #lastHeard = 0;
  #pingSentAt = 0;
  #lastSent = 0;
  #shown = "";
  #signedOut = null;
  #note = "";

  /**
   * transports: factories, best first, of those this browser has; each makes a
   * transport (see socket.js) from its callbacks. framesUrl answers a POSTed ping: the
   * check that HTTP gets through. onHello runs on every (re)connect, the moment to
   * catch up and resend; onFrame gets every other frame; onState hears
   * {state: "connecting" | "connected" | "reconnecting" | "offline" | "signed_out",
   *  transport, retryAt, note}; note says why, when the server decided.
   */
  constructor({ transports, framesUrl, onHello, onFrame, onState }) {
    this.#transports = transports;
    this.#framesUrl = framesUrl;
    this.#onHello = onHello;
    this.#onFrame = onFrame;
    this.#onState = onState;
  }

  start() {
    window.addEventListener("online", () => this.retryNow());
    window.addEventListener("offline", () => {
      if (this.#current) {
        this.#lost(this.#current, "offline");
      } else {
        this.#show();
      }
    });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") {
        this.wake();
      }
    });
    window.addEventListener("focus", () => this.wake());
    window.addEventListener("pageshow", (event) => event.persisted && this.wake());
    setInterval(() => this.#watch(), WATCH_EVERY_MS);
    this.#open();
  }

  get connected() {
    return this.#greeted;
  }

  /** Sends a frame if connected. False means it was not sent: keep it for the next hello. */
  send(frame) {
    const sent = this.#greeted && this.#current.send(frame);
    if (sent) {
      this.#lastSent = Date.now();
    }
    return sent;
  }

  /** Tries at once instead of waiting out the backoff (a button, the network back). */
  retryNow() {
    if (this.#current || this.#probing || this.#signedOut) {
      return;
    }
    this.#attempt = 0;
    this.#open();
  }

  /**
   * Checks the line now rather than at the next watch or retry: after the tab comes back
   * to the foreground (timers may have slept) or the network returns. On a fallback,
   * it is also a moment to try the best transport again (the network may have changed).
   */
  wake() {
    if (!this.#greeted) {
      this.retryNow();
      return;
    }
    if (this.#current.pingAfterMs && !this.#pingSentAt) {
      this.#current.ping();
      this.#pingSentAt = Date.now();
    }
    this.#tryUpgrade();
  }

  #make(level) {
    let transport = null;
    const callbacks = {
      onHello: (frame) => {
        if (transport === this.#current) {
          this.#hello(transport, frame);
        } else if (transport === this.#candidate) {
          this.#promote(transport, frame);
        }
      },
      onFrame: (frame) => {
        if (frame.type === "signed_out" && transport === this.#current) {
          this.#signOut(frame);
        } else if (transport === this.#current && this.#greeted) {
          this.#heard();
          if (!QUIET_FRAMES.has(frame.type)) {
            this.#onFrame(frame);
          }
        }
      },
      onAlive: () => {
        if (transport === this.#current) {
          this.#heard();
        }
      },
      onClose: (reason) => {
        if (transport === this.#current) {
          this.#lost(transport, reason);
        } else if (transport === this.#candidate) {
          this.#dropCandidate();
        }
      },
    };
    transport = this.#transports[level](callbacks);
    return transport;
  }

  #open() {
    if (this.#signedOut) {
      return;
    }
    clearTimeout(this.#retryTimer);
    this.#retryAt = 0;
    const transport = this.#make(this.#level);
    this.#current = transport;
    this.#greeted = false;
    this.#show();
    this.#helloTimer = setTimeout(() => this.#lost(transport, "no hello"), transport.helloWithinMs);
    transport.open();
  }

  #hello(transport, frame) {
    clearTimeout(this.#helloTimer);
    this.#greeted = true;
    this.#everConnected = true;
    this.#lastSent = Date.now();
    this.#attempt = 0;
    this.#failures = 0;
    this.#note = "";
    this.#heard();
    this.#show();
    this.#scheduleUpgrade();
    this.#onHello(frame);
  }

  #heard() {
    this.#lastHeard = Date.now();
    this.#pingSentAt = 0;
  }

  /**
   * Pings a quiet socket, or one that has sent nothing for a while; gives up on a line
   * silent past its transport's limit.
   */
  #watch() {
    const transport = this.#current;
    if (!transport || !this.#greeted) {
      return;
    }
    const now = Date.now();
    const silent = now - this.#lastHeard;
    const quiet = now - this.#lastSent >= SEND_SOMETHING_EVERY_MS;
    if (
      transport.pingAfterMs &&
      (silent >= transport.pingAfterMs || quiet) &&
      !this.#pingSentAt
    ) {
      this.#lastSent = now;
      transport.ping();
      this.#pingSentAt = now;
      return;
    }
    // A ping sent a moment ago (timers of a background tab fire late) gets its chance.
    const answerable = !transport.pingAfterMs || now - this.#pingSentAt >= PONG_GRACE_MS;
    if (silent >= transport.silentForMs && answerable) {
      this.#lost(transport, "silent");
    }
  }

  async #lost(transport, reason) {
    if (transport !== this.#current) {
      return;
    }
    const wasGreeted = this.#greeted;
    this.#current = null;
    this.#greeted = false;
    clearTimeout(this.#helloTimer);
    clearTimeout(this.#upgradeTimer);
    this.#dropCandidate({ again: false });
    transport.close();
    if (this.#signedOut) {
      return;
    }
    if (reason === TOO_MANY) {
      this.#note = "Too many open connections: close some tabs.";
      this.#attempt = Math.max(this.#attempt, TOO_MANY_ATTEMPT);
      this.#schedule();
      return;
    }
    if (wasGreeted || reason === "offline" || !navigator.onLine) {
      this.#schedule();
      return;
    }
    // It never opened. If plain HTTP gets through, the fault is this transport's.
    this.#probing = true;
    this.#show();
    const http = await probeHttp(this.#framesUrl);
    this.#probing = false;
    if (http === "signed out") {
      this.#signOut(SESSION_ENDED);
      return;
    }
    if (this.#current) {
      return;
    }
    if (http === "ok") {
      this.#failures += 1;
      const stuck = reason === "no hello" || this.#failures >= FAILURES_BEFORE_FALLBACK;
      if (stuck && this.#level < this.#transports.length - 1) {
        this.#level += 1;
        this.#failures = 0;
        this.#attempt = 0;
        this.#open();
        return;
      }
    }
    this.#schedule();
  }

  #schedule() {
    clearTimeout(this.#retryTimer);
    const delay = backoffDelay(this.#attempt);
    this.#attempt += 1;
    this.#retryAt = Date.now() + delay;
    this.#retryTimer = setTimeout(() => this.#open(), delay);
    this.#show();
  }

  #scheduleUpgrade() {
    clearTimeout(this.#upgradeTimer);
    if (this.#level > 0) {
      this.#upgradeTimer = setTimeout(() => this.#tryUpgrade(), UPGRADE_EVERY_MS);
    }
  }

  /** Opens the best transport beside the one in use; it takes over if it says hello. */
  #tryUpgrade() {
    if (!this.#greeted || this.#level === 0 || this.#candidate) {
      return;
    }
    clearTimeout(this.#upgradeTimer);
    const candidate = this.#make(0);
    this.#candidate = candidate;
    candidate.timer = setTimeout(() => this.#dropCandidate(), candidate.helloWithinMs);
    candidate.open();
  }

  #promote(candidate, frame) {
    clearTimeout(candidate.timer);
    const old = this.#current;
    this.#candidate = null;
    this.#current = candidate;
    this.#level = 0;
    old?.close();
    this.#hello(candidate, frame);
  }

  #dropCandidate({ again = true } = {}) {
    const candidate = this.#candidate;
    if (candidate) {
      this.#candidate = null;
      clearTimeout(candidate.timer);
      candidate.close();
      if (again) {
        this.#scheduleUpgrade();
      }
    }
  }

  /** The sign-in ended: stop for good and say why. */
  #signOut(frame) {
    this.#signedOut = frame;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#helloTimer);
    clearTimeout(this.#upgradeTimer);
    this.#retryAt = 0;
    this.#greeted = false;
    this.#dropCandidate({ again: false });
    this.#current?.close();
    this.#current = null;
    this.#note = frame.detail ? `${frame.message} (${frame.detail})` : frame.message;
    this.#show();
  }

  #show() {
    let state = "reconnecting";
    if (this.#signedOut) {
      state = "signed_out";
    } else if (this.#greeted) {
      state = "connected";
    } else if (!navigator.onLine) {
      state = "offline";
    } else if (!this.#everConnected && !this.#retryAt) {
      state = "connecting";
    }
    const shown = {
      state,
      transport: this.#greeted ? this.#current.label : null,
      retryAt: state === "connected" ? null : this.#retryAt || null,
      note: state === "connected" ? "" : this.#note,
    };
    const key = JSON.stringify(shown);
    if (key !== this.#shown) {
      this.#shown = key;
      this.#onState(shown);
    }
  }
}
