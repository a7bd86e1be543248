/**
 * The room page: wires the socket, the message list, the composer and the sidebar.
 *
 * The page arrives with the room's newest messages embedded as JSON; everything after
 * that comes over the socket. The rules that keep the list exact live here. Each
 * message shows once, keyed by id, and by client_id while it is being sent, because
 * its ack and its live echo both arrive and either may come first. On every
 * (re)connect the page asks for what came after the last seq it holds without a gap,
 * and a live message that skips a seq asks the same, so a lost event costs a round
 * trip, never a message. Edits, deletions and reactions are caught up on the same
 * way, by the room's change numbers, and each message shows its newest state.
 */

import { MessageActions } from "./actions.js";
import { Composer } from "./composer.js";
import { Connection } from "./connection.js";
import { fetchMessages } from "./history.js";
import { MessageList } from "./messages.js";
import { MentionAutocomplete } from "./mentions.js";
import { DesktopNotifications } from "./notifications.js";
import { Outbox, isPermanent, outboxKey } from "./outbox.js";
import { PresenceReporter, presenceDots } from "./presence.js";
import { SeenBy } from "./receipts.js";
import { excerptOf } from "./rich.js";
import { Sidebar } from "./sidebar.js";
import { ConnectionStatus } from "./status.js";
import { Timeline } from "./timeline.js";
import { FRAMES_URL, availableTransports } from "./transports.js";
import { TypingIndicator, TypingThrottle } from "./typing.js";
import { UnreadDivider } from "./unread.js";

const READ_DELAY_MS = 1000;
const TRANSIENT_RETRY_MS = 3000;
// Over HTTP a presence report may beat the first poll that makes the page present.
const PRESENCE_RETRY_MS = 2000;

const root = document.querySelector("[data-chat]");
const state = JSON.parse(document.getElementById("client-state").textContent);
const slug = state.room.slug;
const me = state.user;
const historyUrl = root.dataset.historyUrl;

let isMember = state.is_member;
let resuming = false;
let readSent = state.last_read_seq ?? 0;
let readTimer = 0;
let presenceRetried = false;
// This page's name for its event stream or polls in presence (a socket needs none).
const connectionId = crypto.randomUUID();

const timeline = new Timeline(state.messages, state.room.last_change);
const outbox = new Outbox(outboxKey(me.id, slug));
const sidebar = new Sidebar(document.getElementById("sidebar"), state.rooms, me);
const list = new MessageList(root, {
  me,
  roomLabel:
    state.room.kind === "direct"
      ? `your conversation with ${state.room.name}`
      : `#${state.room.name}`,
  fetchOlder: loadOlder,
  onRetry: retry,
  onEdit: takeBack,
  onDiscard: discard,
});
const composerForm = root.querySelector("[data-composer]");
const typists = new TypingIndicator(root.querySelector("[data-typing]"), me);
const typing = new TypingThrottle(() => connection.send({ type: "typing", room: slug }));
const composer = composerForm
  ? new Composer(composerForm, {
      maxLength: state.max_length,
      onSend: send,
      onTyping: () => typing.typed(),
    })
  : null;
const presence = new PresenceReporter({
  idleMs: state.presence_idle_ms,
  onChange: reportPresence,
});
if (composerForm) {
  new MentionAutocomplete(composerForm, { url: root.dataset.membersUrl });
}
const roomUrl = (roomSlug) =>
  document
    .getElementById("sidebar-room-template")
    .dataset.urlPattern.replace("__slug__", encodeURIComponent(roomSlug));
const notifications = new DesktopNotifications(
  document.querySelector("[data-notifications]"),
  { me, roomUrl },
);
const muteButton = root.querySelector("[data-room-mute]");
muteButton?.addEventListener("click", () => {
  const muted = muteButton.getAttribute("aria-pressed") !== "true";
  if (!connection.send({ type: "notifications", room: slug, muted })) {
    showError("Not connected: try again once the connection is back.");
  }
});
const seenBy = new SeenBy(
  root.querySelector("[data-seen-by]"),
  root.querySelector("[data-message-list]"),
  { me, receipts: state.receipts },
);
const actions = new MessageActions(root, {
  me,
  maxLength: state.max_length,
  onReply: startReply,
  onEdit: (id, body) => act({ type: "edit", room: slug, id, body }),
  onDelete: (id) => act({ type: "delete", room: slug, id }),
  onReact: (id, emoji, on) => act({ type: "react", room: slug, id, emoji, on }),
  onJump: (id) => list.reveal(id),
});
// Replying and reacting are for members with a message box (not a locked room's).
actions.setMember(isMember && composer !== null);
const status = new ConnectionStatus(root, { onRetry: () => connection.retryNow() });
const connection = new Connection({
  transports: availableTransports(
    () => ({ [slug]: { seq: timeline.lastSeq, change: timeline.lastChange } }),
    connectionId,
  ),
  framesUrl: FRAMES_URL,
  onHello: caughtUp,
  onFrame: (frame) => HANDLERS[frame.type]?.(frame),
  onState: (connectionState) => status.show(connectionState),
});

list.replace(state.messages, state.messages.length > 0 && state.messages[0].seq > 1);
new UnreadDivider(root.querySelector("[data-message-list]"), {
  readSeq: state.last_read_seq,
  lastSeq: state.room.last_seq,
  me,
}).reveal(root.querySelector("[data-scroller]"));
showUnsent();
connection.start();
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") {
    // Back from the background: the connection checks its line, and the page asks for
    // anything a quiet line may have missed (a live event lost on the server's side).
    requestMissing();
    queueRead();
  }
});

/** Messages left unsent by an earlier page show again, unless they were stored since. */
function showUnsent() {
  const stored = new Set(state.messages.map((message) => message.client_id));
  for (const item of outbox.restore()) {
    if (stored.has(item.clientId)) {
      outbox.take(item.clientId);
      continue;
    }
    list.addUnsent(item);
    if (item.failed) {
      list.markFailed(item.clientId, item.reason);
    }
  }
}

function caughtUp() {
  resuming = false;
  presenceRetried = false;
  reportPresence();
  // Presence events missed while the connection was down are not replayed.
  presenceDots.refresh();
  requestMissing();
  for (const item of outbox.unsent()) {
    connection.send(sendFrame(item));
  }
  queueRead();
}

/** Whether this tab is in use; it also asks the socket for others' presence. */
function reportPresence() {
  connection.send({ type: "presence", status: presence.status, connection: connectionId });
}

function requestMissing() {
  if (!resuming) {
    resuming = connection.send({
      type: "resume",
      rooms: { [slug]: timeline.lastSeq },
      changes: { [slug]: timeline.lastChange },
    });
  }
}

function sendFrame(item) {
  return {
    type: "send",
    room: slug,
    body: item.body,
    client_id: item.clientId,
    reply_to: item.replyTo ?? null,
  };
}

function send(body, reply = null) {
  // What it replies to is kept with it, in storage too: it survives a reload.
  const item = outbox.add(body, reply ? { replyTo: reply.id, replyQuote: reply.quote } : {});
  typing.reset();
  list.addUnsent(item);
  connection.send(sendFrame(item));
}

function retry(clientId) {
  const item = outbox.retry(clientId);
  list.markSending(clientId);
  composer?.clearError();
  connection.send(sendFrame(item));
}

/** A refusal for now (flood control, a server error): the same frame again, later. */
function retryLater(clientId, seconds) {
  const delay = seconds ? seconds * 1000 : TRANSIENT_RETRY_MS;
  setTimeout(() => {
    const item = outbox.get(clientId);
    if (item && !item.failed) {
      connection.send(sendFrame(item));
    }
  }, delay);
}

function discard(clientId) {
  outbox.take(clientId);
  list.removeUnsent(clientId);
}

/** The composer names the message being answered until the reply is sent. */
function startReply(message) {
  const excerpt = excerptOf(message.body);
  composer?.replyTo({
    id: message.id,
    author: message.author,
    excerpt,
    quote: { id: message.id, seq: message.seq, author: message.author, excerpt, deleted: false },
  });
}

/**
 * An edit, deletion or reaction. Its outcome comes back as the room's event (or as an
 * error frame whose ref is "<type>:<id>"); with no connection it is refused at once.
 */
function act(frame) {
  if (!connection.send(frame)) {
    const text = "Not connected: try again once the connection is back.";
    if (!actions.failed(`${frame.type}:${frame.id}`, text)) {
      showError(text);
    }
  }
}

function takeBack(clientId) {
  const item = outbox.take(clientId);
  list.removeUnsent(clientId);
  composer?.restore(item.body);
}

/** Keeps the messages not seen before, settling any of ours that were being sent. */
function accept(messages) {
  const fresh = messages.filter((message) => timeline.add(message));
  settle(fresh);
  return fresh;
}

function settle(messages) {
  for (const message of messages) {
    if (message.client_id) {
      outbox.take(message.client_id);
    }
    sidebar.noteMessage(message, { read: isReading() });
  }
}

function showLive(messages) {
  const fresh = accept(messages);
  for (const message of fresh) {
    // Their message is here: they are not typing it any more.
    typists.clear(message.author.id);
    seenBy.noteAuthor(message);
  }
  list.add(fresh, { live: true });
  const others = fresh.filter((message) => message.author.id !== me.id);
  if (others.length === 1) {
    const [message] = others;
    list.announce(`${message.author.name}: ${message.deleted ? "message deleted" : message.body}`);
  } else if (others.length > 1) {
    list.announce(`${others.length} new messages`);
  }
  if (fresh.length && timeline.hasGap) {
    requestMissing();
  }
  queueRead();
}

/** A stored message in its state now: edited, deleted or restored, reacted to. */
function showChange(message) {
  sidebar.noteMentions(message);
  list.update(message);
  actions.edited(message.id);
}

/** A change event's number: one that skips a change asks for what was missed. */
function noteChange(change) {
  if (change != null) {
    timeline.addChange(change);
    if (timeline.hasGap) {
      requestMissing();
    }
  }
}

async function loadOlder() {
  const page = await fetchMessages(historyUrl, { before: timeline.oldestSeq });
  return { messages: accept(page.messages), hasMore: page.has_more };
}

/** Too much was missed to replay over the socket: start again from the newest page. */
async function reloadNewest() {
  let page;
  try {
    page = await fetchMessages(historyUrl);
  } catch (error) {
    showError(`Could not reload the messages: ${error.message}`);
    return;
  } finally {
    resuming = false;
  }
  timeline.reset(page.messages, page.last_change);
  settle(page.messages);
  list.replace(page.messages, page.has_more);
  // Live messages that came while the page was loading were dropped with the rest.
  requestMissing();
  queueRead();
}

function isReading() {
  return document.visibilityState === "visible";
}

/** Reads are batched: a busy room would otherwise cost a frame per message. */
function queueRead() {
  if (!readTimer) {
    readTimer = setTimeout(markRead, READ_DELAY_MS);
  }
}

function markRead() {
  readTimer = 0;
  const seq = timeline.lastSeq;
  if (!isMember || !isReading() || seq <= readSent) {
    return;
  }
  if (connection.send({ type: "read", room: slug, seq })) {
    readSent = seq;
    sidebar.markRead(slug, seq);
  }
}

function showError(text) {
  if (composer) {
    composer.showError(text);
  } else {
    list.announce(text);
  }
}

const HANDLERS = {
  ack(frame) {
    if (frame.room !== slug) {
      return;
    }
    // A resend after a lost ack may be answered with a message from before the oldest
    // one shown: it belongs further back in the history, not at the end.
    if (frame.message.seq >= timeline.oldestSeq) {
      showLive([frame.message]);
    }
    // Stored, whether or not this page already showed it (ack lost, message seen live).
    if (outbox.has(frame.client_id)) {
      outbox.take(frame.client_id);
      list.removeUnsent(frame.client_id);
    }
  },
  message(frame) {
    if (frame.room === slug) {
      showLive([frame.message]);
    } else {
      sidebar.noteMessage(frame.message, { read: false });
    }
    notifications.consider(frame.message, sidebar.room(frame.room));
  },
  messages(frame) {
    if (frame.room === slug) {
      resuming = false;
      timeline.caughtUpTo(frame.last_change);
      showLive(frame.messages);
      for (const message of frame.changed) {
        showChange(message);
      }
    }
  },
  resync(frame) {
    if (frame.room === slug) {
      reloadNewest();
    }
  },
  message_edited(frame) {
    if (frame.room === slug) {
      showChange(frame.message);
      noteChange(frame.change);
    } else {
      sidebar.noteMentions(frame.message);
    }
  },
  reactions(frame) {
    if (frame.room === slug) {
      list.setReactions(frame.id, frame.reactions, frame.change);
      noteChange(frame.change);
    }
  },
  message_deleted(frame) {
    sidebar.noteMentions({ room: frame.room, seq: frame.seq, deleted: true });
    if (frame.room === slug) {
      list.markDeleted(frame.id, frame.change);
      noteChange(frame.change);
    }
  },
  room_joined(frame) {
    sidebar.add(frame.room, frame.last_read_seq);
    if (frame.room.slug === slug) {
      isMember = true;
      actions.setMember(composer !== null);
    }
  },
  room_left(frame) {
    sidebar.remove(frame.room);
    if (frame.room === slug) {
      isMember = false;
      actions.setMember(false);
      showError("You are no longer a member of this room.");
    }
  },
  room_private(frame) {
    // Members hear it too and stay; for anyone else the server has stopped sending,
    // and joining is no longer open to them.
    if (frame.room === slug && !isMember) {
      const text = "This room is now private: only its members can read it.";
      const notice = document.createElement("p");
      notice.className = "join-bar";
      notice.textContent = text;
      document.querySelector("[data-join-bar]")?.replaceWith(notice);
      actions.setMember(false);
      list.announce(text);
    }
  },
  read(frame) {
    sidebar.markRead(frame.room, frame.seq);
  },
  typing(frame) {
    if (frame.room === slug) {
      typists.show(frame.user);
    }
  },
  presence(frame) {
    presenceDots.apply(frame.user, frame.status);
  },
  receipt(frame) {
    if (frame.room === slug) {
      seenBy.note(frame.user, frame.seq, frame.members);
    }
  },
  room_notifications(frame) {
    sidebar.setMuted(frame.room, frame.muted);
    if (frame.room === slug) {
      muteButton?.setAttribute("aria-pressed", String(frame.muted));
    }
  },
  error(frame) {
    // Typing and presence are best effort: never worth a message to the user.
    if (frame.ref === "presence") {
      if (frame.code === "not_found" && !presenceRetried) {
        presenceRetried = true;
        setTimeout(reportPresence, PRESENCE_RETRY_MS);
      }
      return;
    }
    if (frame.ref?.startsWith("typing:")) {
      return;
    }
    if (/^(edit|delete|react):\d+$/.test(frame.ref ?? "")) {
      if (!actions.failed(frame.ref, frame.message)) {
        showError(frame.message);
      }
      return;
    }
    if (frame.ref && outbox.has(frame.ref)) {
      if (!isPermanent(frame.code)) {
        // Refused for now, not for good: the message stays pending and goes again
        // (a signed-out socket's, only once the page has connected again).
        if (frame.code !== "unauthenticated") {
          retryLater(frame.ref, frame.retry_after);
        }
        return;
      }
      outbox.fail(frame.ref, frame.message);
      list.markFailed(frame.ref, frame.message);
    }
    if (frame.ref === slug) {
      resuming = false;
    }
    showError(frame.message);
  },
};
