/**
 * Moderation on the room page. Each stored message gets a small menu: Report (someone
 * else's message) and, for the room's moderators, Delete. Both ask for a reason in a
 * dialog and post it to the server (rooms/moderation_views.py); a deletion then reaches
 * every open page, this one too, as a message_deleted event.
 *
 * The menus are added to message elements as they appear and change (a
 * MutationObserver), so the message list itself knows nothing of moderation.
 */

const localTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const EXCERPT_LENGTH = 140;

function start(root) {
  const list = root.querySelector("[data-message-list]");
  const template = document.getElementById("moderation-menu-template");
  const me = JSON.parse(document.getElementById("client-state").textContent).user;
  const canModerate = root.hasAttribute("data-can-moderate");
  const dialog = new ModerationDialog(root.querySelector("[data-moderation-dialog]"), {
    messagesUrl: root.dataset.messagesUrl,
    announcer: root.querySelector("[data-announcer]"),
  });

  // Times in the banner ("muted until …") in the reader's own time zone.
  for (const time of root.querySelectorAll("time[data-local-time]")) {
    time.textContent = localTime.format(new Date(time.dateTime));
  }

  let queued = false;
  const refresh = () => {
    queued = false;
    for (const element of list.querySelectorAll(".message")) {
      fitMenu(element, { template, me, canModerate });
    }
  };
  new MutationObserver(() => {
    if (!queued) {
      queued = true;
      queueMicrotask(refresh);
    }
  }).observe(list, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: ["data-id", "class"],
  });
  refresh();

  list.addEventListener("click", (event) => {
    const toggle = event.target.closest("[data-moderation-toggle]");
    const action = event.target.closest("[data-moderation-action]");
    if (toggle) {
      const menu = toggle.closest("[data-moderation-menu]");
      showMenu(menu, !menu.hasAttribute("data-open"));
    } else if (action) {
      showMenu(action.closest("[data-moderation-menu]"), false);
      dialog.open(action.dataset.moderationAction, action.closest(".message"));
    }
  });
  // Escape, or a click or focus elsewhere, closes the open menu.
  list.addEventListener("keydown", (event) => {
    const menu = event.target.closest?.("[data-moderation-menu][data-open]");
    if (event.key === "Escape" && menu) {
      showMenu(menu, false);
      menu.querySelector("[data-moderation-toggle]").focus();
    }
  });
  for (const kind of ["click", "focusin"]) {
    document.addEventListener(kind, (event) => {
      for (const menu of list.querySelectorAll("[data-moderation-menu][data-open]")) {
        if (!menu.contains(event.target)) {
          showMenu(menu, false);
        }
      }
    });
  }
}

/** Opens or closes a message's menu: one open at a time. */
function showMenu(menu, open) {
  if (open) {
    for (const other of document.querySelectorAll("[data-moderation-menu][data-open]")) {
      showMenu(other, false);
    }
  }
  menu.toggleAttribute("data-open", open);
  menu.querySelector("[data-moderation-toggle]").setAttribute("aria-expanded", String(open));
  menu.querySelector(".menu").hidden = !open;
}

/** Gives a message the menu its reader may use, or hides it when there is none. */
function fitMenu(element, { template, me, canModerate }) {
  const body = element.querySelector("[data-body]");
  const stored = element.dataset.id !== undefined && !element.classList.contains("pending");
  const deleted = body?.classList.contains("deleted") ?? false;
  const mine = element.dataset.author === String(me.id);
  const canReport = !mine;
  const wanted = stored && !deleted && (canReport || canModerate);
  let menu = element.querySelector("[data-moderation-menu]");
  if (!menu) {
    if (!wanted) {
      return;
    }
    menu = template.content.firstElementChild.cloneNode(true);
    // With the message's other tools (Reply, React…) where it has them.
    (element.querySelector("[data-tools]") ?? element).append(menu);
  }
  menu.hidden = !wanted;
  if (!wanted) {
    if (menu.hasAttribute("data-open")) {
      showMenu(menu, false);
    }
    return;
  }
  menu.querySelector('[data-moderation-action="report"]').parentElement.hidden = !canReport;
  menu.querySelector('[data-moderation-action="delete"]').parentElement.hidden = !canModerate;
  const author = element.querySelector("[data-author]")?.textContent ?? "";
  menu
    .querySelector("[data-moderation-toggle]")
    .setAttribute("aria-label", mine ? "Options for your message" : `Options for the message from ${author}`);
}

const TEXTS = {
  report: {
    title: "Report message",
    help: "Tell the moderators what is wrong with it. They will see that you reported it.",
    submit: "Report",
  },
  delete: {
    title: "Delete message",
    help: "Everyone in the room sees it as deleted at once. Your reason goes in the moderation log.",
    submit: "Delete",
  },
};

class ModerationDialog {
  #dialog;
  #form;
  #reason;
  #error;
  #submit;
  #messagesUrl;
  #announcer;
  #action = "";
  #message = null;

  constructor(dialog, { messagesUrl, announcer }) {
    this.#dialog = dialog;
    this.#form = dialog.querySelector("[data-moderation-form]");
    this.#reason = dialog.querySelector("textarea");
    this.#error = dialog.querySelector("[data-moderation-error]");
    this.#submit = dialog.querySelector("[data-moderation-submit]");
    this.#messagesUrl = messagesUrl;
    this.#announcer = announcer;
    this.#form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#send();
    });
    dialog.querySelector("[data-moderation-cancel]").addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => this.#returnFocus());
  }

  open(action, message) {
    const texts = TEXTS[action];
    this.#action = action;
    this.#message = message;
    this.#dialog.querySelector("[data-moderation-title]").textContent = texts.title;
    this.#dialog.querySelector("[data-moderation-help]").textContent = texts.help;
    const author = message.querySelector("[data-author]")?.textContent ?? "";
    const text = message.querySelector("[data-body]")?.textContent.trim() ?? "";
    const excerpt = text.length > EXCERPT_LENGTH ? `${text.slice(0, EXCERPT_LENGTH - 1)}…` : text;
    this.#dialog.querySelector("[data-moderation-quote]").textContent = `${author}: ${excerpt}`;
    this.#submit.textContent = texts.submit;
    this.#reason.value = "";
    this.#error.textContent = "";
    this.#dialog.showModal();
    this.#reason.focus();
  }

  async #send() {
    const url = `${this.#messagesUrl}${Number(this.#message.dataset.id)}/${this.#action}/`;
    this.#submit.disabled = true;
    this.#error.textContent = "";
    try {
      const response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        body: new FormData(this.#form), // carries the CSRF token too
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) {
        this.#error.textContent = data.error?.message ?? `The server answered ${response.status}.`;
        return;
      }
      this.#dialog.close();
      this.#announcer.textContent = data.message;
    } catch {
      this.#error.textContent = "Could not reach the server. Try again.";
    } finally {
      this.#submit.disabled = false;
    }
  }

  #returnFocus() {
    const toggle = this.#message?.querySelector(
      "[data-moderation-menu]:not([hidden]) [data-moderation-toggle]",
    );
    (toggle ?? document.querySelector("[data-scroller]"))?.focus();
  }
}

const root = document.querySelector("[data-chat]");
if (root) {
  start(root);
}
