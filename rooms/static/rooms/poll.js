/**
 * The long-polling transport, the last resort, for when neither a WebSocket nor an
 * event stream gets through: GET /api/poll?cursor=... answers at once with what the
 * cursor is missing, else with the first live events within 25 s (or nothing); client
 * frames are POSTed to /api/frames. Same shape as SocketTransport (see socket.js).
 *
 * A POSTed ping stands for the hello (it proves the session works), so the page counts
 * as connected at once instead of after the first, possibly long, poll. Each poll asks
 * from the higher of what the page holds and what the last poll delivered, so nothing
 * that came while no poll was open is missed. A failed poll ends the transport; the
 * Connection retries with backoff.
 */

import { FramePoster, cursorText, parseCursor, postFrame } from "./http.js";

const POLL_TIMEOUT_MS = 30_000;

export class PollTransport {
  label = "polling";
  helloWithinMs = 10_000;
  pingAfterMs = 0;
  silentForMs = POLL_TIMEOUT_MS + 5_000;

  #urls;
  #cursor;
  #callbacks;
  #poster;
  #delivered = {};
  #gone = new Set();
  #greeted = false;
  #closed = false;
  #request = null;

  /** cursor() gives {slug: {seq, change}} held, for the rooms to catch up on. */
  constructor({ poll, frames }, cursor, callbacks) {
    this.#urls = { poll, frames };
    this.#cursor = cursor;
    this.#callbacks = callbacks;
    this.#poster = new FramePoster(frames, {
      onFrame: (frame) => this.#callbacks.onFrame(frame),
      onFail: (reason) => this.#fail(reason),
    });
  }

  open() {
    this.#run();
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
    this.#request?.abort();
  }

  async #run() {
    try {
      const { status } = await postFrame(this.#urls.frames, { type: "ping" });
      if (status !== 200) {
        throw new Error(`the server answered ${status}`);
      }
    } catch (error) {
      this.#fail(`no answer: ${error.message}`);
      return;
    }
    if (this.#closed) {
      return;
    }
    this.#greeted = true;
    this.#callbacks.onHello({ type: "hello" });
    while (!this.#closed) {
      let data;
      try {
        data = await this.#poll();
      } catch (error) {
        this.#fail(`poll failed: ${error.message}`);
        return;
      }
      if (this.#closed) {
        return;
      }
      this.#delivered = parseCursor(data.cursor);
      this.#callbacks.onAlive();
      for (const frame of data.events) {
        // A room that no longer exists for this user is left out of later polls,
        // or every poll would come straight back with the same error.
        if (frame.type === "error" && frame.code === "not_found" && frame.ref) {
          this.#gone.add(frame.ref);
        }
        this.#callbacks.onFrame(frame);
      }
    }
  }

  async #poll() {
    const rooms = parseCursor(cursorText(this.#cursor(), this.#delivered));
    for (const slug of this.#gone) {
      delete rooms[slug];
    }
    const url = new URL(this.#urls.poll, location.href);
    url.searchParams.set("cursor", cursorText(rooms));
    this.#request = new AbortController();
    const timer = setTimeout(() => this.#request.abort(), POLL_TIMEOUT_MS);
    try {
      const response = await fetch(url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: this.#request.signal,
      });
      if (!response.ok) {
        throw new Error(`the server answered ${response.status}`);
      }
      return await response.json();
    } finally {
      clearTimeout(timer);
    }
  }

  #fail(reason) {
    if (!this.#closed) {
      this.close();
      this.#callbacks.onClose(reason);
    }
  }
}
