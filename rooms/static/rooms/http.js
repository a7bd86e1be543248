/**
 * Plain HTTP for the fallback transports: client frames POSTed to /api/frames, and the
 * cursor that tells the event stream and long-polling where to catch up from.
 */

const POST_TIMEOUT_MS = 20_000;

/** Django's CSRF token: the cookie, else a form's hidden field on the page. */
export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) {
    return decodeURIComponent(match[1]);
  }
  return document.querySelector("input[name=csrfmiddlewaretoken]")?.value ?? "";
}

/** POSTs one frame; resolves to {status, data}, rejects when the request fails. */
export async function postFrame(url, frame) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      "X-CSRFToken": csrfToken(),
    },
    body: JSON.stringify(frame),
    signal: AbortSignal.timeout(POST_TIMEOUT_MS),
  });
  const data = await response.json().catch(() => null);
  return { status: response.status, data };
}

/**
 * Whether plain HTTP gets through, asked with an authenticated request: "ok", "signed
 * out" (the server answers, but no longer knows us) or "down".
 */
export async function probeHttp(url) {
  try {
    const { status } = await postFrame(url, { type: "ping" });
    if (status === 200) {
      return "ok";
    }
    return status === 401 ? "signed out" : "down";
  } catch {
    return "down";
  }
}

/**
 * Frames POSTed one at a time, in the order they were handed over, so two messages
 * sent quickly are stored in that order. Reply frames go to onFrame; a request that
 * fails (network, server error, signed out) goes to onFail once, and nothing queued
 * after it is sent: whoever holds the frames sends them again on the next connection.
 */
export class FramePoster {
  #url;
  #onFrame;
  #onFail;
  #queue = Promise.resolve();
  #stopped = false;

  constructor(url, { onFrame, onFail }) {
    this.#url = url;
    this.#onFrame = onFrame;
    this.#onFail = onFail;
  }

  send(frame) {
    this.#queue = this.#queue.then(() => this.#post(frame));
  }

  stop() {
    this.#stopped = true;
  }

  async #post(frame) {
    if (this.#stopped) {
      return;
    }
    let answer;
    try {
      answer = await postFrame(this.#url, frame);
    } catch (error) {
      this.#fail(`POST failed: ${error.message}`);
      return;
    }
    if (this.#stopped) {
      return;
    }
    const { status, data } = answer;
    if (status === 200 && Array.isArray(data?.frames)) {
      for (const reply of data.frames) {
        this.#onFrame(reply);
      }
    } else if (status >= 400 && status < 500 && status !== 401 && data?.error) {
      // The frame itself was refused (as the socket answers with an error frame).
      const ref = frame.type === "send" ? frame.client_id : (frame.room ?? null);
      this.#onFrame({ type: "error", ...data.error, ref });
    } else {
      this.#fail(`POST answered ${status}`);
    }
  }

  #fail(reason) {
    if (!this.#stopped) {
      this.#stopped = true;
      this.#onFail(reason);
    }
  }
}

/**
 * `slug:seq:change,...` from {slug: {seq, change}} maps, keeping the higher seq and
 * change number of each room (each is a point everything before which is held).
 */
export function cursorText(...maps) {
  const rooms = new Map();
  for (const map of maps) {
    for (const [slug, { seq, change }] of Object.entries(map)) {
      const held = rooms.get(slug) ?? { seq: 0, change: null };
      rooms.set(slug, {
        seq: Math.max(held.seq, seq),
        change: change == null ? held.change : Math.max(held.change ?? 0, change),
      });
    }
  }
  const entry = ([slug, { seq, change }]) =>
    change == null ? `${slug}:${seq}` : `${slug}:${seq}:${change}`;
  return [...rooms].map(entry).join(",");
}

/** The {slug: {seq, change}} map of a cursor the server sent (an event id, a poll's). */
export function parseCursor(text) {
  const rooms = {};
  for (const part of (text ?? "").split(",")) {
    const [slug, ...numbers] = part.split(":");
    const [seq, change] = numbers.map(Number);
    if (slug && Number.isInteger(seq)) {
      rooms[slug] = { seq, change: Number.isInteger(change) ? change : null };
    }
  }
  return rooms;
}
