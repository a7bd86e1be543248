/**
 * Which messages of the open room this page holds, and what it is missing.
 *
 * A room's seqs have no gaps, so the highest seq reached without a hole (lastSeq) is
 * exactly where to resume from, and holding anything newer than it means events were
 * lost on the way. Messages are keyed by id, so the ack, the live echo and a catch-up
 * answer for the same message count once.
 */
export class Timeline {
  #ids = new Set();
  #seqs = new Set();
  lastSeq = 0;
  newestSeq = 0;
  oldestSeq = 0;

  constructor(messages) {
    this.reset(messages);
  }

  /** Starts over from one contiguous page (oldest first), as embedded or reloaded. */
  reset(messages) {
    this.#ids.clear();
    this.#seqs.clear();
    const base = messages.length ? messages[0].seq - 1 : 0;
    this.lastSeq = base;
    this.newestSeq = base;
    this.oldestSeq = base + 1;
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

  get hasGap() {
    return this.newestSeq > this.lastSeq;
  }
}
