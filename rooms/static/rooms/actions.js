/**
 * What a reader does to a stored message: reply, react, and on their own messages edit
 * and delete. Every control is a button in the message's toolbar (shown on hover and
 * whenever focus is inside the message), so the keyboard reaches all of it.
 *
 * - Edit opens an editor in place of the text: Enter saves, Shift+Enter breaks the
 *   line, Escape cancels. It stays open, saying "Saving…", until the server's answer
 *   comes back (then it closes) or an error does (then it says why, keeping the text).
 *   Typing "@" there suggests people to mention, as in the message box.
 * - Delete asks first, in place; Escape or Cancel keeps the message.
 * - React opens a small picker of common emoji, plus a box for any emoji. A reaction
 *   chip under the message toggles the reader's own reaction.
 * - A reply's quote takes the reader to the message it answers.
 *
 * The changes themselves come back as events (message_edited, message_deleted,
 * reactions) that app.js draws for everyone alike; this module only asks for them.
 */

import { MentionAutocomplete } from "./mentions.js";
import { messageOf } from "./rich.js";

const COMMON_EMOJI = ["👍", "❤️", "😂", "🎉", "😮", "😢", "👀", "🙏"];
const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });
const EMOJI = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u;

/** One emoji, as the server counts it (it has the last word). */
function isOneEmoji(text) {
  return [...graphemes.segment(text)].length === 1 && EMOJI.test(text);
}

function focusLater(element) {
  requestAnimationFrame(() => element?.focus());
}

export class MessageActions {
  #list;
  #me;
  #maxLength;
  #editorTemplate;
  #membersUrl;
  #confirmTemplate;
  #picker;
  #callbacks;

  /**
   * onReply(message), onEdit(id, body), onDelete(id), onReact(id, emoji, on) and
   * onJump(id) ask app.js to act.
   */
  constructor(root, { me, maxLength, onReply, onEdit, onDelete, onReact, onJump }) {
    this.#list = root.querySelector("[data-message-list]");
    this.#me = me;
    this.#maxLength = maxLength;
    this.#editorTemplate = root.querySelector("#message-editor-template");
    this.#membersUrl = root.dataset.membersUrl;
    this.#confirmTemplate = root.querySelector("#delete-confirm-template");
    this.#picker = root
      .querySelector("#reaction-picker-template")
      .content.firstElementChild.cloneNode(true);
    this.#callbacks = { onReply, onEdit, onDelete, onReact, onJump };
    this.#buildPicker();

    this.#list.addEventListener("click", (event) => this.#onClick(event));
    this.#list.addEventListener("keydown", (event) => this.#onKeydown(event));
    this.#list.addEventListener("submit", (event) => {
      if (event.target.matches("[data-editor]")) {
        event.preventDefault();
        this.#save(event.target.closest(".message"));
      }
    });
    document.addEventListener("click", (event) => {
      if (this.#picker.isConnected && !event.target.closest('[data-picker], [data-tool="react"]')) {
        this.#closePicker({ restoreFocus: false });
      }
    });
  }

  /** Members see reply and react; readers who have not joined only read. */
  setMember(isMember) {
    this.#list.toggleAttribute("data-member", isMember);
    if (!isMember) {
      this.#closePicker({ restoreFocus: false });
    }
  }

  /** The server has the new text: the editor (if one is saving it) closes. */
  edited(id) {
    const element = this.#element(id);
    if (element?.querySelector("[data-editor][data-saving]")) {
      this.#closeEditor(element);
    }
  }

  /**
   * An error frame whose ref is "edit:<id>", "delete:<id>" or "react:<id>" is shown
   * where the reader is acting; false if there is nowhere to show it.
   */
  failed(ref, text) {
    const [kind, id] = ref.split(":");
    const element = this.#element(Number(id));
    if (kind === "edit" && element?.querySelector("[data-editor]")) {
      this.#editorError(element, text);
      return true;
    }
    if (kind === "react" && this.#picker.closest(".message") === element && element) {
      this.#picker.querySelector("[data-picker-error]").textContent = text;
      return true;
    }
    return false;
  }

  #element(id) {
    return this.#list.querySelector(`.message[data-id="${Number(id)}"]`);
  }

  #onClick(event) {
    const target = event.target.closest(
      "[data-tool], .reaction, [data-reply-quote], [data-editor-cancel], [data-confirm-yes], [data-confirm-no], [data-picker-emoji]",
    );
    const element = target?.closest(".message");
    const message = element && messageOf(element);
    if (!message || message.id === undefined) {
      return;
    }
    if (target.matches("[data-tool]")) {
      this.#tool(target.dataset.tool, element, message, target);
    } else if (target.matches(".reaction")) {
      this.#callbacks.onReact(message.id, target.dataset.emoji, target.getAttribute("aria-pressed") !== "true");
    } else if (target.matches("[data-reply-quote]")) {
      this.#callbacks.onJump(Number(target.dataset.replyId));
    } else if (target.matches("[data-editor-cancel]")) {
      this.#closeEditor(element);
    } else if (target.matches("[data-confirm-yes]")) {
      this.#closeConfirm(element, { restoreFocus: false });
      element.tabIndex = -1;
      element.focus();
      this.#callbacks.onDelete(message.id);
    } else if (target.matches("[data-confirm-no]")) {
      this.#closeConfirm(element);
    } else if (target.matches("[data-picker-emoji]")) {
      this.#pick(element, message, target.dataset.pickerEmoji);
    }
  }

  #tool(tool, element, message, button) {
    if (tool === "reply") {
      this.#callbacks.onReply(message);
    } else if (tool === "react") {
      if (this.#picker.closest(".message") === element) {
        this.#closePicker();
      } else {
        this.#openPicker(element, button);
      }
    } else if (tool === "edit") {
      this.#openEditor(element, message);
    } else if (tool === "delete") {
      this.#openConfirm(element);
    }
  }

  #onKeydown(event) {
    if (event.target.matches("[data-editor] textarea")) {
      const element = event.target.closest(".message");
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.#save(element);
      } else if (event.key === "Escape") {
        event.preventDefault();
        this.#closeEditor(element);
      }
    } else if (event.key === "Escape" && event.target.closest("[data-confirm]")) {
      event.preventDefault();
      this.#closeConfirm(event.target.closest(".message"));
    } else if (event.key === "Escape" && event.target.closest("[data-picker]")) {
      event.preventDefault();
      this.#closePicker();
    }
  }

  // --- editing ---------------------------------------------------------------------

  #openEditor(element, message) {
    if (element.querySelector("[data-editor]")) {
      element.querySelector("[data-editor] textarea").focus();
      return;
    }
    this.#closeConfirm(element, { restoreFocus: false });
    const editor = this.#editorTemplate.content.firstElementChild.cloneNode(true);
    const input = editor.querySelector("textarea");
    const id = `edit-${message.id}`;
    input.id = id;
    editor.querySelector("label").htmlFor = id;
    editor.querySelector("[data-editor-hint]").id = `${id}-hint`;
    editor.querySelector("[data-editor-error]").id = `${id}-error`;
    input.setAttribute("aria-describedby", `${id}-hint ${id}-error`);
    editor.querySelector("[data-mention-list]").id = `${id}-mentions`;
    new MentionAutocomplete(editor, { url: this.#membersUrl });
    input.value = message.body;
    element.classList.add("editing");
    const body = element.querySelector("[data-body]");
    body.hidden = true;
    body.after(editor);
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  #save(element) {
    const editor = element.querySelector("[data-editor]");
    if (!editor || editor.hasAttribute("data-saving")) {
      return;
    }
    const message = messageOf(element);
    const body = editor.querySelector("textarea").value.trim();
    const length = [...body].length;
    if (!body) {
      this.#editorError(element, "A message needs some text. To remove it, use Delete.");
      return;
    }
    if (length > this.#maxLength) {
      this.#editorError(
        element,
        `This message is ${length.toLocaleString()} characters long; ` +
          `the limit is ${this.#maxLength.toLocaleString()}.`,
      );
      return;
    }
    if (body === message.body) {
      this.#closeEditor(element);
      return;
    }
    editor.toggleAttribute("data-saving", true);
    editor.querySelector("textarea").readOnly = true;
    editor.querySelector("[data-editor-error]").textContent = "";
    editor.querySelector("[data-editor-hint]").textContent = "Saving…";
    this.#callbacks.onEdit(message.id, body);
  }

  #editorError(element, text) {
    const editor = element.querySelector("[data-editor]");
    editor.removeAttribute("data-saving");
    const input = editor.querySelector("textarea");
    input.readOnly = false;
    editor.querySelector("[data-editor-hint]").textContent = "Enter to save, Escape to cancel";
    editor.querySelector("[data-editor-error]").textContent = text;
    input.focus();
  }

  #closeEditor(element) {
    element.querySelector("[data-editor]")?.remove();
    element.classList.remove("editing");
    element.querySelector("[data-body]").hidden = false;
    focusLater(element.querySelector('[data-tool="edit"]'));
  }

  // --- deleting --------------------------------------------------------------------

  #openConfirm(element) {
    if (!element.querySelector("[data-confirm]")) {
      const confirm = this.#confirmTemplate.content.firstElementChild.cloneNode(true);
      const question = confirm.querySelector("[data-confirm-question]");
      question.id = `delete-${element.dataset.id}-question`;
      confirm.setAttribute("aria-labelledby", question.id);
      element.querySelector("[data-tools]").after(confirm);
    }
    // The safe answer has the focus: Enter twice does not delete by accident.
    element.querySelector("[data-confirm-no]").focus();
  }

  #closeConfirm(element, { restoreFocus = true } = {}) {
    const confirm = element.querySelector("[data-confirm]");
    if (!confirm) {
      return;
    }
    confirm.remove();
    if (restoreFocus) {
      focusLater(element.querySelector('[data-tool="delete"]'));
    }
  }

  // --- reacting --------------------------------------------------------------------

  #buildPicker() {
    const common = this.#picker.querySelector("[data-picker-common]");
    for (const emoji of COMMON_EMOJI) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "picker-emoji";
      button.dataset.pickerEmoji = emoji;
      button.textContent = emoji;
      common.append(button);
    }
    const form = this.#picker.querySelector("[data-picker-form]");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const element = this.#picker.closest(".message");
      const text = form.querySelector("input").value.trim();
      if (!isOneEmoji(text)) {
        this.#picker.querySelector("[data-picker-error]").textContent =
          "Type or paste a single emoji.";
        return;
      }
      this.#pick(element, messageOf(element), text);
    });
  }

  #openPicker(element, button) {
    this.#closePicker({ restoreFocus: false });
    this.#picker.querySelector("input").value = "";
    this.#picker.querySelector("[data-picker-error]").textContent = "";
    // Emoji the reader already gave are pressed: picking one again takes it back.
    const mine = new Set(
      (messageOf(element).reactions ?? [])
        .filter((reaction) => (reaction.user_ids ?? []).includes(this.#me.id))
        .map((reaction) => reaction.emoji),
    );
    for (const choice of this.#picker.querySelectorAll("[data-picker-emoji]")) {
      choice.setAttribute("aria-pressed", String(mine.has(choice.dataset.pickerEmoji)));
    }
    element.querySelector("[data-tools]").after(this.#picker);
    button.setAttribute("aria-expanded", "true");
    this.#picker.querySelector("[data-picker-emoji]").focus();
  }

  #pick(element, message, emoji) {
    const mine = (message.reactions ?? []).some(
      (reaction) => reaction.emoji === emoji && (reaction.user_ids ?? []).includes(this.#me.id),
    );
    this.#closePicker();
    this.#callbacks.onReact(message.id, emoji, !mine);
  }

  #closePicker({ restoreFocus = true } = {}) {
    const element = this.#picker.closest(".message");
    if (!element) {
      return;
    }
    this.#picker.remove();
    const button = element.querySelector('[data-tool="react"]');
    button.setAttribute("aria-expanded", "false");
    if (restoreFocus) {
      focusLater(button);
    }
  }
}
