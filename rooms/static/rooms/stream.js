/**
 * The event-stream transport, for when a WebSocket cannot get through: server frames
 * over an EventSource on /api/stream, client frames POSTed to /api/frames.
 *
 * The stream starts with hello, then catches up from the cursor it was opened with,
 * then carries live events, and a keepalive frame whenever it has been quiet for 15 s.
 * A stream that does not deliver its hello within a few seconds is taken for one held
 * back by a buffering proxy. Same shape as SocketTransport (see socket.js).
 */

import { FramePoster, cursorText } from "./http.js";

export class StreamTransport {
  label = "event stream";
  helloWithinMs = 5_000;
  pingAfterMs = 0;
  silentForMs = 25_000;

  #urls;
  #cursor;
  #callbacks;
  #source = null;
  #poster;
  #greeted = false;
  #closed = false;

  /** cursor() gives {slug: {seq, change}} held, for the rooms to catch up on. */
  constructor({ stream, frames }, cursor, callbacks) {
    this.#urls = { stream, frames };
    this.#cursor = cursor;
    this.#callbacks = callbacks;
    this.#poster = new FramePoster(frames, {
      onFrame: (frame) => this.#callbacks.onFrame(frame),
      onFail: (reason) => this.#fail(reason),
    });
  }

  open() {
    const url = new URL(this.#urls.stream, location.href);
    url.searchParams.set("cursor", cursorText(this.#cursor()));
    const source = new EventSource(url);
    this.#source = source;
    source.addEventListener("message", (event) => {
      if (this.#closed) {
        return;
      }
      const frame = JSON.parse(event.data);
      if (frame.type === "hello") {
        this.#greeted = true;
        this.#callbacks.onHello(frame);
      } else {
        this.#callbacks.onFrame(frame);
      }
    });
    // EventSource would reconnect by itself, resuming from its last event id; the
    // Connection does that instead, with backoff and a cursor from the timeline.
    source.addEventListener("error", () => this.#fail("stream error"));
  }

  send(frame) {
    if (this.#closed || !this.#greeted) {
      return false;
    }
    this.#poster.send(frame);
    return true;
  }

  ping() {}

  close() {
    this.#closed = true;
    this.#poster.stop();
    this.#source?.close();
  }

  #fail(reason) {
    if (!this.#closed) {
      this.close();
      this.#callbacks.onClose(reason);
    }
  }
}
