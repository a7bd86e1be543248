/**
 * Which messages of the open room this page holds, and what it is missing.
 *
 * A room's seqs have no gaps, so the highest seq reached without a hole (lastSeq) is
 * exactly where to resume from, and holding anything newer than it means events were
 * lost on the way. Messages are keyed by id, so the ack, the live echo and a catch-up
 * answer for the same message count once.
 *
 * Changes to stored messages (edits, deletions, reactions) are numbered per room the
 * same way, without gaps, so lastChange is where to catch up on them from. Two server
 * processes may publish two changes in either order: a change seen early is kept
 * until the run reaches it, and one that never comes is asked for.
 */
export class Timeline {
  #ids = new Set();
  #seqs = new Set();
  #changes = new Set();
  lastSeq = 0;
  newestSeq = 0;
  oldestSeq = 0;
  lastChange = 0;

  /** `lastChange`: the room's change number when `messages` were read. */
  constructor(messages, lastChange) {
    this.reset(messages, lastChange);
  }

  /** Starts over from one contiguous page (oldest first), as embedded or reloaded. */
  reset(messages, lastChange) {
    this.#ids.clear();
    this.#seqs.clear();
    this.#changes.clear();
    const base = messages.length ? messages[0].seq - 1 : 0;
    this.lastSeq = base;
    this.newestSeq = base;
    this.oldestSeq = base + 1;
    this.lastChange = lastChange;
    for (const message of messages) {
      this.add(message);
    }
  }

  /** Records a stored message; false if it was already here. */
  add(message) {
    if (this.#ids.has(message.id)) {
      return false;
    }
    this.#ids.add(message.id);
    this.#seqs.add(message.seq);
    this.newestSeq = Math.max(this.newestSeq, message.seq);
    this.oldestSeq = Math.min(this.oldestSeq, message.seq);
    while (this.#seqs.has(this.lastSeq + 1)) {
      this.lastSeq += 1;
    }
    return true;
  }

  /** Records a change event's number. */
  addChange(change) {
    if (change > this.lastChange) {
      this.#changes.add(change);
      this.#advanceChanges();
    }
  }

  /** A catch-up answer holds every change up to `lastChange`. */
  caughtUpTo(lastChange) {
    this.lastChange = Math.max(this.lastChange, lastChange);
    this.#advanceChanges();
  }

  #advanceChanges() {
    while (this.#changes.has(this.lastChange + 1)) {
      this.lastChange += 1;
    }
    for (const change of this.#changes) {
      if (change <= this.lastChange) {
        this.#changes.delete(change);
      }
    }
  }

  get hasGap() {
    return this.newestSeq > this.lastSeq || this.#changes.size > 0;
  }
}
