/**
 * The transports this browser can use, best first, as factories for the Connection:
 * a WebSocket at /ws/, an event stream at /api/stream, long-polling at /api/poll (the
 * last two send with POSTs to /api/frames). A browser without WebSocket or EventSource
 * simply starts further down the list.
 */

import { PollTransport } from "./poll.js";
import { SocketTransport } from "./socket.js";
import { StreamTransport } from "./stream.js";

export const FRAMES_URL = "/api/frames";
const STREAM_URL = "/api/stream";
const POLL_URL = "/api/poll";

function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws/`;
}

/** cursor() gives {slug: last seq held}: where the HTTP transports catch up from. */
export function availableTransports(cursor) {
  const transports = [];
  if ("WebSocket" in window) {
    transports.push((callbacks) => new SocketTransport(socketUrl(), callbacks));
  }
  if ("EventSource" in window) {
    transports.push(
      (callbacks) =>
        new StreamTransport({ stream: STREAM_URL, frames: FRAMES_URL }, cursor, callbacks),
    );
  }
  transports.push(
    (callbacks) => new PollTransport({ poll: POLL_URL, frames: FRAMES_URL }, cursor, callbacks),
  );
  return transports;
}
