"""Each room's newest messages as ready payloads, kept per process.

When a server restarts or a network blips, every client of a room reconnects at once
and asks for the same few messages, and every page load and history request without a
cursor asks for the same newest page. Building those payloads (a query, the rows, each
message's payload) was the largest share of a reconnect's work (docs/performance.md),
so each process keeps, per room, the payloads of its newest CHAT_HISTORY_PAGE_SIZE
messages, and builds them once for everyone.

An entry is exact for the room's (last_seq, last_change): every caller has just read
the room's row, to authorize, and an entry made for other numbers is made again with
one query. Those numbers move with every new message and every change to one, in any
process. What they do not count is a user's display name, which payloads show: an
entry is also made again after SECONDS, so a new name shows within that long.

The payloads are shared: callers put them in frames and pages, and never change them.
"""

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from rooms import pages
from rooms.models import Room

SECONDS = 10.0
ROOMS = 256

Payload = dict[str, Any]


@dataclass(frozen=True)
class _Entry:
    last_seq: int
    last_change: int
    made_at: float
    # Oldest first: the newest messages up to last_seq, without gaps.
    payloads: tuple[Payload, ...]


_entries: OrderedDict[int, _Entry] = OrderedDict()
_lock = threading.Lock()


def newest(room: Room) -> Sequence[Payload]:
    """The payloads of the room's newest messages up to its last_seq, oldest first:
    CHAT_HISTORY_PAGE_SIZE of them, or all if it has fewer."""
    now = time.monotonic()
    with _lock:
        entry = _entries.get(room.pk)
        if (
            entry is not None
            and (entry.last_seq, entry.last_change) == (room.last_seq, room.last_change)
            and now - entry.made_at < SECONDS
        ):
            _entries.move_to_end(room.pk)
            return entry.payloads
    entry = _Entry(
        last_seq=room.last_seq,
        last_change=room.last_change,
        made_at=now,
        payloads=tuple(pages.history(room=room, before_seq=room.last_seq + 1)),
    )
    with _lock:
        _entries[room.pk] = entry
        _entries.move_to_end(room.pk)
        while len(_entries) > ROOMS:
            _entries.popitem(last=False)
    return entry.payloads


def history(
    *, room: Room, before_seq: int | None = None, limit: int | None = None
) -> list[Payload]:
    """pages.history's page, or the newest page if `before_seq` is None: that one
    from here."""
    limit = pages.page_limit(limit)
    if before_seq is None or before_seq > room.last_seq:
        return list(newest(room)[-limit:])
    return pages.history(room=room, before_seq=before_seq, limit=limit)


def after(*, room: Room, after_seq: int, limit: int) -> list[Payload]:
    """The payloads of the messages after `after_seq` up to the room's last_seq,
    oldest first, at most `limit`: from here when they are among the newest page,
    and nothing read at all when there are none."""
    missing = room.last_seq - after_seq
    if missing <= 0:
        return []
    if missing <= settings.CHAT_HISTORY_PAGE_SIZE:
        return list(newest(room)[-missing:][:limit])
    return pages.after(room=room, after_seq=after_seq, limit=limit)


def clear() -> None:
    """Forgets every entry (for tests: a room rolled back may come again, same id)."""
    with _lock:
        _entries.clear()
