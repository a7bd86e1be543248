/**
 * The WebSocket transport: frames both ways over one socket at /ws/.
 *
 * Every transport has this shape, so the Connection need not care which one runs:
 *   label          what the page shows: "Connected (WebSocket)"
 *   helloWithinMs  how long opening may take, up to the server's hello
 *   pingAfterMs    silence after which to ask for a sign of life (0: never)
 *   silentForMs    silence after which the line counts as dead
 *   open()         starts; callbacks: onHello(frame) once, then onFrame(frame) for every
 *                  other frame, onAlive() for a sign of life without a frame, and
 *                  onClose(reason) once if it dies by itself
 *   send(frame)    hands a frame over; false if it cannot now
 *   ping()         asks the server for a sign of life
 *   close()        ends it; no callback after this
 * A transport never reconnects by itself: the Connection decides when and how.
 */

import { SIGNED_OUT, TOO_MANY } from "./connection.js";

// The server's close codes that are not network trouble (docs/protocol.md).
const CLOSE_REASONS = { 4401: SIGNED_OUT, 4429: TOO_MANY };

export class SocketTransport {
  label = "WebSocket";
  helloWithinMs = 10_000;
  pingAfterMs = 15_000;
  silentForMs = 25_000;

  #url;
  #callbacks;
  #socket = null;
  #closed = false;

  constructor(url, callbacks) {
    this.#url = url;
    this.#callbacks = callbacks;
  }

  open() {
    const socket = new WebSocket(this.#url);
    this.#socket = socket;
    socket.addEventListener("message", (event) => {
      if (this.#closed) {
        return;
      }
      const frame = JSON.parse(event.data);
      if (frame.type === "hello") {
        this.#callbacks.onHello(frame);
      } else {
        this.#callbacks.onFrame(frame);
      }
    });
    socket.addEventListener("close", (event) => {
      if (!this.#closed) {
        this.#closed = true;
        this.#callbacks.onClose(CLOSE_REASONS[event.code] ?? `socket closed (${event.code})`);
      }
    });
  }

  send(frame) {
    if (this.#closed || this.#socket?.readyState !== WebSocket.OPEN) {
      return false;
    }
    this.#socket.send(JSON.stringify(frame));
    return true;
  }

  ping() {
    this.send({ type: "ping" });
  }

  /** Abandons the socket without waiting for a closing handshake a dead line never ends. */
  close() {
    this.#closed = true;
    this.#socket?.close();
  }
}
