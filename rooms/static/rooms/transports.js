/**
 * The transports this browser can use, best first, as factories for the Connection:
 * a WebSocket at /ws/, an event stream at /api/stream, long-polling at /api/poll (the
 * last two send with POSTs to /api/frames). A browser without WebSocket or EventSource
 * simply starts further down the list.
 *
 * The HTTP ones ask for presence events (presence=1: a socket gets them once the page
 * reports presence over it) and name the page's connection id, under which the page
 * counts as present and reports away.
 */

import { PollTransport } from "./poll.js";
import { SocketTransport } from "./socket.js";
import { StreamTransport } from "./stream.js";

export const FRAMES_URL = "/api/frames";
const STREAM_PATH = "/api/stream";
const POLL_PATH = "/api/poll";

function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws/`;
}

/**
 * cursor() gives {slug: {seq, change}}, the last seq and change number held: where
 * the HTTP transports catch up from.
 * connectionId: the page's name for its stream or polls in presence.
 */
export function availableTransports(cursor, connectionId) {
  const presence = `presence=1&connection=${encodeURIComponent(connectionId)}`;
  const streamUrl = `${STREAM_PATH}?${presence}`;
  const pollUrl = `${POLL_PATH}?${presence}`;
  const transports = [];
  if ("WebSocket" in window) {
    transports.push((callbacks) => new SocketTransport(socketUrl(), callbacks));
  }
  if ("EventSource" in window) {
    transports.push(
      (callbacks) =>
        new StreamTransport({ stream: streamUrl, frames: FRAMES_URL }, cursor, callbacks),
    );
  }
  transports.push(
    (callbacks) => new PollTransport({ poll: pollUrl, frames: FRAMES_URL }, cursor, callbacks),
  );
  return transports;
}
