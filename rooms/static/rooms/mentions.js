/**
 * @mention suggestions in the message box: typing "@" and the start of a name lists
 * the room's members whose username, or a word of whose display name, starts so.
 *
 * The keyboard drives it as a listbox tied to the box (aria-controls and
 * aria-activedescendant, the box keeping focus): Down and Up move through the people,
 * Enter or Tab puts "@username " in place of what was typed, Escape closes the list
 * and leaves the text alone. Its keys are caught before the composer's, so Enter picks
 * a person rather than sending. Names go in as text only.
 */

const DELAY_MS = 120;
// The "@" and what follows it up to the caret: at the start, or after a character that
// cannot be part of an address (so "mail@host" suggests no one).
const TYPING_MENTION = /(?:^|[^\p{L}\p{N}_.+@-])@([\p{L}\p{N}_.+-]{0,64})$/u;

export class MentionAutocomplete {
  #input;
  #list;
  #status;
  #url;
  #people = [];
  #active = -1;
  #start = -1;
  #timer = 0;
  #ticket = 0;

  /** `form` holds the message box and the listbox; `url` answers ?q= with members. */
  constructor(form, { url }) {
    this.#input = form.querySelector("textarea");
    this.#list = form.querySelector("[data-mention-list]");
    this.#status = form.querySelector("[data-mention-status]");
    this.#url = url;
    this.#input.setAttribute("aria-autocomplete", "list");
    this.#input.setAttribute("aria-controls", this.#list.id);
    this.#input.addEventListener("input", () => this.#schedule());
    this.#input.addEventListener("blur", () => this.close());
    // Capturing on the form: these keys reach the list before the composer sees them.
    form.addEventListener("keydown", (event) => this.#onKey(event), { capture: true });
    this.#list.addEventListener("mousedown", (event) => {
      // Keeps focus in the box; the click picks.
      event.preventDefault();
    });
    this.#list.addEventListener("click", (event) => {
      const option = event.target.closest("[role=option]");
      if (option) {
        this.#pick(Number(option.dataset.index));
      }
    });
  }

  get isOpen() {
    return !this.#list.hidden;
  }

  close() {
    clearTimeout(this.#timer);
    this.#ticket += 1;
    this.#people = [];
    this.#active = -1;
    this.#list.hidden = true;
    this.#list.replaceChildren();
    this.#input.removeAttribute("aria-activedescendant");
  }

  #schedule() {
    clearTimeout(this.#timer);
    const caret = this.#input.selectionStart;
    const match = TYPING_MENTION.exec(this.#input.value.slice(0, caret));
    if (!match || this.#input.selectionEnd !== caret) {
      this.close();
      return;
    }
    this.#start = caret - match[1].length - 1;
    this.#timer = setTimeout(() => this.#lookup(match[1]), DELAY_MS);
  }

  async #lookup(query) {
    const ticket = ++this.#ticket;
    let people;
    try {
      const response = await fetch(`${this.#url}?q=${encodeURIComponent(query)}`, {
        headers: { Accept: "application/json" },
      });
      if (!response.ok) {
        return;
      }
      people = (await response.json()).users;
    } catch {
      return; // offline: no suggestions, the text stays as typed
    }
    if (ticket !== this.#ticket || document.activeElement !== this.#input) {
      return;
    }
    this.#show(people);
  }

  #show(people) {
    if (!people.length) {
      this.close();
      this.#status.textContent = "No one in this room matches.";
      return;
    }
    this.#people = people;
    this.#list.replaceChildren(
      ...people.map((person, index) => {
        const option = document.createElement("li");
        option.id = `${this.#list.id}-${index}`;
        option.setAttribute("role", "option");
        option.dataset.index = String(index);
        const name = document.createElement("span");
        name.className = "mention-option-name";
        name.textContent = person.name;
        const username = document.createElement("span");
        username.className = "mention-option-username";
        username.textContent = `@${person.username}`;
        option.append(name, " ", username);
        return option;
      }),
    );
    this.#list.hidden = false;
    this.#status.textContent =
      people.length === 1
        ? "1 person matches: Enter to pick."
        : `${people.length} people match: arrows to choose, Enter to pick.`;
    this.#select(0);
  }

  #select(index) {
    const options = [...this.#list.children];
    this.#active = (index + options.length) % options.length;
    options.forEach((option, n) => option.setAttribute("aria-selected", String(n === this.#active)));
    const chosen = options[this.#active];
    this.#input.setAttribute("aria-activedescendant", chosen.id);
    chosen.scrollIntoView({ block: "nearest" });
  }

  #onKey(event) {
    if (event.target !== this.#input || !this.isOpen || event.isComposing) {
      return;
    }
    const handled = {
      ArrowDown: () => this.#select(this.#active + 1),
      ArrowUp: () => this.#select(this.#active - 1),
      Enter: () => this.#pick(this.#active),
      Tab: () => this.#pick(this.#active),
      Escape: () => this.close(),
    }[event.key];
    // Shift+Enter still breaks the line and Shift+Tab still leaves the box.
    if (handled && !(event.shiftKey && (event.key === "Enter" || event.key === "Tab"))) {
      event.preventDefault();
      event.stopPropagation();
      handled();
    }
  }

  /** Puts "@username " where "@" and the typed start of it were. */
  #pick(index) {
    const person = this.#people[index];
    if (!person) {
      return;
    }
    const value = this.#input.value;
    const caret = this.#input.selectionStart;
    const inserted = `@${person.username} `;
    this.#input.value = value.slice(0, this.#start) + inserted + value.slice(caret);
    const after = this.#start + inserted.length;
    this.#input.setSelectionRange(after, after);
    this.close();
    this.#status.textContent = `${person.name} mentioned.`;
    this.#input.dispatchEvent(new Event("input", { bubbles: true }));
  }
}
