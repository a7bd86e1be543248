/**
 * "Seen by …" under the newest message, in DMs and small rooms.
 *
 * The server gives the page the room's number of members and the read position of each
 * member who shares receipts; `receipt` events move them (or drop someone who stopped
 * sharing) and bring the number of members up to date, and a member who writes has
 * read up to what they wrote. Who has seen the
 * newest message is then counted here, for this reader: everyone but the reader and
 * the message's author. Up to three names show; more become "and N others", with the
 * whole list on hover and on focus (and always to a screen reader).
 */

// More names than this become "A, B and N others" (N is then at least 2).
const SHOWN_NAMES = 3;
const names = new Intl.ListFormat(undefined, { style: "long", type: "conjunction" });

export class SeenBy {
  #element;
  #list;
  #me;
  #members;
  #positions = new Map();

  /** `receipts` is the page's {members, read: [{user, seq}]}, or null: none here. */
  constructor(element, list, { me, receipts }) {
    this.#element = element;
    this.#list = list;
    this.#me = me;
    if (!receipts) {
      return;
    }
    this.#members = receipts.members;
    for (const { user, seq } of receipts.read) {
      this.#positions.set(user.id, { user, seq });
    }
    new MutationObserver(() => this.#render()).observe(list, { childList: true });
    this.#render();
  }

  /**
   * A receipt event: `user` has read up to `seq`, or (null) no longer shares; the room
   * now has `members` members.
   */
  note(user, seq, members = this.#members) {
    if (this.#members === undefined) {
      return;
    }
    this.#members = members;
    if (seq === null) {
      this.#positions.delete(user.id);
    } else {
      const known = this.#positions.get(user.id)?.seq ?? 0;
      this.#positions.set(user.id, { user, seq: Math.max(known, seq) });
    }
    this.#render();
  }

  /** Someone who shares receipts wrote a message: they have read up to it. */
  noteAuthor(message) {
    if (this.#positions.has(message.author.id)) {
      this.note(message.author, message.seq);
    }
  }

  #render() {
    const last = [...this.#list.querySelectorAll(".message[data-seq]")].at(-1);
    const seen = last ? this.#seenBy(Number(last.dataset.seq), last.dataset.author) : [];
    this.#element.hidden = seen.length === 0;
    if (!seen.length) {
      return;
    }
    const everyone = this.#members - 1 - (last.dataset.author === String(this.#me.id) ? 0 : 1);
    const full = `Seen by ${names.format(seen)}`;
    let short = full;
    if (seen.length === everyone && everyone > 1) {
      short = "Seen by everyone";
    } else if (seen.length > SHOWN_NAMES) {
      const named = SHOWN_NAMES - 1;
      short = `Seen by ${seen.slice(0, named).join(", ")} and ${seen.length - named} others`;
    }
    const collapsed = short !== full;
    this.#element.querySelector("[data-seen-short]").textContent = collapsed ? short : "";
    this.#element.querySelector("[data-seen-full]").textContent = full;
    this.#element.classList.toggle("collapsed", collapsed);
    // The whole list shows on focus too, so a keyboard can reach it.
    if (collapsed) {
      this.#element.tabIndex = 0;
    } else {
      this.#element.removeAttribute("tabindex");
    }
  }

  /** The names of the people other than the reader and `author` who read `seq`. */
  #seenBy(seq, author) {
    return [...this.#positions.values()]
      .filter(({ user, seq: read }) => {
        const id = String(user.id);
        return read >= seq && id !== author && id !== String(this.#me.id);
      })
      .map(({ user }) => user.name)
      .sort((a, b) => a.localeCompare(b));
  }
}
