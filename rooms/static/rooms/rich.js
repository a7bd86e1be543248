/**
 * What a stored message shows besides its author and time: its text, the quote of the
 * message it answers, its reactions, and the actions its reader may take on it.
 *
 * message.html is the one piece of HTML the page ever inserts. The server rendered the
 * Markdown with raw HTML off and sanitized the result to a handful of tags, with links
 * to http, https and mailto only (rooms/markdown.py), and the page's Content Security
 * Policy allows no inline script besides. Everything else (names, quotes, emoji) goes
 * in as text.
 */

const EXCERPT_LENGTH = 100;
const names = new Intl.ListFormat(undefined, { style: "long", type: "conjunction" });

/** The payload each message element was last drawn from. */
const shown = new WeakMap();

export function messageOf(element) {
  return shown.get(element);
}

/** Draws the parts of `message` that can change after it is stored. */
export function showRich(element, message, me) {
  shown.set(element, message);
  if (message.deleted) {
    // A deleted message keeps only its place: no editor, confirmation or picker.
    element.classList.remove("editing");
    for (const open of element.querySelectorAll("[data-editor], [data-confirm], [data-picker]")) {
      open.remove();
    }
  }
  // A continued message (same author, moments later) hides its name and time, but an
  // edited one still says so.
  element.classList.toggle("edited", Boolean(message.edited_at) && !message.deleted);
  // The payload is the same for every reader: each page marks its own reader's mentions.
  element.classList.toggle("mentions-me", (message.mentions ?? []).includes(me.id));
  showBody(element, message);
  for (const mention of element.querySelectorAll(".mention[data-user-id]")) {
    mention.classList.toggle("me", mention.dataset.userId === String(me.id));
  }
  showQuote(element.querySelector("[data-reply-quote]"), message.deleted ? null : message.reply_to);
  showReactions(element, message.deleted ? [] : (message.reactions ?? []), me);
  const stored = message.id !== undefined;
  const mine = message.author.id != null && message.author.id === me.id;
  element.querySelector("[data-tools]").hidden = !stored || Boolean(message.deleted);
  for (const tool of element.querySelectorAll('[data-tool="edit"], [data-tool="delete"]')) {
    tool.hidden = !mine;
  }
}

function showBody(element, message) {
  const body = element.querySelector("[data-body]");
  body.hidden = element.classList.contains("editing");
  body.classList.toggle("deleted", Boolean(message.deleted));
  body.classList.toggle("rich", !message.deleted && Boolean(message.html));
  if (message.deleted) {
    body.textContent = "message deleted";
  } else if (message.html) {
    body.innerHTML = message.html; // sanitized by the server: see the note above
  } else {
    body.textContent = message.body; // still being sent: as typed
  }
}

/** The first characters of a text, on one line, as the server quotes it. */
export function excerptOf(text) {
  const chars = [...text.split(/\s+/).filter(Boolean).join(" ")];
  if (chars.length <= EXCERPT_LENGTH) {
    return chars.join("");
  }
  return `${chars.slice(0, EXCERPT_LENGTH - 1).join("").trimEnd()}…`;
}

/** A reply's quote of its parent: a button that shows the parent. */
export function showQuote(button, quote) {
  button.hidden = !quote;
  if (!quote) {
    delete button.dataset.replyId;
    return;
  }
  button.dataset.replyId = quote.id;
  button.classList.toggle("deleted", quote.deleted);
  button.querySelector("[data-reply-quote-author]").textContent = quote.author.name;
  button.querySelector("[data-reply-quote-text]").textContent = quote.deleted
    ? "message deleted"
    : quote.excerpt;
}

/** A parent changed (edited, deleted): the quotes of it on screen follow. */
export function requote(list, parent) {
  for (const button of list.querySelectorAll(`[data-reply-id="${Number(parent.id)}"]`)) {
    const element = button.closest(".message");
    const message = messageOf(element);
    if (!message?.reply_to) {
      continue;
    }
    message.reply_to = {
      ...message.reply_to,
      deleted: Boolean(parent.deleted),
      excerpt: parent.deleted ? "" : excerptOf(parent.body),
    };
    showQuote(button, message.reply_to);
  }
}

/**
 * One chip per emoji: the emoji and its count; who reacted in its title (hover) and
 * accessible name (focus); pressed when the reader is among them. Focus stays on the
 * chip it was on when the chips are redrawn.
 */
export function showReactions(element, reactions, me) {
  const box = element.querySelector("[data-reactions]");
  const focused = box.contains(document.activeElement) ? document.activeElement.dataset.emoji : null;
  box.replaceChildren(...reactions.map((reaction) => chip(reaction, me)));
  box.hidden = reactions.length === 0;
  if (focused) {
    const again = [...box.children].find((button) => button.dataset.emoji === focused);
    (again ?? element.querySelector('[data-tool="react"]'))?.focus();
  }
}

function chip(reaction, me) {
  const mine = (reaction.user_ids ?? []).includes(me.id);
  const who = names.format(reaction.users);
  const button = document.createElement("button");
  button.type = "button";
  button.className = "reaction";
  button.dataset.emoji = reaction.emoji;
  button.setAttribute("aria-pressed", String(mine));
  button.title = `${who} reacted with ${reaction.emoji}`;
  button.setAttribute(
    "aria-label",
    `${reaction.emoji} ${reaction.count}: ${who}` + (mine ? ". Press to take yours back" : ""),
  );
  const emoji = document.createElement("span");
  emoji.className = "reaction-emoji";
  emoji.textContent = reaction.emoji;
  const count = document.createElement("span");
  count.className = "reaction-count";
  count.textContent = String(reaction.count);
  button.append(emoji, count);
  return button;
}
