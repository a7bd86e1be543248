/**
 * Pages of a room's history over HTTP: older messages while scrolling back, and the
 * newest page again when the server says too much was missed to replay over the socket.
 */

const PAGE_SIZE = 50;

export async function fetchMessages(url, { before } = {}) {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (before) {
    query.set("before", String(before));
  }
  const response = await fetch(`${url}?${query}`, { headers: { Accept: "application/json" } });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(data.error?.message ?? `The server answered ${response.status}.`);
  }
  return data;
}
